"""A model's per-example test outputs with the gold values its metrics read: what a paired bootstrap resamples.

A sweep job writes one file per (model, task) when it scores the kept best model on test; the selection and the
downstream benchmark read them to put intervals on every test score and on every difference between two models,
without loading a model or the task's files again. JSON, not pickle: the file is read by another job.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tweetbert.errors import InputError
from tweetbert.tasks.metrics import compute_metrics
from tweetbert.tasks.types import Example

GOLD_KEYS = ("label", "labels", "intensities", "answers")
"""The example fields any metric reads; texts are left out (the task's files have them)."""
_REQUIRED = ("model", "task", "split", "metrics", "outputs", "gold")


@dataclass(frozen=True)
class Predictions:
    model: str
    task: str
    split: str
    metrics: list[str]
    outputs: Any
    """Per example: a row of the head's outputs, or an answer string (QA)."""
    gold: list[Example]

    def __len__(self) -> int:
        return len(self.gold)

    def scores(self, rows: np.ndarray | None = None, metrics: list[str] | None = None) -> dict[str, float]:
        """``metrics`` (every metric by default) on the examples at ``rows`` (all of them by default; repeats
        allowed)."""
        names = self.metrics if metrics is None else metrics
        if rows is None:
            return compute_metrics(names, self.outputs, self.gold)
        outputs = ([self.outputs[i] for i in rows] if isinstance(self.outputs, list)
                   else np.asarray(self.outputs)[rows])
        return compute_metrics(names, outputs, [self.gold[i] for i in rows])


def _plain(outputs: Any) -> Any:
    if isinstance(outputs, np.ndarray):
        return outputs.astype(float).tolist()
    return [str(answer) for answer in outputs]


def _gold(example: Example) -> Example:
    gold = {key: example[key] for key in GOLD_KEYS if key in example}
    if "answers" in gold:
        gold["answers"] = {"text": list(gold["answers"]["text"])}
    return gold


def write_predictions(path: Path, *, model: str, task: str, split: str, metrics: Sequence[str], outputs: Any,
                      examples: Sequence[Example]) -> None:
    outputs = _plain(outputs)
    if len(outputs) != len(examples):
        raise ValueError(f"{len(outputs)} outputs for {len(examples)} examples of {task} {split}")
    record = {"model": model, "task": task, "split": split, "metrics": list(metrics), "outputs": outputs,
              "gold": [_gold(example) for example in examples]}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def read_predictions(path: Path) -> Predictions:
    """A predictions file, checked enough that a bootstrap over it cannot silently resample something else."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(path, f"not a readable predictions file: {error}") from None
    missing = [key for key in _REQUIRED if not isinstance(record, dict) or key not in record]
    if missing:
        raise InputError(path, f"missing {', '.join(missing)} (written by `tweetbert finetune-sweep`)")
    if len(record["outputs"]) != len(record["gold"]) or not record["gold"]:
        raise InputError(path, f"{len(record['outputs'])} outputs for {len(record['gold'])} gold examples",
                         column="outputs")
    outputs = record["outputs"]
    if outputs and not isinstance(outputs[0], str):
        outputs = np.asarray(outputs, dtype=float)
    return Predictions(record["model"], record["task"], record["split"], list(record["metrics"]), outputs,
                       record["gold"])
