"""Where a study lives: a journal file on one node's (or a shared) file system, or an RDB server across nodes.

Optuna 5's journal storage has no heartbeat, so a killed worker's trial stays RUNNING there;
:mod:`tweetbert.sweep.lease` recovers it. An RDB storage has Optuna's own heartbeat: a trial whose worker stopped
beating for ``grace_period`` seconds is failed and re-enqueued by :class:`LoggedRetryCallback` (Optuna's
``RetryHeartbeatStaleTrialCallback``, passed as ``heartbeat_stale_trial_callback``, plus the warning the journal's
recovery logs).

PostgreSQL: a plain ``postgresql://`` URL is read as ``postgresql+psycopg://`` (psycopg 3, installed by the
``postgres`` extra; SQLAlchemy's default for the plain scheme, psycopg2, is not installed); an explicit driver
(``postgresql+psycopg2://``) is kept. Optuna creates its tables and enum types on first use without a lock, so
workers started together on an empty database race (``UniqueViolation ... CREATE TYPE studydirection``): the
storage is opened under a PostgreSQL advisory lock, and only the first worker creates the schema. libpq's
``connect_timeout`` is set (unless the URL sets it), so a server that accepts connections but never answers fails
a worker instead of hanging it. Opening a storage is not retried: a server down when a worker starts is one
:class:`~tweetbert.errors.ConfigError` line.

Clusters restart and fail over database servers. Optuna's RDB storage fails on the first lost connection, from the
heartbeat thread as well as from the trial (and then hides the cause behind its own ``UnboundLocalError``), so a
server storage (not SQLite, which is one worker's local file) is a :class:`ResilientRDBStorage`: every storage call
rides out an outage of up to ``sweep.storage_retry_seconds`` (see the class), and past that a worker stops with
:class:`StorageUnreachable`, which :func:`surfacing_storage_errors` digs out of Optuna's masking exception.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import optuna
import sqlalchemy
from optuna.exceptions import ExperimentalWarning, UpdateFinishedTrialError
from optuna.storages import BaseStorage, JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from tweetbert.errors import ConfigError
from tweetbert.sweep.settings import SWEEP_DEFAULTS as _D

log = logging.getLogger(__name__)

STORAGE_KEY = "sweep.storage"
RETRY_KEY = "sweep.storage_retry_seconds"
JOURNAL_PREFIX = "journal:"
RDB_SCHEMES = ("postgresql", "mysql", "sqlite")
MAX_RETRIES = 2  # a trial whose worker keeps dying (e.g. killed for memory) is given up after this many reruns
SCHEMA_LOCK = 0x7477_6565_7462_7274  # pg_advisory_lock key ("tweetbrt") held while a worker opens the storage
FIRST_BACKOFF = 0.25  # seconds before the first retry of a failed storage call; doubled up to MAX_BACKOFF
MAX_BACKOFF = 2.0
_T = TypeVar("_T")


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


class StorageUnreachable(ConfigError):
    """The database stayed unreachable past ``sweep.storage_retry_seconds``; the study is intact, so a rerun resumes."""

    def __init__(self, url: str, retry_seconds: float, cause: str):
        super().__init__(STORAGE_KEY, f"{url} unreachable for more than {retry_seconds:g} s ({RETRY_KEY}): {cause}; "
                                      "re-run to resume the study")


def storage_failure(error: BaseException) -> StorageUnreachable | None:
    """The :class:`StorageUnreachable` behind ``error``, found along its ``__cause__``/``__context__`` chain.

    When storing a trial's result gives up, Optuna's ``_run_trial`` asks the storage again in its ``except`` and,
    failing again, raises an ``UnboundLocalError`` (or an ``AssertionError``) that hides the cause.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, StorageUnreachable):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


@contextlib.contextmanager
def surfacing_storage_errors() -> Iterator[None]:
    """Raises the :class:`StorageUnreachable` behind any exception of the block in its place (see
    :func:`storage_failure`), so that the CLI reports it as one line naming ``sweep.storage``."""
    try:
        yield
    except Exception as error:
        failure = storage_failure(error)
        if failure is None or failure is error:
            raise
        raise failure from None


