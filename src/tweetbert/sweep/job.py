"""A study's sweep job: ``sweep.workers`` worker processes sharing the job's GPUs, and, once the study is complete,
its kept best model scored on test in the same job.

The job tokenises the task's splits once (:func:`~tweetbert.finetune.train.prepare_task`) and is itself worker 0;
workers 1.. are spawned processes that receive the tokenised splits, each pinned to one of the job's GPUs
(``CUDA_VISIBLE_DEVICES``, round-robin), so several small trials share a GPU. Each worker loads its model once.

A worker returns when no trial slot is left (:mod:`tweetbert.sweep.workers`). The job then waits for its other
workers, and reruns, in its own worker, the trial of one that died (killed by a signal, e.g. for memory): it ends
only with the study complete. A worker that fails (its objective raised, or the storage stayed unreachable) fails
the job once the others have stopped.

When a study spans jobs (``sweep.jobs_per_study``, on PostgreSQL), only the leading job waits for the others' last
trials and scores the study; the others end as soon as no slot is left.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import optuna

from tweetbert.errors import CheckFailed, ConfigError, InputError
from tweetbert.finetune.train import PreparedTask
from tweetbert.sweep.settings import SweepSettings
from tweetbert.sweep.storage import surfacing_storage_errors
from tweetbert.sweep.workers import FINISHED

log = logging.getLogger(__name__)

VISIBLE_DEVICES = "CUDA_VISIBLE_DEVICES"
STALLED_ROUNDS = 3
"""Rounds in a row that finish no trial before the job gives up (a worker that dies at every trial)."""


@dataclass(frozen=True)
class StudyJob:
    """What every worker of a study's job needs: plain data, sent as it is to spawned workers."""

    study: str
    storage: str
    model_dir: str
    random_init: bool
    prepared: PreparedTask
    settings: SweepSettings
    keep_dir: Path
    threads: int
    """Torch threads of each worker: the job's threads shared out among its workers."""


def job_gpus(gpus: int, visible: str | None) -> list[str]:
    """The job's GPUs as ``CUDA_VISIBLE_DEVICES`` entries (SLURM sets the variable to the job's allocation).

    Empty when there is one GPU or none: then no worker's environment is narrowed. Without the variable, the
    first ``gpus`` devices are taken.
    """
    devices = [d.strip() for d in visible.split(",") if d.strip()] if visible else [str(i) for i in range(gpus)]
    return devices if len(devices) > 1 else []


def worker_ids(workers: int, job_index: int | None) -> list[str]:
    """Ids label trials and seed samplers: ``w0``.. for a study's only job, ``j<k>w0``.. for job k of several."""
    prefix = "" if job_index is None else f"j{job_index}"
    return [f"{prefix}w{k}" for k in range(workers)]


@contextlib.contextmanager
def _environment(name: str, value: str | None) -> Iterator[None]:
    """``os.environ[name]`` set for the block: a spawned process takes its environment when it starts."""
    previous = os.environ.get(name)
    if value is not None:
        os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def narrow_to_first_gpu(devices: list[str]) -> None:
    """Worker 0 runs in the job's own process: it sees the first GPU only (before CUDA starts in this process), so
    the Trainer does not spread its model over every GPU of the job."""
    if devices:
        os.environ[VISIBLE_DEVICES] = devices[0]


