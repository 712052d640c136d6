"""Workers that share one study and together finish exactly ``n_trials`` trials.

A study's workers are the processes of its sweep job (:mod:`tweetbert.sweep.job`), and of further jobs when a
study spans nodes (``sweep.jobs_per_study``).

**Finished** means COMPLETE or PRUNED: a pruned trial was judged, so it uses up a slot. FAIL does not: a trial of a
dead worker is failed and rerun (:mod:`tweetbert.sweep.lease`, or Optuna's heartbeat on an RDB storage), and an
objective that raises stops its worker (the job fails loudly; the study keeps what was finished).

Slots: among the study's *live* trials (WAITING, RUNNING, COMPLETE, PRUNED) in number order, the first
``n_trials`` hold a slot. A worker starts a trial only when finished + running trials leave a slot open; two
workers may both see the last slot open, so each checks again once its trial exists: one that is not among the
first ``n_trials`` live trials gives up (it ends FAIL with the user attribute ``surplus``). The check is exact
because a trial's rank can only fall (trials before it are never created later, and only leave the live set by
failing), so at most ``n_trials`` trials ever hold a slot.

A worker returns as soon as no slot is open: it does not wait, holding its GPU memory, while other workers run the
last trials. Whoever stays to rerun a trial whose worker dies is the job's business (:mod:`tweetbert.sweep.job`).

A worker declared dead while alive (frozen for longer than the lease timeout) finds its trial failed when it reports
the result; Optuna then raises, its job fails, and the trial's rerun is already enqueued.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.pruners import BasePruner
from optuna.trial import FrozenTrial, TrialState

from tweetbert.errors import ConfigError
from tweetbert.sweep.lease import LEASE_ATTR, Lease, lease_dir, recover_dead_trials
from tweetbert.sweep.settings import SWEEP_DEFAULTS as _D
from tweetbert.sweep.storage import MAX_RETRIES, journal_path, open_storage

log = logging.getLogger(__name__)

WORKER_ATTR = "worker"
SURPLUS_ATTR = "surplus"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
LIVE = (TrialState.WAITING, TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED)
PRUNERS = ("median", "successive_halving", "hyperband", "none")
DIRECTIONS = ("maximize", "minimize")
_WORKER_ID = re.compile(r"[A-Za-z0-9_-]+")


class _Surplus(Exception):
    """This trial lost the race for the study's last open slot."""


def make_sampler(seed: int, worker_id: str, history: int = 0) -> optuna.samplers.TPESampler:
    """TPE seeded per worker and per join: same seed, id and history, same proposals; otherwise different ones.

    ``history`` is the number of trials the study held when the worker joined it. Without it, a worker restarted
    under the same id after being killed (a job retry) would draw its predecessor's random start-up points again,
    repeating the trials its predecessor finished next to the rerun of the one it was killed in. The offset is a
    CRC, not ``hash()``, which differs between processes. ``constant_liar`` makes TPE treat other workers' running
    trials as bad, so parallel workers do not propose the same region.
    """
    worker_seed = (seed + zlib.crc32(f"{worker_id}@{history}".encode())) % 2**32
    # Optuna 5's defaults, explicit because Optuna 3 defaulted to neither.
    return optuna.samplers.TPESampler(seed=worker_seed, multivariate=True, constant_liar=True)


