"""A study's trials as a table, and its best trial as a JSON-ready summary, for the report and the next stage."""

from __future__ import annotations

import warnings
from typing import Any

import optuna
import pandas as pd
from optuna.exceptions import ExperimentalWarning
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import FrozenTrial, TrialState

from tweetbert.sweep.lease import RETRY_OF_ATTR
from tweetbert.sweep.workers import SURPLUS_ATTR, WORKER_ATTR

BASE_COLUMNS = ["number", "state", "value", "epochs_reported", "duration_s", "worker", "retry_of", "surplus"]


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """One row per trial in number order; each hyper-parameter as a ``param_<name>`` column.

    ``epochs_reported`` counts intermediate values, so a pruned trial shows how far it got; ``retry_of`` is the
    number of the dead worker's trial that a trial reruns; ``surplus`` marks a trial that lost the race for the last
    slot (see :mod:`tweetbert.sweep.workers`).
    """
    rows = []
    for trial in study.get_trials(deepcopy=False):
        duration = trial.duration
        rows.append({
            "number": trial.number,
            "state": trial.state.name,
            "value": trial.value,
            "epochs_reported": len(trial.intermediate_values),
            "duration_s": None if duration is None else duration.total_seconds(),
            "worker": trial.user_attrs.get(WORKER_ATTR),
            "retry_of": _retry_of(trial),
            "surplus": bool(trial.user_attrs.get(SURPLUS_ATTR, False)),
            **{f"param_{name}": value for name, value in trial.params.items()},
        })
    table = pd.DataFrame(rows) if rows else pd.DataFrame(columns=BASE_COLUMNS)
    return table.astype({"retry_of": "Int64", "epochs_reported": "int64"})


def _retry_of(trial: FrozenTrial) -> int | None:
    """Our attribute on a journal storage; Optuna's retry history (whose last entry is the same) on an RDB one."""
    if RETRY_OF_ATTR in trial.user_attrs:
        return trial.user_attrs[RETRY_OF_ATTR]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        history = RetryHeartbeatStaleTrialCallback.retry_history(trial)
    return history[-1] if history else None


def best_trial_summary(study: optuna.Study) -> dict[str, Any]:
    """The best complete trial, with the counts that say how much the sweep explored; JSON-serialisable."""
    counts = {state: 0 for state in TrialState}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state] += 1
    if not counts[TrialState.COMPLETE]:
        raise ValueError(f"study {study.study_name!r} has no complete trial yet")
    best = study.best_trial
    return {
        "study": study.study_name,
        "direction": study.direction.name.lower(),
        "best_number": best.number,
        "best_value": best.value,
        "best_params": best.params,
        "best_worker": best.user_attrs.get(WORKER_ATTR),
        "n_complete": counts[TrialState.COMPLETE],
        "n_pruned": counts[TrialState.PRUNED],
        "n_failed": counts[TrialState.FAIL],
        "n_running": counts[TrialState.RUNNING],
    }
