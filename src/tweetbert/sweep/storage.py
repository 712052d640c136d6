"""Where a study lives: a journal file on one node's (or a shared) file system, or an RDB server across nodes.

Optuna 5's journal storage has no heartbeat, so a killed worker's trial stays RUNNING there;
:mod:`tweetbert.sweep.lease` recovers it. An RDB storage has Optuna's own heartbeat: a trial whose worker stopped
beating for ``grace_period`` seconds is failed and re-enqueued by ``RetryHeartbeatStaleTrialCallback`` (passed as
``heartbeat_stale_trial_callback``: Optuna 4.9 deprecated the ``failed_trial_callback`` name).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from optuna.exceptions import ExperimentalWarning
from optuna.storages import BaseStorage, JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend

from tweetbert.errors import ConfigError

log = logging.getLogger(__name__)

STORAGE_KEY = "sweep.storage"
JOURNAL_PREFIX = "journal:"
RDB_SCHEMES = ("postgresql", "mysql", "sqlite")
MAX_RETRIES = 2  # a trial whose worker keeps dying (e.g. killed for memory) is given up after this many reruns


def journal_path(url_or_path: str | Path) -> Path | None:
    """The journal file that ``url_or_path`` names, or None for an RDB URL."""
    if isinstance(url_or_path, Path):
        return url_or_path
    if url_or_path.startswith(JOURNAL_PREFIX):
        url_or_path = url_or_path.removeprefix(JOURNAL_PREFIX)
    elif "://" in url_or_path:
        scheme = url_or_path.split("://", 1)[0].split("+", 1)[0]  # postgresql+psycopg:// names a driver
        if scheme not in RDB_SCHEMES:
            raise ConfigError(STORAGE_KEY, f"unsupported scheme {scheme!r}: give a journal file path or a "
                                           f"{', '.join(RDB_SCHEMES)} URL")
        return None
    if not url_or_path:
        raise ConfigError(STORAGE_KEY, "empty journal path")
    return Path(url_or_path)


def open_storage(url_or_path: str | Path, *, heartbeat_interval: int = 60, grace_period: int | None = None,
                 max_retries: int = MAX_RETRIES) -> BaseStorage:
    """A path (or ``journal:<path>``) opens a journal file, creating its directory; a database URL an RDB storage.

    The journal suits the workers of one node (file locks across NFS clients can lose lines under load); an RDB URL
    (PostgreSQL) suits workers on many nodes. SQLite is accepted for a single worker only: concurrent writers fail
    with "database is locked". ``heartbeat_interval``, ``grace_period`` (default: twice the interval) and
    ``max_retries`` apply to RDB storages.
    """
    journal = journal_path(url_or_path)
    if journal is not None:
        journal.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(journal)))
    url = str(url_or_path)
    if url.startswith("sqlite"):
        log.warning("SQLite storage %s: run one worker at a time (parallel workers fail with 'database is "
                    "locked'); use a journal file on one node or PostgreSQL across nodes", url)
        engine_kwargs = None
    else:
        engine_kwargs = {"pool_pre_ping": True}  # a worker holds its connection idle through hours-long trials
    with warnings.catch_warnings():  # heartbeats have been "experimental" since Optuna 2.9
        warnings.simplefilter("ignore", ExperimentalWarning)
        return RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat_interval,
                          grace_period=grace_period,
                          heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=max_retries))