def _count(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(key, f"expected a non-negative integer, got {value!r}")
    return value


def make_pruner(name: str, startup_trials: int = _D.pruner_startup_trials, warmup_epochs: int = _D.pruner_warmup_epochs,
                evaluations_per_epoch: int = _D.evaluations_per_epoch) -> BasePruner:
    """The study's pruner. Trials report ``evaluations_per_epoch`` validation scores per epoch, the k-th at step k
    (:mod:`tweetbert.sweep.callback`), so a pruner that judges a trial at its first step can stop it after
    ``1/evaluations_per_epoch`` of an epoch; every trial runs ``warmup_epochs`` whole epochs first (the first step
    judged is ``warmup_epochs * evaluations_per_epoch + 1``).

    - ``median``: a trial below the median of earlier trials at the same step stops, once ``startup_trials``
      trials finished. It judges every score, so with several scores per epoch a trial tied with the others at
      its first score (all still at the majority class, say) can be stopped at the next one; the start-up trials
      run in full.
    - ``successive_halving``: asynchronous successive halving (ASHA) with rungs at the first judged step times
      1, 3, 9, ...: at each rung a trial runs on only if it is in the top third of the trials that reached it.
      It needs no maximum resource and no start-up trials and compares every trial with all others, but judges
      only at its rungs, and lets early trials through (the first to reach a rung tops it).
    - ``hyperband``: the same rungs split over Hyperband's brackets (each bracket a successive-halving run over its
      own share of the trials, no pruning before a trial completes); it hedges against a too-small first rung but
      needs many trials per bracket, and Optuna's docs warn that TPE then needs more trials to start up.
    - ``none``: no pruning.

    ``median`` stays the default: with several scores per epoch it judges a trial at every one, and in the 10-trial
    sweeps of ``benchmarks/sweep_cost.py`` it saved a little more than successive halving at the same best dev
    metric. Successive halving suits sweeps of many trials, where its rungs need no start-up trials to be fair.
    """
    _count("sweep.pruner_startup_trials", startup_trials)
    if isinstance(evaluations_per_epoch, bool) or not isinstance(evaluations_per_epoch, int) \
            or evaluations_per_epoch < 1:
        raise ConfigError("sweep.evaluations_per_epoch", f"expected a positive integer, got {evaluations_per_epoch!r}")
    first_judged = _count("sweep.pruner_warmup_epochs", warmup_epochs) * evaluations_per_epoch + 1
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=startup_trials, n_warmup_steps=first_judged)
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=first_judged, reduction_factor=3)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=first_judged, reduction_factor=3)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ConfigError("sweep.pruner", f"unknown pruner {name!r}; expected one of {', '.join(PRUNERS)}")


def check_heartbeat(interval: int, grace_period: int | None) -> None:
    """A positive interval, and a grace period (if any) above it: a shorter one fails trials whose worker is alive."""
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        raise ConfigError("sweep.heartbeat_interval", f"expected a positive integer, got {interval!r}")
    if grace_period is not None and (isinstance(grace_period, bool) or not isinstance(grace_period, int)
                                     or grace_period <= interval):
        raise ConfigError("sweep.grace_period", f"expected an integer above sweep.heartbeat_interval ({interval}) "
                                                f"or null, got {grace_period!r}")


def check_storage_spans_jobs(storage: str, jobs_per_study: int) -> None:
    """A study in a journal file has the writers of one job, on one node; one that spans jobs needs a database server
    (a journal file shared over NFS by several nodes loses lines under load; SQLite takes one writer at a time)."""
    if jobs_per_study == 1:
        return
    if storage == "journal" or journal_path(storage) is not None or storage.startswith("sqlite"):
        raise ConfigError("sweep.storage", f"{storage!r} with sweep.jobs_per_study = {jobs_per_study}: a study "
                                           "whose jobs run on several nodes needs a database server "
                                           "(postgresql://user@host/db); or set sweep.jobs_per_study: 1")


def holds_slot(trials: Sequence[FrozenTrial], number: int, n_trials: int) -> bool:
    """Whether trial ``number`` is among the first ``n_trials`` live trials (see the module docstring)."""
    return sum(t.number < number and t.state in LIVE for t in trials) < n_trials


def study_is_complete(study: optuna.Study, n_trials: int) -> bool:
    return sum(t.state in FINISHED for t in study.get_trials(deepcopy=False)) >= n_trials