class _ConnectionLost(Exception):
    """A connection to the database could not be made or broke (raised by :func:`_raise_if_lost`)."""


def _raise_if_lost(context: sqlalchemy.engine.ExceptionContext) -> None:
    """SQLAlchemy's ``handle_error`` hook: turns a failed or broken connection into :class:`_ConnectionLost`.

    Not an SQLAlchemy error, so Optuna passes it through untouched: it would wrap one in ``StorageInternalError``
    and, when creating a trial, retry it five times with sleeps of its own. Errors the server reports on a live
    connection (a deadlock, a constraint) keep their type. A failed pre-ping is left to SQLAlchemy, which reconnects.
    """
    if context.is_pre_ping:
        return
    error = context.original_exception
    state = getattr(error, "sqlstate", None)  # SQLSTATE class 08: connection exception; 57P: server shutting down
    lost_type = isinstance(context.sqlalchemy_exception, (sqlalchemy.exc.OperationalError,
                                                          sqlalchemy.exc.InterfaceError))
    if context.is_disconnect or (lost_type and (state is None or state.startswith(("08", "57P")))):
        raise _ConnectionLost(_one_line(error))


def _one_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class _Outage:
    """The outage clock of one storage, shared by its threads: it starts at the first failed call and stops at the
    next successful one. Logs one warning as an outage starts and one line when the server answers again."""

    def __init__(self, url: str, retry_seconds: float):
        self.url = url
        self.retry_seconds = retry_seconds
        self._lock = threading.Lock()
        self._since: float | None = None
        self._ended = -math.inf

    def failed(self, cause: str) -> float:
        """Seconds left to retry; raises :class:`StorageUnreachable` once none are."""
        now = time.monotonic()
        with self._lock:
            if self._since is None:
                self._since = now
                log.warning("%s unreachable (%s): retrying every storage call for up to %g s (%s)", self.url, cause,
                            self.retry_seconds, RETRY_KEY)
            left = self._since + self.retry_seconds - now
        if left <= 0:
            raise StorageUnreachable(self.url, self.retry_seconds, cause)
        return left

    def answered(self) -> None:
        with self._lock:
            if self._since is not None:
                log.info("%s answers again, after %.1f s", self.url, time.monotonic() - self._since)
                self._since, self._ended = None, time.monotonic()

    def quiet_for(self) -> float:
        """Seconds since the last outage ended (infinite if none did; 0 during one)."""
        with self._lock:
            return 0.0 if self._since is not None else time.monotonic() - self._ended


