"""Downstream metrics in plain numpy, each small enough to check by hand.

Two layers: functions on decoded predictions (``accuracy(predicted_ids, gold_ids)``), and :data:`METRICS`, which
decodes a head's raw outputs and reads the gold values from the task's examples, so every task is scored by
``compute_metrics(spec.metrics, outputs, examples)``. Raw outputs are logits — argmax for classification and
multiple choice, ≥ 0 (sigmoid ≥ 0.5) for multi-label decisions, the single value for regression — and the
predicted answer strings for extractive QA. Every metric is "higher is better".
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from tweetbert.tasks.types import Example


def _pair(predicted: ArrayLike, gold: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p, g = np.asarray(predicted), np.asarray(gold)
    if len(p) != len(g):
        raise ValueError(f"{len(p)} predictions for {len(g)} gold values")
    if not len(g):
        raise ValueError("no examples to score")
    return p, g


def accuracy(predicted: ArrayLike, gold: ArrayLike) -> float:
    p, g = _pair(predicted, gold)
    return float(np.mean(p == g))


def pearson(predicted: ArrayLike, gold: ArrayLike) -> float:
    """Pearson's r; 0 where either side is constant (no evidence of association, and a sweep cannot rank NaN)."""
    p, g = _pair(predicted, gold)
    p, g = p.astype(float), g.astype(float)
    if np.ptp(p) == 0 or np.ptp(g) == 0:
        return 0.0
    p, g = p - p.mean(), g - g.mean()
    return float(np.clip((p @ g) / np.sqrt((p @ p) * (g @ g)), -1.0, 1.0))


def spearman(predicted: ArrayLike, gold: ArrayLike) -> float:
    """Pearson's r of the ranks, ties sharing their average rank."""
    from scipy.stats import rankdata  # here, not at the top: scipy.stats adds 1.3 s to every fine-tuning job's start

    p, g = _pair(predicted, gold)
    return pearson(rankdata(p), rankdata(g))


def matthews_corrcoef(predicted: ArrayLike, gold: ArrayLike) -> float:
    """MCC (the multi-class form, equal to the binary one for two classes); 0 where a side has one class only."""
    p, g = _pair(predicted, gold)
    classes, codes = np.unique(np.concatenate([p, g]), return_inverse=True)
    confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(confusion, (codes[len(p):], codes[:len(p)]), 1)
    n, correct = confusion.sum(), np.trace(confusion)
    gold_counts, predicted_counts = confusion.sum(axis=1), confusion.sum(axis=0)
    denominator = np.sqrt(float(n * n - predicted_counts @ predicted_counts) * float(n * n - gold_counts @ gold_counts))
    return float((correct * n - predicted_counts @ gold_counts) / denominator) if denominator else 0.0


def _f1(tp: float, fp: float, fn: float) -> float:
    return 2.0 * tp / (2.0 * tp + fp + fn) if tp + fp + fn else 0.0


def multilabel_f1(predicted: ArrayLike, gold: ArrayLike, average: str) -> float:
    """F1 of the yes/no decisions: ``micro`` pools every decision, ``macro`` averages the per-label F1.

    The macro mean is over the labels that occur, in gold or predicted: a label neither has (Anger in a small
    carved WRIME split, say) has no F1, and scoring it 0, as scikit-learn does by default, would cap perfect
    predictions at 7/8. With no label anywhere every decision was a right "no": 1.
    """
    p, g = _pair(predicted, gold)
    p, g = p.astype(bool), g.astype(bool)
    tp, fp, fn = (p & g).sum(axis=0), (p & ~g).sum(axis=0), (~p & g).sum(axis=0)
    if average == "micro":
        return _f1(tp.sum(), fp.sum(), fn.sum())
    if average == "macro":
        scores = [_f1(*counts) for counts in zip(tp, fp, fn) if sum(counts)]
        return float(np.mean(scores)) if scores else 1.0
    raise ValueError(f"average must be 'micro' or 'macro', got {average!r}")


