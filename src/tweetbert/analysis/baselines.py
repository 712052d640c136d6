"""Chance and majority baselines of each downstream task, from the task's own test split.

A benchmark score means little without the floor it must clear: 19.3 % on five-way JCommonsenseQA is below
guessing, a macro F1 of 0 on WRIME emotion is what predicting "no emotion" everywhere scores, and a Pearson of
0.03 on JSTS is no association at all. The downstream table shows two floors per task so such scores stand out:

- **majority**: one constant prediction for every test example (the most frequent test label, each label's majority
  value, the train mean, the most frequent answer position), scored by the task's own metric functions
  (:func:`tweetbert.tasks.metrics.compute_metrics`), so the floor is exactly what that metric gives a constant;
- **chance**: the expected score of uniform random guessing — analytic where it is exact (1/k accuracy, MCC and
  correlations 0, QA 0), a seeded simulation where the expectation of a ratio has no closed form (multi-label F1 of
  random 50 % yes/no decisions).

Extractive QA has no majority answer (answers are spans of each example's own context): its majority is left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from tweetbert.tasks.metrics import compute_metrics, multilabel_f1
from tweetbert.tasks.types import Example, ProblemType, TaskData

CHANCE = "chance"
MAJORITY = "majority"
BASELINES = (CHANCE, MAJORITY)

DRAWS = 1000
"""Random draws of the simulated chance scores: the mean's standard error is then ~0.1 % of a typical F1."""
SEED = 0
"""Fixed, so the table (and its at-or-below-chance markers) are byte-identical run to run."""

Baselines = dict[str, dict[str, float]]
"""``{"chance": {metric: score}, "majority": {metric: score}}``; a metric without a defined baseline is absent."""


def _most_frequent(values: Sequence[int]) -> int:
    """The most frequent value; ties go to the smallest, so the choice does not depend on example order."""
    counts = Counter(int(value) for value in values)
    return min(counts, key=lambda value: (-counts[value], value))


def _one_hot(n: int, width: int, position: int) -> np.ndarray:
    """Logits whose argmax is ``position`` in every row: a constant prediction as the metrics decode outputs."""
    outputs = np.zeros((n, width))
    outputs[:, position] = 1.0
    return outputs


def _n_classes(data: TaskData) -> int:
    """The label count: the task's label names, else the distinct labels seen in any split."""
    if data.label_names:
        return len(data.label_names)
    return len({int(example["label"]) for examples in data.splits.values() for example in examples})


def _single_label(data: TaskData, test: list[Example], metrics: Sequence[str]) -> Baselines:
    """Chance: a uniform guess among k classes is right 1/k of the time and uncorrelated with gold (MCC 0)."""
    k = _n_classes(data)
    majority = _most_frequent([example["label"] for example in test])
    chance = {"accuracy": 1.0 / k, "mcc": 0.0}
    return {CHANCE: {name: chance[name] for name in metrics if name in chance},
            MAJORITY: compute_metrics(metrics, _one_hot(len(test), max(k, majority + 1), majority), test)}


def _multiple_choice(test: list[Example], metrics: Sequence[str]) -> Baselines:
    """Chance: a uniform pick among an example's n choices is right 1/n of the time (averaged, should n vary)."""
    width = max(len(example["choices"]) for example in test)
    majority = _most_frequent([example["label"] for example in test])
    chance = {"accuracy": float(np.mean([1.0 / len(example["choices"]) for example in test]))}
    return {CHANCE: {name: chance[name] for name in metrics if name in chance},
            MAJORITY: compute_metrics(metrics, _one_hot(len(test), width, majority), test)}


def _regression(train: list[Example], test: list[Example], metrics: Sequence[str]) -> Baselines:
    """Majority: the train mean for everyone; a constant has no correlation, which the metrics score 0.

    Chance: random guesses are independent of gold, so the expected correlation is 0.
    """
    source = train or test
    mean = float(np.mean([float(example["label"]) for example in source]))
    chance = {"pearson": 0.0, "spearman": 0.0}
    return {CHANCE: {name: chance[name] for name in metrics if name in chance},
            MAJORITY: compute_metrics(metrics, np.full(len(test), mean), test)}


