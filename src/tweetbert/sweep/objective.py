"""A sweep trial: one configuration fine-tuned by its worker's :class:`~tweetbert.finetune.train.Finetuner`, pruned
on validation, scored on dev, and its model kept when it is the study's best so far."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from tweetbert.finetune.train import Finetuner, weights_sha256
from tweetbert.sweep.callback import OptunaReportCallback
from tweetbert.sweep.keep import keep_if_best
from tweetbert.sweep.space import suggest

DIGEST_ATTR = "weights_sha256"
"""A kept trial's weights digest (user attribute): the kept model must stand for a live trial that recorded it."""


def make_objective(finetuner: Finetuner, space: Mapping[str, Any], *, evaluations_per_epoch: int, keep_dir: Path,
                   worker_id: str) -> Callable[[optuna.Trial], float]:
    """The objective of a worker's trials: the dev metric of the model training ended with (pruned on validation)."""
    main_metric = finetuner.prepared.spec.main_metric

    def objective(trial: optuna.Trial) -> float:
        report = OptunaReportCallback(trial, main_metric, evaluations_per_epoch)
        with tempfile.TemporaryDirectory() as scratch:
            result = finetuner.run(suggest(trial, space), output_dir=Path(scratch), callbacks=[report],
                                   evaluations_per_epoch=evaluations_per_epoch)
        trial.set_user_attr("steps", result["steps"])  # before raising: a pruned trial's steps count too
        report.raise_if_pruned()
        record = {"trial": trial.number, "objective": result["objective"], "dev": result["dev"],
                  "params": trial.params, "worker": worker_id}

        def standing() -> dict[int, str | None]:
            return {t.number: t.user_attrs.get(DIGEST_ATTR) for t in trial.study.get_trials(
                deepcopy=False, states=(TrialState.RUNNING, TrialState.COMPLETE))}

        keep_if_best(keep_dir, result["model"], record, standing, weights_sha256,
                     lambda digest: trial.set_user_attr(DIGEST_ATTR, digest))
        return float(result["objective"])

    return objective
