"""The result of a finished study: its best trial's kept model scored once on the test split, and every trial.

The study's sweep job scores it once the study is complete, in the process that ran its trials, on the splits it
tokenised for them: no second job, interpreter start or build of the task's features.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import optuna
import pandas as pd

from tweetbert.errors import CheckFailed
from tweetbert.finetune.model import load_model
from tweetbert.finetune.train import PreparedTask, score_split, weights_sha256
from tweetbert.sweep.keep import kept_best
from tweetbert.sweep.results import best_trial_summary, trials_table
from tweetbert.tasks.types import SPLIT_ROLES


def score_best_trial(study: optuna.Study, prepared: PreparedTask, *, name: str, keep_dir: Path,
                     seed: int) -> tuple[dict[str, Any], pd.DataFrame]:
    """``best.json``'s content and the study's trials table, after checking the kept model is the best trial's.

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
        test = score_split(model, prepared, "test", seed=seed, output_dir=Path(scratch))
    best = {"model": name, "task": task.name, "main_metric": spec.main_metric,
            "best_dev": summary["best_value"], "dev": record["dev"], "test": test,
            "params": best_trial.params, "n_trials": len(study.trials), "trial": record["trial"],
            "parameters": sum(weight.numel() for weight in model.base_model.parameters()),
            "weights_sha256": digest, "study": summary,
            "splits": {role: {"examples": len(task[role]), "source": task.sources[role], "role": SPLIT_ROLES[role]}
                       for role in task.splits}}
    return best, trials_table(study)