class ResilientRDBStorage(RDBStorage):
    """An RDB storage whose calls ride out a database outage of up to ``retry_seconds``.

    A call whose connection fails is retried with exponential backoff (capped at ``MAX_BACKOFF`` and at half the
    heartbeat interval, so that a worker's heartbeat resumes well within the grace period); past ``retry_seconds``
    since the outage began, a call raises :class:`StorageUnreachable` (at once, when made that late). The
    heartbeat thread never raises: its give-up is reported by the main thread's next call. Retries are made safe:

    - a state change whose acknowledgement was lost, retried, finds the trial in that state: that is success;
    - a RUNNING trial without any heartbeat (a duplicate from a retried trial creation whose first commit landed,
      or a worker killed before its first heartbeat) is stale once older than the grace period; Optuna ignores it,
      so it would hold a slot of the study forever;
    - no trial is stale within a grace period of the end of an outage, nor of a PostgreSQL server's start (which
      workers that were idle during the restart did not notice): no heartbeat could be recorded meanwhile.

    A subclass of Optuna's class, so that Optuna caches it and runs its heartbeat as usual.
    """

    def __init__(self, url: str, *, retry_seconds: float, **kwargs: Any):
        super().__init__(url, **kwargs)
        self._outage = _Outage(_shown(url), retry_seconds)
        self._max_backoff = min(MAX_BACKOFF, (self.heartbeat_interval or math.inf) / 2)
        sqlalchemy.event.listen(self.engine, "handle_error", _raise_if_lost)

    def _retrying(self, call: Callable[[], _T], again: Callable[[], _T] | None = None) -> _T:
        """``call()``, repeated (as ``again()``, if given) while the database is unreachable."""
        backoff = FIRST_BACKOFF
        while True:
            try:
                result = call()
            except _ConnectionLost as lost:
                self.scoped_session.remove()  # this thread's next call starts a fresh session
                time.sleep(min(backoff, self._outage.failed(str(lost))))
                backoff = min(2 * backoff, self._max_backoff)
                call = again or call
                continue
            self._outage.answered()
            return result

    def set_trial_state_values(self, trial_id: int, state: TrialState, values: Any = None) -> bool:
        def again() -> bool:
            try:
                return RDBStorage.set_trial_state_values(self, trial_id, state, values)
            except UpdateFinishedTrialError:
                if RDBStorage.get_trial(self, trial_id).state == state:  # the lost attempt had committed
                    return True
                raise

        return self._retrying(functools.partial(RDBStorage.set_trial_state_values, self, trial_id, state, values),
                              again)

    def record_heartbeat(self, trial_id: int) -> None:
        with contextlib.suppress(StorageUnreachable):  # would be a traceback from Optuna's heartbeat thread
            self._retrying(functools.partial(RDBStorage.record_heartbeat, self, trial_id))

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        return self._retrying(functools.partial(self._stale_trial_ids, study_id))

    def _grace_period(self) -> float:
        return self.grace_period or 2 * (self.heartbeat_interval or 0)

    def _stale_trial_ids(self, study_id: int) -> list[int]:
        grace = self._grace_period()
        if min(self._outage.quiet_for(), self._server_uptime()) < grace:
            return []
        silent_since = datetime.now() - timedelta(seconds=grace)
        with _create_scoped_session(self.scoped_session) as session:
            running = session.query(models.TrialModel).filter(
                models.TrialModel.study_id == study_id, models.TrialModel.state == TrialState.RUNNING,
                ~models.TrialModel.heartbeats.any()).all()
            silent = [t.trial_id for t in running if t.datetime_start is not None and t.datetime_start < silent_since]
        return RDBStorage._get_stale_trial_ids(self, study_id) + silent

    def _server_uptime(self) -> float:
        if self.engine.dialect.name != "postgresql":
            return math.inf
        with _create_scoped_session(self.scoped_session) as session:
            uptime = session.execute(sqlalchemy.text("SELECT EXTRACT(EPOCH FROM now() - pg_postmaster_start_time())"))
            return float(uptime.scalar_one())


def _retried(method: Callable[..., _T]) -> Callable[..., _T]:
    @functools.wraps(method)
    def call(self: ResilientRDBStorage, *args: Any, **kwargs: Any) -> _T:
        return self._retrying(functools.partial(method, self, *args, **kwargs))

    return call


# Every other RDBStorage method that opens a session (Optuna's cache calls the private ones).
for _name in ("create_new_study", "delete_study", "set_study_user_attr", "set_study_system_attr",
              "get_study_id_from_name", "get_study_name_from_id", "get_study_directions", "get_study_user_attrs",
              "get_study_system_attrs", "get_all_studies", "_create_new_trial", "_set_trial_param", "get_trial_param",
              "set_trial_intermediate_value", "set_trial_user_attr", "set_trial_system_attr", "get_trial_user_attrs",
              "get_trial_system_attrs", "get_trial_id_from_study_id_trial_number", "get_trial", "_get_trials",
              "_get_best_trial_id"):
    setattr(ResilientRDBStorage, _name, _retried(getattr(RDBStorage, _name)))