def load_worker(job: StudyJob, worker_id: str) -> Callable[[], optuna.Study]:
    """One worker, its model loaded once: each call runs trials while a slot is open and returns the study."""
    import torch

    from tweetbert.finetune.train import Finetuner
    from tweetbert.sweep.objective import make_objective
    from tweetbert.sweep.space import parse_space
    from tweetbert.sweep.workers import run_worker

    torch.set_num_threads(job.threads)
    settings = job.settings
    finetuner = Finetuner(job.model_dir, job.prepared, seed=settings.seed, random_init=job.random_init)
    # The features and the initial weights live as long as the worker. Trainer.train() runs a full gc.collect() at
    # every trial (accelerate's free_memory), which walks every tracked object: frozen, these are skipped (a
    # quarter of a second per trial on a demo task).
    gc.freeze()
    objective = make_objective(finetuner, parse_space(settings.space),
                               evaluations_per_epoch=settings.evaluations_per_epoch, keep_dir=job.keep_dir,
                               worker_id=worker_id)
    return functools.partial(
        run_worker, job.study, job.storage, objective, settings.n_trials, seed=settings.seed, worker_id=worker_id,
        pruner=settings.pruner, pruner_startup_trials=settings.pruner_startup_trials,
        pruner_warmup_epochs=settings.pruner_warmup_epochs, evaluations_per_epoch=settings.evaluations_per_epoch,
        lease_timeout=settings.lease_timeout, heartbeat_interval=settings.heartbeat_interval,
        grace_period=settings.grace_period, storage_retry_seconds=settings.storage_retry_seconds,
        storage_connect_timeout=settings.storage_connect_timeout)


def _spawned_worker(job: StudyJob, worker_id: str, level: int) -> None:
    """A spawned worker's entry point: errors the user can act on are one line and exit code 2, as in the CLI."""
    logging.basicConfig(level=level, format=f"%(asctime)s %(levelname)s {worker_id} %(name)s: %(message)s")
    try:
        with surfacing_storage_errors():
            load_worker(job, worker_id)()
    except (InputError, ConfigError, CheckFailed) as error:
        print(f"tweetbert finetune-sweep: worker {worker_id}: error: {error}", file=sys.stderr, flush=True)
        sys.exit(2)


def run_study_job(job: StudyJob, ids: list[str], devices: list[str], *, leader: bool = True,
                  poll_interval: float = 10.0) -> None:
    """Runs the study's workers ``ids`` (the first in this process) until no slot is left; a leading job goes on
    until the study has ``n_trials`` finished trials."""
    context = multiprocessing.get_context("spawn")  # CUDA cannot be forked
    spawned: dict[str, Any] = {}
    for k, worker_id in enumerate(ids[1:], start=1):
        process = context.Process(target=_spawned_worker, args=(job, worker_id, logging.getLogger().level),
                                  name=f"sweep-{worker_id}", daemon=True)
        with _environment(VISIBLE_DEVICES, devices[k % len(devices)] if devices else None):
            process.start()
        spawned[worker_id] = process
    try:
        _supervise(job, ids[0], spawned, leader=leader, poll_interval=poll_interval)
    finally:
        for process in spawned.values():
            if process.is_alive():
                process.terminate()
            process.join()


def _supervise(job: StudyJob, own_id: str, spawned: dict[str, Any], *, leader: bool, poll_interval: float) -> None:
    own_worker = load_worker(job, own_id)
    failed: list[str] = []
    stalled, finished = 0, -1
    while True:
        study = own_worker()  # also reruns the trials of workers that died meanwhile, while slots open up
        done = sum(t.state in FINISHED for t in study.get_trials(deepcopy=False))
        if done >= job.settings.n_trials:
            break
        for worker_id, process in list(spawned.items()):
            if process.exitcode is None:
                continue
            del spawned[worker_id]
            if process.exitcode > 0:
                failed.append(f"{worker_id} (exit code {process.exitcode})")
            else:
                log.warning("worker %s was killed (signal %d); its trial is rerun here", worker_id, -process.exitcode)
        if failed or not (spawned or leader):
            break
        if spawned:
            wait([process.sentinel for process in spawned.values()], timeout=poll_interval)
            continue
        stalled = stalled + 1 if done == finished else 0
        finished = done
        if stalled >= STALLED_ROUNDS:
            raise CheckFailed(f"study {job.study}: {STALLED_ROUNDS} rounds in a row finished no trial; see the log "
                              "above")
        time.sleep(poll_interval)  # the leading job waits for other jobs' last trials
    for worker_id, process in spawned.items():
        process.join()
        if process.exitcode:
            failed.append(f"{worker_id} (exit code {process.exitcode})")
    if failed:
        raise CheckFailed(f"study {job.study}: worker {', '.join(failed)} failed; see its lines above. The study "
                          "keeps its finished trials: re-run the job to complete it")