def run_worker(study_name: str, storage: str | Path, objective: Callable[[optuna.Trial], float], n_trials: int, *,
               seed: int, worker_id: str, pruner: str = _D.pruner, pruner_startup_trials: int = _D.pruner_startup_trials,
               pruner_warmup_epochs: int = _D.pruner_warmup_epochs,
               evaluations_per_epoch: int = _D.evaluations_per_epoch, direction: str = "maximize",
               lease_timeout: float = _D.lease_timeout, heartbeat_interval: int = _D.heartbeat_interval,
               grace_period: int | None = _D.grace_period, storage_retry_seconds: float = _D.storage_retry_seconds,
               storage_connect_timeout: int = _D.storage_connect_timeout,
               max_retries: int = MAX_RETRIES) -> optuna.Study:
    """Joins (or creates) the study and runs trials while a slot is open; returns the study.

    ``storage`` is a journal path or a database URL (:func:`tweetbert.sweep.storage.open_storage`); ``worker_id``
    tells the workers apart (e.g. the job's index): it labels their trials (user attribute ``worker``) and seeds
    their samplers (with the study's trial count, see :func:`make_sampler`). The objective raises
    :class:`optuna.TrialPruned` to prune; it reports ``evaluations_per_epoch`` values per epoch (see
    :func:`make_pruner`). Before each trial a worker fails and reruns the trials of dead workers: on a journal
    storage those without a sign of life for
    ``lease_timeout`` seconds (:mod:`tweetbert.sweep.lease`), on an RDB storage those whose heartbeat (every
    ``heartbeat_interval`` seconds) stopped for ``grace_period`` seconds (default: two intervals).
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise ConfigError("sweep.n_trials", f"expected a positive integer, got {n_trials!r}")
    if direction not in DIRECTIONS:
        raise ConfigError("sweep.direction", f"expected one of {', '.join(DIRECTIONS)}, got {direction!r}")
    if not lease_timeout > 0:
        raise ConfigError("sweep.lease_timeout", f"expected a positive number of seconds, got {lease_timeout!r}")
    check_heartbeat(heartbeat_interval, grace_period)
    if not _WORKER_ID.fullmatch(worker_id):
        raise ValueError(f"worker id {worker_id!r}: use letters, digits, '_' and '-' only (it names a file)")
    study = optuna.create_study(study_name=study_name, direction=direction,
                                pruner=make_pruner(pruner, pruner_startup_trials, pruner_warmup_epochs,
                                                   evaluations_per_epoch),
                                storage=open_storage(storage, heartbeat_interval=heartbeat_interval,
                                                     grace_period=grace_period, max_retries=max_retries,
                                                     retry_seconds=storage_retry_seconds,
                                                     connect_timeout=storage_connect_timeout),
                                load_if_exists=True)
    study.sampler = make_sampler(seed, worker_id, history=len(study.get_trials(deepcopy=False)))
    if study.direction.name.lower() != direction:  # Optuna keeps an existing study's direction without a word
        raise ConfigError("sweep.direction", f"study {study_name!r} exists and is to "
                                             f"{study.direction.name.lower()}, not {direction}")
    journal = journal_path(storage)
    leases = None if journal is None else lease_dir(journal)
    with contextlib.nullcontext() if leases is None else Lease(leases, worker_id, lease_timeout) as lease:

        def claimed(trial: optuna.Trial) -> float:
            trial.set_user_attr(WORKER_ATTR, worker_id)
            if lease is not None:
                trial.set_user_attr(LEASE_ATTR, lease.name)
            if not holds_slot(study.get_trials(deepcopy=False), trial.number, n_trials):
                trial.set_user_attr(SURPLUS_ATTR, True)
                raise _Surplus(f"not an error: the {n_trials} slots were taken meanwhile, so this trial is dropped")
            return objective(trial)

        def stop_on_failure(_: optuna.Study, trial: FrozenTrial) -> None:
            if trial.state == TrialState.FAIL and not trial.user_attrs.get(SURPLUS_ATTR):
                raise RuntimeError(f"trial {trial.number} failed: the objective returned no acceptable number "
                                   "(see Optuna's warning above)")

        while True:
            if leases is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ExperimentalWarning)
                    optuna.storages.fail_stale_trials(study)
            else:
                recover_dead_trials(study, leases, lease_timeout, max_retries)
            trials = study.get_trials(deepcopy=False)
            finished = sum(t.state in FINISHED for t in trials)
            running = sum(t.state == TrialState.RUNNING for t in trials)
            if finished + running >= n_trials:
                log.info("worker %s: study %s has %d finished and %d running trials of %d: no slot left",
                         worker_id, study_name, finished, running, n_trials)
                return study
            study.optimize(claimed, n_trials=1, catch=(_Surplus,), callbacks=[stop_on_failure])
