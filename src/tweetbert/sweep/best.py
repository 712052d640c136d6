"""The result of a finished study: its best trial's kept model scored once on the test split, and every trial.

The study's sweep job scores it once the study is complete, in the process that ran its trials, on the splits it
tokenised for them: no second job, interpreter start or build of the task's features. It writes the kept model's
per-example test outputs (for the selection's paired bootstrap) and, with ``seeds`` > 1, fine-tunes the best
configuration again with further seeds, so a score comes with the spread one seed hides.
"""

from __future__ import annotations

import math
import statistics
import tempfile
from pathlib import Path
from typing import Any

import optuna
import pandas as pd

from tweetbert.errors import CheckFailed
from tweetbert.finetune.model import load_model
from tweetbert.finetune.train import Finetuner, PreparedTask, predict_split, weights_sha256
from tweetbert.sweep.keep import kept_best
from tweetbert.sweep.results import best_trial_summary, trials_table
from tweetbert.tasks.predictions import write_predictions
from tweetbert.tasks.types import SPLIT_ROLES


def _spread(values: list[float]) -> dict[str, float | None]:
    return {"mean": math.fsum(values) / len(values), "sd": statistics.stdev(values) if len(values) > 1 else None}


def seed_runs(model_dir: str | Path, prepared: PreparedTask, params: dict[str, Any], *, first: dict[str, Any],
              seeds: int, seed: int, random_init: bool = False) -> dict[str, Any]:
    """The best configuration fine-tuned with seeds ``seed + 1`` .. ``seed + seeds - 1`` (``first`` is the kept
    model's own run, at ``seed``): per seed its dev and test scores, and their mean and sample sd per metric."""
    runs = [{"seed": seed, **first}]
    for k in range(1, seeds):
        with tempfile.TemporaryDirectory() as scratch:
            result = Finetuner(model_dir, prepared, seed=seed + k, random_init=random_init).run(
                params, output_dir=Path(scratch))
            test = predict_split(result["model"], prepared, "test", seed=seed + k, output_dir=Path(scratch))[0]
        runs.append({"seed": seed + k, "dev": result["dev"], "test": test})
    return {"runs": runs, **{split: {metric: _spread([run[split][metric] for run in runs]) for metric in first[split]}
                             for split in ("dev", "test")}}


def score_best_trial(study: optuna.Study, prepared: PreparedTask, *, name: str, keep_dir: Path, seed: int,
                     predictions: Path, model_dir: str | Path, random_init: bool = False,
                     seeds: int = 1) -> tuple[dict[str, Any], pd.DataFrame]:
    """``best.json``'s content and the study's trials table, after checking the kept model is the best trial's;
    the kept model's test outputs go to ``predictions``.

    The kept model's weights digest must equal the one its trial recorded: a folder that outlived its study, or a
    best trial whose model was never kept, is an error, not a silent test score of another model.
    """
    spec, task = prepared.spec, prepared.task
    summary = best_trial_summary(study)
    best_trial = study.best_trial
    directory, record = kept_best(keep_dir, best_trial.number, best_trial.user_attrs.get("weights_sha256"))
    model = load_model(directory, spec, task.num_labels, label_names=task.label_names)
    digest = weights_sha256(model)
    if digest != record["weights_sha256"]:
        raise CheckFailed(f"{directory}: weights digest {digest} differs from the trial's {record['weights_sha256']}")
    with tempfile.TemporaryDirectory() as scratch:
        test, outputs = predict_split(model, prepared, "test", seed=seed, output_dir=Path(scratch))
    write_predictions(predictions, model=name, task=task.name, split="test", metrics=spec.metrics, outputs=outputs,
                      examples=task["test"])
    best = {"model": name, "task": task.name, "main_metric": spec.main_metric,
            "best_dev": summary["best_value"], "dev": record["dev"], "test": test,
            "params": best_trial.params, "n_trials": len(study.trials), "trial": record["trial"],
            "parameters": sum(weight.numel() for weight in model.base_model.parameters()),
            "weights_sha256": digest, "study": summary,
            "splits": {role: {"examples": len(task[role]), "source": task.sources[role], "role": SPLIT_ROLES[role]}
                       for role in task.splits},
            "annotators": task.metadata.get("annotators")}
    if seeds > 1:
        del model
        best["seeds"] = seed_runs(model_dir, prepared, dict(best_trial.params), first={"dev": record["dev"],
                                  "test": test}, seeds=seeds, seed=seed, random_init=random_init)
    return best, trials_table(study)

