"""Recovery of a dead worker's trial on a journal storage, which, unlike an RDB storage, has no heartbeat.

Each worker process holds a lease: a file ``<journal>.leases/<worker_id>.<token>.json`` (hostname, pid, SLURM job,
start time), whose modification time a daemon thread refreshes every ``timeout / 10`` seconds. Each trial it
starts carries the lease's file name as the user attribute ``lease``. A RUNNING trial is **dead** when

* its lease file is missing (the worker exited without finishing it), or
* its lease was not refreshed for more than ``timeout`` seconds (the process or its node is gone), or
* its lease was written on this host and its pid no longer exists (a quicker verdict for the same node), or
* it carries no lease and started more than ``timeout`` seconds ago (the worker died between creating the trial
  and labelling it).

A live process always refreshes its lease, so a hung (deadlocked) worker is not dead. A worker frozen or cut off
for longer than ``timeout`` is, wrongly: its trial is rerun and its own late result is rejected. Only
:func:`tweetbert.sweep.workers.run_worker` may run a study's trials: one started by other code is failed once it
outlasts ``timeout``. A lease is one process, not one worker id: a job rerun under the same id does not revive its
predecessor's trials.

A dead trial is set to FAIL (the storage accepts that from one worker only, so two workers recovering the same
trial enqueue one rerun) and its parameters are enqueued, with ``retry_of`` and ``retries`` user attributes, unless
they have already been rerun ``max_retries`` times. The dead worker's lease file is then removed, so that the
lease directory holds live workers only (a worker wrongly judged dead writes its lease again).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Self

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import FrozenTrial, TrialState

log = logging.getLogger(__name__)

LEASE_ATTR = "lease"
RETRY_OF_ATTR = "retry_of"
RETRIES_ATTR = "retries"


def lease_dir(journal: Path) -> Path:
    return journal.with_name(journal.name + ".leases")


class Lease:
    """A worker process's lease, held for the ``with`` block; a daemon thread keeps it fresh."""

    def __init__(self, directory: Path, worker_id: str, timeout: float):
        self.path = directory / f"{worker_id}.{uuid.uuid4().hex[:8]}.json"
        self.interval = timeout / 10
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._refresh, name=f"lease-{worker_id}", daemon=True)
        self._info = {"worker_id": worker_id, "hostname": socket.gethostname(), "pid": os.getpid(),
                      "slurm_job_id": os.environ.get("SLURM_JOB_ID"), "started": time.time()}

    @property
    def name(self) -> str:
        return self.path.name

    def __enter__(self) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write()
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self.path.unlink(missing_ok=True)

    def _write(self) -> None:
        """Atomically, so that a reader never sees half a file."""
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps(self._info))
        os.replace(partial, self.path)

    def _refresh(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                os.utime(self.path)
            except FileNotFoundError:  # removed by hand: claim it again rather than be declared dead
                self._write()


def lease_is_dead(path: Path, timeout: float, now: float | None = None) -> bool:
    """Whether the process holding the lease at ``path`` is gone (see the module docstring)."""
    now = time.time() if now is None else now
    try:
        refreshed = path.stat().st_mtime
        info = json.loads(path.read_text())
    except FileNotFoundError:
        return True
    if now - refreshed > timeout:
        return True
    return info["hostname"] == socket.gethostname() and not _pid_exists(info["pid"])


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def trial_is_dead(trial: FrozenTrial, directory: Path, timeout: float, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    lease = trial.user_attrs.get(LEASE_ATTR)
    if lease is None:
        return now - trial.datetime_start.timestamp() > timeout
    return lease_is_dead(directory / lease, timeout, now)


def recover_dead_trials(study: optuna.Study, directory: Path, timeout: float, max_retries: int) -> None:
    """Fails the study's dead RUNNING trials and enqueues their parameters again."""
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not trial_is_dead(trial, directory, timeout):
            continue
        try:
            study.tell(trial.number, state=TrialState.FAIL)
        except (ValueError, UpdateFinishedTrialError):  # finished meanwhile: by its worker, or by another recovery
            continue
        if LEASE_ATTR in trial.user_attrs:
            (directory / trial.user_attrs[LEASE_ATTR]).unlink(missing_ok=True)
        retries = trial.user_attrs.get(RETRIES_ATTR, 0)
        if retries >= max_retries:
            log.warning("trial %d of a dead worker failed; its parameters were already rerun %d times: given up",
                        trial.number, retries)
            continue
        study.enqueue_trial(trial.params, user_attrs={RETRY_OF_ATTR: trial.number, RETRIES_ATTR: retries + 1},
                            skip_if_exists=False)
        log.warning("trial %d of a dead worker failed; its parameters are enqueued again", trial.number)
