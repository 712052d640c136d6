"""Chance and majority baselines of a task's test split, on small generated tasks checked by hand."""

import numpy as np
import pytest

from tweetbert.analysis.baselines import CHANCE, MAJORITY, floor, simulated_multilabel_f1, task_baselines
from tweetbert.tasks.types import SPLITS, ProblemType, TaskData


def task(problem_type: ProblemType, test: list[dict], train: list[dict] | None = None,
         label_names: list[str] | None = None) -> TaskData:
    splits = {split: [] for split in SPLITS} | {"train": train or [], "test": test}
    return TaskData("generated", problem_type, splits, {split: split for split in SPLITS}, label_names)


def test_three_classes_chance_is_a_third_and_majority_the_most_frequent_class():
    test = [{"text": "t", "label": label} for label in (0, 1, 1, 1, 2, 2)]
    result = task_baselines(task(ProblemType.SINGLE_LABEL, test, label_names=["a", "b", "c"]), ["accuracy", "mcc"])
    assert result[CHANCE] == {"accuracy": pytest.approx(1 / 3), "mcc": 0.0}
    assert result[MAJORITY] == {"accuracy": 0.5, "mcc": 0.0}  # always class 1: 3 of 6 right, a constant has no MCC


def test_a_class_no_test_example_has_still_counts_for_chance():
    test = [{"text": "t", "label": 0}, {"text": "t", "label": 0}]
    result = task_baselines(task(ProblemType.SINGLE_LABEL, test, label_names=list("abcd")), ["accuracy"])
    assert result[CHANCE]["accuracy"] == 0.25 and result[MAJORITY]["accuracy"] == 1.0


def test_five_choices_chance_is_a_fifth_and_majority_the_most_frequent_position():
    test = [{"text": "q", "choices": list("abcde"), "label": label} for label in (0, 3, 3, 1, 4, 3, 2, 0)]
    result = task_baselines(task(ProblemType.MULTIPLE_CHOICE, test), ["accuracy"])
    assert result[CHANCE] == {"accuracy": pytest.approx(0.2)}
    assert result[MAJORITY] == {"accuracy": 3 / 8}


def test_regression_chance_and_train_mean_score_zero_correlation():
    train = [{"text": "t", "label": value} for value in (1.0, 2.0, 3.0)]
    test = [{"text": "t", "label": value} for value in (0.5, 4.0, 2.5, 1.0)]
    result = task_baselines(task(ProblemType.REGRESSION, test, train), ["pearson", "spearman"])
    assert result == {CHANCE: {"pearson": 0.0, "spearman": 0.0}, MAJORITY: {"pearson": 0.0, "spearman": 0.0}}


def multi_label_test() -> list[dict]:
    rng = np.random.default_rng(3)
    intensities = rng.integers(0, 3, size=(40, 4)) * (rng.random((40, 4)) < [0.8, 0.3, 0.2, 0.1])
    return [{"text": "t", "labels": (row >= 1).astype(float).tolist(), "intensities": row.tolist()}
            for row in intensities]


def test_multi_label_majority_predicts_each_labels_majority_value():
    test = multi_label_test()
    gold = np.array([example["labels"] for example in test])
    majority = gold.mean(axis=0) >= 0.5
    result = task_baselines(task(ProblemType.MULTI_LABEL, test), ["top1_accuracy", "micro_f1", "macro_f1"])
    tp, fp, fn = (gold * majority).sum(), ((1 - gold) * majority).sum(), (gold * ~majority).sum()
    assert result[MAJORITY]["micro_f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert majority.tolist() == [True, False, False, False]  # only the first label is mostly yes
    strongest = np.array([example["intensities"] for example in test])
    has = strongest.max(axis=1) > 0
    # top-1: always the most frequent label (the first), right where it is a strongest one
    assert result[MAJORITY]["top1_accuracy"] == pytest.approx(
        np.mean(strongest[has, 0] == strongest[has].max(axis=1)))


def test_multi_label_chance_is_random_half_guesses_seeded_and_reproducible():
    test = multi_label_test()
    first = task_baselines(task(ProblemType.MULTI_LABEL, test), ["micro_f1", "macro_f1"], draws=200)
    again = task_baselines(task(ProblemType.MULTI_LABEL, test), ["micro_f1", "macro_f1"], draws=200)
    assert first == again
    gold = np.array([example["labels"] for example in test])
    # Random 50 % decisions: precision ≈ the share of yes labels, recall ≈ 0.5, so F1 ≈ 2pr / (p + r).
    share = gold.mean()
    assert first[CHANCE]["micro_f1"] == pytest.approx(2 * share * 0.5 / (share + 0.5), abs=0.03)
    assert 0 < first[CHANCE]["macro_f1"] < 1
    assert simulated_multilabel_f1(np.ones((10, 2)), "micro", draws=500) == pytest.approx(2 / 3, abs=0.03)


def test_extractive_qa_has_chance_zero_and_no_majority():
    test = [{"id": "1", "title": "", "question": "q", "context": "c", "answers": {"text": ["c"], "answer_start": [0]}}]
    result = task_baselines(task(ProblemType.EXTRACTIVE_QA, test), ["exact_match", "f1"])
    assert result == {CHANCE: {"exact_match": 0.0, "f1": 0.0}, MAJORITY: {}}


def test_floor_is_the_higher_baseline_and_none_without_one():
    assert floor({CHANCE: {"accuracy": 0.2}, MAJORITY: {"accuracy": 0.375}}, "accuracy") == 0.375
    assert floor({CHANCE: {"f1": 0.0}, MAJORITY: {}}, "f1") == 0.0
    assert floor({CHANCE: {}, MAJORITY: {}}, "f1") is None


def test_an_empty_test_split_is_an_error():
    with pytest.raises(ValueError, match="no test examples"):
        task_baselines(task(ProblemType.SINGLE_LABEL, [], label_names=["a"]), ["accuracy"])