class LoggedRetryCallback(RetryHeartbeatStaleTrialCallback):
    """Optuna's re-enqueueing of a dead worker's trial, logged like the journal's recovery (:mod:`.lease`)."""

    def __init__(self, max_retry: int, grace_period: float):
        super().__init__(max_retry=max_retry)
        self.max_retry = max_retry
        self.grace_period = grace_period

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        retry = len(trial.system_attrs.get("retry_history", [])) + 1  # as Optuna counts them (and then appends)
        super().__call__(study, trial)
        dead = f"trial {trial.number} of a dead worker (no heartbeat for {self.grace_period:g} s) failed"
        if retry > self.max_retry:
            log.warning("%s; its parameters were already rerun %d times: given up", dead, retry - 1)
        else:
            log.warning("%s; its parameters are enqueued again (retry %d of %d)", dead, retry, self.max_retry)


def _connect_args(url: str, connect_timeout: int) -> dict[str, Any]:
    """libpq's ``connect_timeout`` for a PostgreSQL URL that does not set its own."""
    if url.startswith("postgresql") and "connect_timeout" not in sqlalchemy.engine.make_url(url).query:
        return {"connect_timeout": connect_timeout}
    return {}


@contextlib.contextmanager
def _schema_lock(url: str, connect_args: dict[str, Any]) -> Iterator[None]:
    """Holds a PostgreSQL session-level advisory lock (no-op for other databases) while the storage is opened."""
    if not url.startswith("postgresql"):
        yield
        return
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK})
            try:
                yield
            finally:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK})
    finally:
        engine.dispose()


def open_storage(url_or_path: str | Path, *, heartbeat_interval: int = _D.heartbeat_interval,
                 grace_period: int | None = _D.grace_period, max_retries: int = MAX_RETRIES,
                 retry_seconds: float = _D.storage_retry_seconds,
                 connect_timeout: int = _D.storage_connect_timeout) -> BaseStorage:
    """A path (or ``journal:<path>``) opens a journal file, creating its directory; a database URL an RDB storage.

    The journal suits the workers of one node (file locks across NFS clients can lose lines under load); an RDB URL
    (PostgreSQL) suits workers on many nodes. SQLite is accepted for a single worker only: concurrent writers fail
    with "database is locked". ``heartbeat_interval``, ``grace_period`` (default: twice the interval) and
    ``max_retries`` apply to RDB storages; ``retry_seconds`` (see :class:`ResilientRDBStorage`) and
    ``connect_timeout`` (libpq's, in seconds) to database servers.
    """
    journal = journal_path(url_or_path)
    if journal is not None:
        journal.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(journal)))
    url = database_url(str(url_or_path))
    engine_kwargs: dict[str, Any] = {"connect_args": _connect_args(url, connect_timeout)}
    if url.startswith("sqlite"):
        log.warning("SQLite storage %s: run one worker at a time (parallel workers fail with 'database is "
                    "locked'); use a journal file on one node or PostgreSQL across nodes", url)
        kind: Callable[..., RDBStorage] = RDBStorage
    else:
        engine_kwargs["pool_pre_ping"] = True  # a worker holds its connection idle through hours-long trials
        kind = functools.partial(ResilientRDBStorage, retry_seconds=retry_seconds)
    try:
        with _schema_lock(url, engine_kwargs["connect_args"]), warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)  # heartbeats have been "experimental" since 2.9
            callback = LoggedRetryCallback(max_retries, grace_period or 2 * heartbeat_interval)
            return kind(url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat_interval,
                        grace_period=grace_period, heartbeat_stale_trial_callback=callback)
    except ImportError as error:  # SQLAlchemy's, or Optuna's re-raise of it
        cause = error.__cause__ or error
        raise ConfigError(STORAGE_KEY, f"{_shown(url)}: no database driver ({cause}); for PostgreSQL install the "
                                       "`postgres` extra: pip install 'tweetbert[postgres]'") from None
    except sqlalchemy.exc.OperationalError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        raise ConfigError(STORAGE_KEY, f"cannot open {_shown(url)}: {reason}") from None
