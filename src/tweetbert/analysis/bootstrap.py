"""Paired bootstrap intervals: how far a test score, or the gap between two models, could move on another test set.

Test sets of the study's tasks hold 150 to 2,500 items, so one number hides several points of noise. Each task's
test items are resampled with replacement ``resamples`` times (seeded by the run's seed and the task's name); every
model is scored on the same resamples, so the difference between two models is resampled as a pair and keeps what
they share. Intervals are the 2.5th and 97.5th percentiles (the percentile bootstrap).
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tweetbert.errors import InputError
from tweetbert.tasks.predictions import Predictions, read_predictions

LEVEL = 0.95
MEAN_METRICS = frozenset({"accuracy", "exact_match", "f1"})
"""Metrics that are means of per-item scores: resampled from the item scores at once, not recomputed per resample."""
INTERVAL_COLUMNS = ["task", "metric", "model", "n", "value", "low", "high"]
DIFFERENCE_COLUMNS = ["task", "metric", "model", "versus", "n", "difference", "low", "high", "verdict"]


def resample_rows(n: int, resamples: int, seed: int, task: str) -> np.ndarray:
    """``resamples`` x ``n`` item indices, the same for every model of ``task``."""
    rng = np.random.default_rng([seed, zlib.crc32(task.encode("utf-8"))])
    return rng.integers(0, n, size=(resamples, n))


def metric_samples(predictions: Predictions, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Each metric of ``predictions`` on every resample (one row of ``rows`` each)."""
    samples: dict[str, np.ndarray] = {}
    means = [metric for metric in predictions.metrics if metric in MEAN_METRICS]
    slow = [metric for metric in predictions.metrics if metric not in MEAN_METRICS]
    if means:  # each item scored once, for these metrics only
        per_item = [predictions.scores(np.array([i]), means) for i in range(len(predictions))]
        for metric in means:
            samples[metric] = np.array([scores[metric] for scores in per_item])[rows].mean(axis=1)
    if slow:
        per_resample = [predictions.scores(resample, slow) for resample in rows]
        for metric in slow:
            samples[metric] = np.array([scores[metric] for scores in per_resample])
    return samples


def _bounds(samples: np.ndarray) -> tuple[float, float]:
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.nanpercentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def _by_task(files: Sequence[Path]) -> dict[str, dict[str, Predictions]]:
    tasks: dict[str, dict[str, Predictions]] = defaultdict(dict)
    for path in sorted(map(Path, files)):
        predictions = read_predictions(path)
        reference = next(iter(tasks[predictions.task].values()), None)
        if reference is not None and reference.gold != predictions.gold:
            raise InputError(path, f"its {predictions.task} test items differ from {reference.model}'s: a paired "
                             "bootstrap needs every model scored on the same items")
        tasks[predictions.task][predictions.model] = predictions
    return tasks


def bootstrap_tables(files: Sequence[Path], selected: str | None, versus: Sequence[str], *, resamples: int,
                     seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every model's test metrics with their intervals, and ``selected`` minus each of ``versus`` with theirs.

    A difference whose interval excludes 0 is "better" or "worse"; otherwise "within noise".
    """
    intervals, differences = [], []
    for task, models in sorted(_by_task(files).items()):
        any_model = next(iter(models.values()))
        n = len(any_model)
        rows = resample_rows(n, resamples, seed, task)
        samples = {model: metric_samples(predictions, rows) for model, predictions in sorted(models.items())}
        for model, predictions in sorted(models.items()):
            full = predictions.scores()
            for metric in predictions.metrics:
                intervals.append([task, metric, model, n, full[metric], *_bounds(samples[model][metric])])
        if selected not in models:
            continue
        chosen = models[selected].scores()
        for other in versus:
            if other not in models or other == selected:
                continue
            theirs = models[other].scores()
            for metric in models[selected].metrics:
                low, high = _bounds(samples[selected][metric] - samples[other][metric])
                verdict = "better" if low > 0 else "worse" if high < 0 else "within noise"
                differences.append([task, metric, selected, other, n, chosen[metric] - theirs[metric], low, high,
                                    verdict])
    return pd.DataFrame(intervals, columns=INTERVAL_COLUMNS), pd.DataFrame(differences, columns=DIFFERENCE_COLUMNS)


def interval_text(low: float, high: float, digits: int = 3) -> str:
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def difference_text(row: Mapping[str, object], digits: int = 3) -> str:
    """``+0.012 [-0.030, +0.051]``: a difference with its interval, signed so gains and losses read at once."""
    return (f"{row['difference']:+.{digits}f} [{row['low']:+.{digits}f}, {row['high']:+.{digits}f}]")