def _top1_chance(test: list[Example]) -> float:
    """A uniformly random top emotion is right with probability (#strongest emotions) / (#emotions), averaged
    over the examples that have a gold emotion (the metric leaves the others out)."""
    intensities = np.array([example["intensities"] for example in test], dtype=float)
    strongest = intensities.max(axis=1)
    has_emotion = strongest > 0
    if not has_emotion.any():
        return float("nan")
    ties = (intensities == strongest[:, None]).sum(axis=1)
    return float(np.mean(ties[has_emotion] / intensities.shape[1]))


def simulated_multilabel_f1(gold: np.ndarray, average: str, draws: int = DRAWS, seed: int = SEED) -> float:
    """Mean F1 of ``draws`` sets of random 50 % yes/no decisions against ``gold`` (n x labels).

    Simulated rather than derived: F1 is a ratio of counts, and the expectation of a ratio is not the ratio of the
    expectations (macro F1 also skips labels no side has). A fixed seed keeps the table reproducible.
    """
    rng = np.random.default_rng(seed)
    scores = [multilabel_f1(rng.random(gold.shape) < 0.5, gold, average) for _ in range(draws)]
    return float(np.mean(scores))


def _multi_label(test: list[Example], metrics: Sequence[str], draws: int, seed: int) -> Baselines:
    """Majority: each label's majority value in test (a tie says yes), as logits ``share - 0.5`` constant over
    examples, so the top-1 emotion is the label that is most often yes. Chance: random 50 % decisions."""
    gold = np.array([example["labels"] for example in test], dtype=float)
    share = gold.mean(axis=0)
    outputs = np.tile(share - 0.5, (len(test), 1))
    majority = compute_metrics(metrics, outputs, test)
    chance: dict[str, float] = {}
    for name in metrics:
        if name in ("micro_f1", "macro_f1"):
            chance[name] = simulated_multilabel_f1(gold, name.removesuffix("_f1"), draws, seed)
        elif name == "top1_accuracy":
            chance[name] = _top1_chance(test)
    return {CHANCE: chance, MAJORITY: majority}


def task_baselines(data: TaskData, metrics: Sequence[str], *, draws: int = DRAWS, seed: int = SEED) -> Baselines:
    """Chance and majority scores of each of ``metrics`` on ``data``'s test split (majority regression: train mean).

    Extractive QA: chance 0 (a random span practically never matches), majority not applicable (absent).
    """
    test = data["test"]
    if not test:
        raise ValueError(f"task {data.name}: no test examples to compute baselines on")
    kind = data.problem_type
    if kind is ProblemType.SINGLE_LABEL:
        return _single_label(data, test, metrics)
    if kind is ProblemType.MULTIPLE_CHOICE:
        return _multiple_choice(test, metrics)
    if kind is ProblemType.REGRESSION:
        return _regression(data["train"], test, metrics)
    if kind is ProblemType.MULTI_LABEL:
        return _multi_label(test, metrics, draws, seed)
    if kind is ProblemType.EXTRACTIVE_QA:
        return {CHANCE: {name: 0.0 for name in metrics if name in ("exact_match", "f1")}, MAJORITY: {}}
    raise ValueError(f"task {data.name}: no baselines for problem type {kind}")


def load_baselines(task_options: Mapping[str, Mapping[str, object]]) -> dict[str, Baselines]:
    """Each task's baselines, its data loaded as fine-tuning loads it (same options, so the same test split)."""
    from tweetbert.tasks.registry import get_task, load_task

    result = {}
    for name, options in task_options.items():
        spec = get_task(name)
        result[name] = task_baselines(load_task(name, options), spec.metrics)
    return result


def floor(baselines: Baselines, metric: str) -> float | None:
    """The higher of the chance and majority score of ``metric``; None where neither is defined."""
    values = [baselines.get(kind, {}).get(metric) for kind in BASELINES]
    defined = [float(value) for value in values if value is not None and not np.isnan(value)]
    return max(defined) if defined else None
