"""Where a study lives: a journal file on one node's (or a shared) file system, or an RDB server across nodes.

Optuna 5's journal storage has no heartbeat, so a killed worker's trial stays RUNNING there;
:mod:`tweetbert.sweep.lease` recovers it. An RDB storage has Optuna's own heartbeat: a trial whose worker stopped
beating for ``grace_period`` seconds is failed and re-enqueued by ``RetryHeartbeatStaleTrialCallback`` (passed as
``heartbeat_stale_trial_callback``: Optuna 4.9 deprecated the ``failed_trial_callback`` name).

PostgreSQL: a plain ``postgresql://`` URL is read as ``postgresql+psycopg://`` (psycopg 3, installed by the
``postgres`` extra; SQLAlchemy's default for the plain scheme, psycopg2, is not installed); an explicit driver
(``postgresql+psycopg2://``) is kept. Optuna creates its tables and enum types on first use without a lock, so
workers started together on an empty database race (``UniqueViolation ... CREATE TYPE studydirection``): the
storage is opened under a PostgreSQL advisory lock, and only the first worker creates the schema.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy

from optuna.exceptions import ExperimentalWarning
from optuna.storages import BaseStorage, JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend

from tweetbert.errors import ConfigError

log = logging.getLogger(__name__)

STORAGE_KEY = "sweep.storage"
JOURNAL_PREFIX = "journal:"
RDB_SCHEMES = ("postgresql", "mysql", "sqlite")
MAX_RETRIES = 2  # a trial whose worker keeps dying (e.g. killed for memory) is given up after this many reruns
SCHEMA_LOCK = 0x7477_6565_7462_7274  # pg_advisory_lock key ("tweetbrt") held while a worker opens the storage


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


def database_url(url: str) -> str:
    """The URL SQLAlchemy is given: plain ``postgresql://`` names the driver we install (see the module docstring)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _shown(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return url.split("://", 1)[0] + "://..."


@contextlib.contextmanager
def _schema_lock(url: str) -> Iterator[None]:
    """Holds a PostgreSQL session-level advisory lock (no-op for other databases) while the storage is opened."""
    if not url.startswith("postgresql"):
        yield
        return
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK})
            try:
                yield
            finally:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK})
    finally:
        engine.dispose()


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
    url = database_url(str(url_or_path))
    if url.startswith("sqlite"):
        log.warning("SQLite storage %s: run one worker at a time (parallel workers fail with 'database is "
                    "locked'); use a journal file on one node or PostgreSQL across nodes", url)
        engine_kwargs = None
    else:
        engine_kwargs = {"pool_pre_ping": True}  # a worker holds its connection idle through hours-long trials
    try:
        with _schema_lock(url), warnings.catch_warnings():  # heartbeats have been "experimental" since Optuna 2.9
            warnings.simplefilter("ignore", ExperimentalWarning)
            return RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat_interval,
                              grace_period=grace_period,
                              heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=max_retries))
    except ImportError as error:  # SQLAlchemy's, or Optuna's re-raise of it
        cause = error.__cause__ or error
        raise ConfigError(STORAGE_KEY, f"{_shown(url)}: no database driver ({cause}); for PostgreSQL install the "
                                       "`postgres` extra: pip install 'tweetbert[postgres]'") from None
    except sqlalchemy.exc.OperationalError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        raise ConfigError(STORAGE_KEY, f"cannot open {_shown(url)}: {reason}") from None