def top1_accuracy(scores: ArrayLike, intensities: ArrayLike) -> float:
    """Share of examples whose highest-scored emotion is a strongest gold emotion.

    Ties are deterministic: equal scores go to the first emotion in column order (Plutchik order in WRIME); a
    prediction matching any of several equally strongest gold emotions counts as right. Examples with no gold
    emotion at all have no strongest emotion and are left out.
    """
    s, gold = _pair(scores, intensities)
    predicted = np.argmax(s, axis=1)
    strongest = gold.max(axis=1)
    has_emotion = strongest > 0
    if not has_emotion.any():
        raise ValueError("no example has a gold emotion")
    correct = gold[np.arange(len(gold)), predicted] == strongest
    return float(np.mean(correct[has_emotion]))


def normalize_answer(text: str) -> str:
    """NFKC, lower case, whitespace and punctuation removed: answers differing only in width or spacing match."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if not c.isspace() and not unicodedata.category(c).startswith("P"))


def exact_match(prediction: str, answer: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(answer))


def char_f1(prediction: str, answer: str) -> float:
    """F1 over the characters two answers share (as multisets): Japanese has no spaces to split words on."""
    p, g = normalize_answer(prediction), normalize_answer(answer)
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    return 2.0 * common / (len(p) + len(g))


def best_over_answers(score: Callable[[str, str], float], predictions: Sequence[str],
                      answers: Sequence[Sequence[str]]) -> float:
    """Mean over questions of the best score against any gold answer (an unanswerable question's answer is "")."""
    if len(predictions) != len(answers):
        raise ValueError(f"{len(predictions)} predictions for {len(answers)} questions")
    if not answers:
        raise ValueError("no examples to score")
    return float(np.mean([max(score(p, a) for a in (gold or [""])) for p, gold in zip(predictions, answers)]))


Metric = Callable[[Any, Sequence[Example]], float]


def _field(examples: Iterable[Example], key: str) -> np.ndarray:
    return np.array([example[key] for example in examples])


def _answers(examples: Iterable[Example]) -> list[list[str]]:
    return [example["answers"]["text"] for example in examples]


def _decisions(outputs: ArrayLike) -> np.ndarray:
    return np.asarray(outputs, dtype=float) >= 0.0


def _regression(outputs: ArrayLike) -> np.ndarray:
    return np.asarray(outputs, dtype=float).reshape(-1)


METRICS: dict[str, Metric] = {
    "accuracy": lambda outputs, examples: accuracy(np.argmax(outputs, axis=-1), _field(examples, "label")),
    "mcc": lambda outputs, examples: matthews_corrcoef(np.argmax(outputs, axis=-1), _field(examples, "label")),
    "pearson": lambda outputs, examples: pearson(_regression(outputs), _field(examples, "label")),
    "spearman": lambda outputs, examples: spearman(_regression(outputs), _field(examples, "label")),
    "top1_accuracy": lambda outputs, examples: top1_accuracy(outputs, _field(examples, "intensities")),
    "micro_f1": lambda outputs, examples: multilabel_f1(_decisions(outputs), _field(examples, "labels"), "micro"),
    "macro_f1": lambda outputs, examples: multilabel_f1(_decisions(outputs), _field(examples, "labels"), "macro"),
    "exact_match": lambda outputs, examples: best_over_answers(exact_match, outputs, _answers(examples)),
    "f1": lambda outputs, examples: best_over_answers(char_f1, outputs, _answers(examples)),
}


def compute_metrics(names: Iterable[str], outputs: Any, examples: Sequence[Example]) -> dict[str, float]:
    """Each named metric of a head's raw outputs against the examples they were predicted for."""
    names = list(names)
    unknown = [name for name in names if name not in METRICS]
    if unknown:
        raise KeyError(f"unknown metrics {unknown} (known: {sorted(METRICS)})")
    return {name: METRICS[name](outputs, examples) for name in names}
