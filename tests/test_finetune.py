import unicodedata
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer, TrainerCallback

from tweetbert.demo import write_tasks
from tweetbert.finetune import (
    Encoder,
    Finetuner,
    PaddingCollator,
    build_features,
    finetune,
    load_model,
    prepare_task,
    qa_answers,
    qa_features,
    score_split,
    weights_sha256,
)
from tweetbert.finetune.features import truncate_pair
from tweetbert.tasks import ProblemType, TaskData, get_task, load_task

PARAMS = {"learning_rate": 1e-3, "batch_size": 16, "epochs": 2, "warmup_ratio": 0.1, "weight_decay": 0.01}

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model_dir(tiny_base_model) -> Path:
    return tiny_base_model


@pytest.fixture(scope="module")
def demo_tasks(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tasks")
    write_tasks(out, seed=0)
    return out


def _subsample(task: TaskData, sizes: dict[str, int]) -> TaskData:
    splits = {split: examples[: sizes.get(split, len(examples))] for split, examples in task.splits.items()}
    return TaskData(task.name, task.problem_type, splits, task.sources, task.label_names)


@pytest.mark.parametrize("n_remove, first, second", [(0, 5, 3), (2, 5, 3), (3, 5, 3), (4, 4, 4), (5, 2, 7)])
def test_pair_truncation_matches_the_slow_tokenizer(model_dir, n_remove, first, second):
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    a, b = list(range(10, 10 + first)), list(range(50, 50 + second))
    expected = tokenizer.prepare_for_model(a, b, truncation="longest_first", max_length=first + second + 3 - n_remove,
                                           add_special_tokens=True)["input_ids"]
    kept_a, kept_b = truncate_pair(a, b, n_remove)
    assert [tokenizer.cls_token_id, *kept_a, tokenizer.sep_token_id, *kept_b, tokenizer.sep_token_id] == expected


def test_pair_encoding_equals_the_slow_tokenizer(model_dir, demo_tasks):
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    examples = load_task("jnli", {"path": str(demo_tasks / "jglue/jnli")})["train"][:40]
    for max_length in (128, 24):
        features = build_features(examples, ProblemType.SINGLE_LABEL, Encoder(model_dir, max_length))
        for example, feature in zip(examples, features):
            expected = tokenizer(example["text"], example["text_pair"], truncation=True, max_length=max_length,
                                 return_token_type_ids=True)
            assert feature["input_ids"] == expected["input_ids"]
            assert feature["token_type_ids"] == expected["token_type_ids"]
            assert isinstance(feature["labels"], int)


def test_single_texts_are_truncated_like_the_slow_tokenizer(model_dir, demo_tasks):
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    examples = load_task("sentiment3", {"path": str(demo_tasks / "sentiment3.csv")})["train"][:40]
    features = build_features(examples, ProblemType.SINGLE_LABEL, Encoder(model_dir, 10))
    for example, feature in zip(examples, features):
        assert feature["input_ids"] == tokenizer(example["text"], truncation=True, max_length=10)["input_ids"]


def test_multiple_choice_features_have_one_row_per_choice(model_dir, demo_tasks):
    examples = load_task("jcommonsenseqa", {"path": str(demo_tasks / "jglue/jcommonsenseqa")})["train"][:6]
    features = build_features(examples, ProblemType.MULTIPLE_CHOICE, Encoder(model_dir))
    batch = PaddingCollator(0)(features)
    n_choices = len(examples[0]["choices"])
    assert batch["input_ids"].shape[:2] == (6, n_choices)
    assert batch["input_ids"].shape == batch["attention_mask"].shape == batch["token_type_ids"].shape
    assert batch["labels"].dtype == torch.long and batch["labels"].tolist() == [e["label"] for e in examples]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    expected = tokenizer(examples[0]["text"], examples[0]["choices"][2])["input_ids"]
    assert batch["input_ids"][0, 2, : len(expected)].tolist() == expected
    assert batch["attention_mask"][0, 2].sum().item() == len(expected)


def test_multi_label_and_regression_labels_are_float(model_dir, demo_tasks):
    emotion = load_task("wrime_emotion", {"path": str(demo_tasks / "wrime.tsv")})
    batch = PaddingCollator(0)(build_features(emotion["train"][:4], ProblemType.MULTI_LABEL, Encoder(model_dir)))
    assert batch["labels"].dtype == torch.float32 and batch["labels"].shape == (4, emotion.num_labels)
    sentiment = load_task("wrime_sentiment", {"path": str(demo_tasks / "wrime.tsv")})
    batch = PaddingCollator(0)(build_features(sentiment["train"][:4], ProblemType.REGRESSION, Encoder(model_dir)))
    assert batch["labels"].dtype == torch.float32 and batch["labels"].shape == (4,)
    assert (batch["attention_mask"].sum(dim=1) == (batch["input_ids"] != 0).sum(dim=1)).all()


def test_token_spans_follow_nfkc_and_special_tokens(model_dir):
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    text = "ｶﾞｲﾄﾞは１９９１年に[SEP] 東京で\n会った。ｶﾞ"
    ids, spans = Encoder(model_dir).spans(text)
    assert ids == tokenizer(text, add_special_tokens=False)["input_ids"]
    for token, (start, end) in zip(tokenizer.convert_ids_to_tokens(ids), spans):
        if token != tokenizer.unk_token:
            assert unicodedata.normalize("NFKC", text[start:end]) == token.removeprefix("##")
    assert [text[a:b] for a, b in spans][-1] == "ｶﾞ"


def test_qa_windows_recover_the_answer_spans(model_dir, demo_tasks):
    examples = load_task("jsquad", {"path": str(demo_tasks / "jglue/jsquad")})["train"][:30]
    features, windows = qa_features(examples, Encoder(model_dir, max_length=48), stride=8)
    assert len(features) > len(examples)  # contexts longer than one window
    assert all(len(f["input_ids"]) <= 48 and len(f["token_type_ids"]) == len(f["input_ids"]) for f in features)
    answered = set()
    n = max(len(f["input_ids"]) for f in features)
    start_logits, end_logits = np.full((len(features), n), -5.0), np.full((len(features), n), -5.0)
    for row, (feature, window) in enumerate(zip(features, windows)):
        if feature["start_positions"]:
            example = examples[window.example]
            start = window.spans[feature["start_positions"] - window.context_start][0]
            end = window.spans[feature["end_positions"] - window.context_start][1]
            assert example["context"][start:end] == example["answers"]["text"][0]
            answered.add(window.example)
            start_logits[row, feature["start_positions"]] = end_logits[row, feature["end_positions"]] = 5.0
    assert answered == set(range(len(examples)))
    assert qa_answers(start_logits, end_logits, windows, examples) == [e["answers"]["text"][0] for e in examples]
    batch = PaddingCollator(0)(features[:4])
    assert batch["start_positions"].dtype == torch.long and batch["input_ids"].shape[0] == 4


def test_random_init_differs_from_the_pretrained_weights(model_dir):
    spec = get_task("sentiment3")
    pretrained = load_model(model_dir, spec, 3)
    random = load_model(model_dir, spec, 3, random_init=True)
    assert pretrained.config.problem_type == random.config.problem_type == "single_label_classification"
    assert pretrained.num_labels == random.num_labels == 3
    mlm = AutoModelForMaskedLM.from_pretrained(model_dir)
    name = "bert.embeddings.word_embeddings.weight"
    assert torch.equal(pretrained.state_dict()[name], mlm.state_dict()[name])
    assert not torch.equal(random.state_dict()[name], mlm.state_dict()[name])


class _Recorder(TrainerCallback):
    """What the trainer evaluates, batch by batch, and whether training had ended by then."""

    def __init__(self) -> None:
        self.evaluations: list[dict[str, float]] = []
        self.epochs: list[float] = []  # the (fractional) epoch of each evaluation
        self.seen: list[tuple[int, bool]] = []  # (examples in the evaluated split, training over)
        self.trained = False

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        self.evaluations.append(dict(metrics))
        self.epochs.append(state.epoch)

    def on_prediction_step(self, args, state, control, eval_dataloader=None, **kwargs):
        self.seen.append((len(eval_dataloader.dataset), self.trained))

    def on_train_end(self, args, state, control, **kwargs):
        self.trained = True


def test_epochs_are_scored_on_validation_and_dev_only_once_training_has_ended(model_dir, demo_tasks, tmp_path):
    spec = get_task("sentiment3")
    task = _subsample(load_task("sentiment3", {"path": str(demo_tasks / "sentiment3.csv")}),
                      {"train": 160, "validation": 20, "dev": 60, "test": 60})
    recorder = _Recorder()
    result = finetune(model_dir, task, spec, PARAMS, seed=0, output_dir=tmp_path / "run", callbacks=[recorder])
    assert [epoch["epoch"] for epoch in result["validation"]] == [1, 2]
    assert [e["eval_accuracy"] for e in recorder.evaluations] == [e["accuracy"] for e in result["validation"]]
    during = {size for size, over in recorder.seen if not over}
    after = {size for size, over in recorder.seen if over}
    assert during == {20} and after == {60}  # validation while training; dev only after it; test never
    assert result["objective"] == result["dev"]["accuracy"] and set(result["dev"]) == {"accuracy"}
    assert result["steps"] == 2 * 10
    assert len(result["train_loss"]) == 2 and result["train_loss"][1] < result["train_loss"][0]
    assert not any((tmp_path / "run").rglob("*.safetensors"))
    again = finetune(model_dir, task, spec, PARAMS, seed=0, output_dir=tmp_path / "again")
    assert again["validation"] == result["validation"] and again["dev"] == result["dev"]
    prepared = prepare_task(model_dir, task, spec)
    assert score_split(result["model"], prepared, "dev", seed=0, output_dir=tmp_path) == result["dev"]


def test_a_worker_reusing_its_model_gives_every_trial_the_result_of_a_fresh_load(model_dir, demo_tasks, tmp_path):
    """Same seed on CPU: a trial's numbers and weights do not depend on the trials its worker ran before it."""
    spec = get_task("sentiment3")
    task = _subsample(load_task("sentiment3", {"path": str(demo_tasks / "sentiment3.csv")}),
                      {"train": 64, "validation": 20, "dev": 20, "test": 20})
    configurations = [PARAMS, {**PARAMS, "learning_rate": 3e-3, "epochs": 1}, PARAMS]
    prepared = prepare_task(model_dir, task, spec)
    worker = Finetuner(model_dir, prepared, seed=0)
    for index, params in enumerate(configurations):
        reused = worker.run(params, output_dir=tmp_path / f"reused{index}")
        fresh = finetune(model_dir, task, spec, params, seed=0, output_dir=tmp_path / f"fresh{index}")
        assert reused["validation"] == fresh["validation"] and reused["dev"] == fresh["dev"]
        assert reused["train_loss"] == fresh["train_loss"] and reused["steps"] == fresh["steps"]
        assert weights_sha256(reused["model"]) == weights_sha256(fresh["model"])


class _StopAfterFirstEpoch(TrainerCallback):
    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        control.should_training_stop = True


def test_a_callback_can_stop_training_after_an_epoch(model_dir, demo_tasks, tmp_path):
    task = _subsample(load_task("sentiment3", {"path": str(demo_tasks / "sentiment3.csv")}),
                      {"train": 64, "dev": 20, "test": 20})
    result = finetune(model_dir, task, get_task("sentiment3"), PARAMS, seed=0, output_dir=tmp_path,
                      callbacks=[_StopAfterFirstEpoch()])
    assert len(result["validation"]) == 1 and result["steps"] == 4


def _scored_three_times_per_epoch(model_dir, demo_tasks, tmp_path, pruner):
    import optuna

    from tweetbert.sweep.callback import OptunaReportCallback

    task = _subsample(load_task("sentiment3", {"path": str(demo_tasks / "sentiment3.csv")}),
                      {"train": 160, "validation": 20, "dev": 20, "test": 20})  # 10 optimiser steps per epoch
    trial = optuna.create_study(direction="maximize", pruner=pruner).ask()
    report, recorder = OptunaReportCallback(trial, "accuracy", evaluations_per_epoch=3), _Recorder()
    result = finetune(model_dir, task, get_task("sentiment3"), PARAMS, seed=0, output_dir=tmp_path,
                      callbacks=[report, recorder], evaluations_per_epoch=3)
    return trial, report, recorder, result


def test_validation_is_scored_k_times_per_epoch_and_the_records_keep_one_row_per_epoch(model_dir, demo_tasks,
                                                                                         tmp_path):
    import optuna

    trial, _, recorder, result = _scored_three_times_per_epoch(model_dir, demo_tasks, tmp_path,
                                                               optuna.pruners.NopPruner())
    reported = trial.storage.get_trial(trial._trial_id).intermediate_values
    assert sorted(reported) == [1, 2, 3, 4, 5, 6]  # 3 scores x 2 epochs, at steps 4, 7, 10, 14, 17, 20
    assert recorder.epochs == pytest.approx([0.4, 0.7, 1.0, 1.4, 1.7, 2.0])
    assert [epoch["epoch"] for epoch in result["validation"]] == [1, 2]
    assert [epoch["accuracy"] for epoch in result["validation"]] == [reported[3], reported[6]]
    assert result["steps"] == 20 and len(result["train_loss"]) == 2
    once = finetune(model_dir, _subsample(load_task("sentiment3", {"path": str(demo_tasks / "sentiment3.csv")}),
                                          {"train": 160, "validation": 20, "dev": 20, "test": 20}),
                    get_task("sentiment3"), PARAMS, seed=0, output_dir=tmp_path / "once")
    assert once["validation"] == result["validation"] and once["dev"] == result["dev"]  # scoring leaves training be


def test_a_pruned_trial_stops_mid_epoch_without_scoring_the_partial_epoch_again(model_dir, demo_tasks, tmp_path):
    import optuna

    pruner = optuna.pruners.ThresholdPruner(lower=2.0, n_warmup_steps=2)  # prunes at the second score
    trial, report, recorder, result = _scored_three_times_per_epoch(model_dir, demo_tasks, tmp_path, pruner)
    assert report.pruned_at == 2 and result["steps"] == 7  # 2/3 of the first epoch's 10 steps
    assert sorted(trial.storage.get_trial(trial._trial_id).intermediate_values) == [1, 2]
    assert recorder.epochs == pytest.approx([0.4, 0.7])  # not the partial epoch's end once more
    assert result["validation"] == []
    with pytest.raises(optuna.TrialPruned, match="evaluation 2"):
        report.raise_if_pruned()


def test_evaluations_per_epoch_must_be_a_positive_integer(model_dir, demo_tasks, tmp_path):
    task = load_task("sentiment3", {"path": str(demo_tasks / "sentiment3.csv")})
    with pytest.raises(ValueError, match="evaluations_per_epoch"):
        finetune(model_dir, task, get_task("sentiment3"), PARAMS, seed=0, output_dir=tmp_path, evaluations_per_epoch=0)


@pytest.mark.parametrize("name, path", [("wrime_emotion", "wrime.tsv"), ("jcommonsenseqa", "jglue/jcommonsenseqa"),
                                        ("jsquad", "jglue/jsquad")])
def test_finetune_runs_every_head(model_dir, demo_tasks, tmp_path, name, path):
    spec = get_task(name)
    task = _subsample(load_task(name, {"path": str(demo_tasks / path)}), {"train": 32, "dev": 30, "test": 8})
    result = finetune(model_dir, task, spec, {**PARAMS, "epochs": 1}, seed=0, output_dir=tmp_path, max_length=48,
                      stride=8)
    assert list(result["validation"][0]) == ["epoch", "loss", *spec.metrics]
    assert list(result["dev"]) == list(spec.metrics)
    n_train = len(qa_features(task["train"], Encoder(model_dir, 48), 8)[0]) if name == "jsquad" else 32
    assert result["steps"] == -(-n_train // PARAMS["batch_size"])


def test_finetune_rejects_incomplete_params(model_dir, demo_tasks, tmp_path):
    task = load_task("sentiment3", {"path": str(demo_tasks / "sentiment3.csv")})
    with pytest.raises(ValueError, match="missing"):
        finetune(model_dir, task, get_task("sentiment3"), {"learning_rate": 1e-3}, seed=0, output_dir=tmp_path)
