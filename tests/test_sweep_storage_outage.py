"""A sweep on PostgreSQL survives what clusters do to database servers: stops, quick restarts, outages past
``sweep.storage_retry_seconds`` (one line naming sweep.storage, then a rerun completes the study), servers that
accept connections but never answer, and workers killed mid-trial (their trial is rerun, with a warning).

Workers run as separate processes against the real test server, which these tests stop and start with
``tests/services/postgres.sh`` (``export "$(tests/services/postgres.sh)"`` starts it); each case gets a database of
its own, and the server is always started again.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from postgres_db import POSTGRES_URL, fresh_database, not_configured, server_url

from tweetbert.errors import ConfigError
from tweetbert.sweep.storage import open_storage

optuna.logging.set_verbosity(optuna.logging.WARNING)

# A worker process as the CLI runs it: logging configured, and a ConfigError (also one hidden by Optuna) reported as
# one line with exit status 2. Each trial reports `steps` values, `sleep` seconds apart; with `hang`, the first
# trial hangs (to be killed there).
CHILD = """
import json, logging, sys, time
from pathlib import Path
from tweetbert.errors import ConfigError
from tweetbert.sweep.storage import surfacing_storage_errors
from tweetbert.sweep.workers import run_worker
args = json.loads(sys.argv[1])
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

def objective(trial):
    x = trial.suggest_float("x", -5.0, 5.0)
    Path(args["started"]).touch()
    if args.get("hang"):
        time.sleep(600)
    for step in range(1, args["steps"] + 1):
        time.sleep(args["sleep"])
        trial.report(-abs(x - step), step)
    return -(x - 1.0) ** 2

try:
    with surfacing_storage_errors():
        run_worker("s", args["storage"], objective, args["n_trials"], seed=0, worker_id=args["worker_id"],
                   pruner="none", heartbeat_interval=args["heartbeat_interval"],
                   storage_retry_seconds=args["retry_seconds"])
except ConfigError as error:
    print(f"tweetbert finetune: error: {error}", file=sys.stderr)
    sys.exit(2)
"""
SERVICE = Path(__file__).parent / "services" / "postgres.sh"
OUTAGE_WARNING = "unreachable ("  # the outage's warning; its give-up reads "unreachable for more than"
HANG_GUARD = 90  # seconds: a hung worker fails the test instead of stalling it


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty database on the server that tests/services/postgres.sh controls, dropped afterwards."""
    from sqlalchemy.engine import make_url

    server = server_url()
    if server is None:
        pytest.skip(not_configured("PostgreSQL outage cases"))
    url = make_url(server)
    if (url.host, str(url.port)) != ("127.0.0.1", os.environ.get("TWEETBERT_PG_PORT", "55432")):
        pytest.skip(f"PostgreSQL outage cases NOT RUN: {POSTGRES_URL} names a server that "
                    "tests/services/postgres.sh does not stop and start")
    with fresh_database(server) as database:
        yield database


def _server(action: str) -> None:
    subprocess.run([str(SERVICE), action], check=True, capture_output=True, timeout=60)


@contextlib.contextmanager
def _server_down() -> Iterator[None]:
    """Stops the server for the block; starts it again even when the block fails, for the tests that follow."""
    _server("stop")
    try:
        yield
    finally:
        _server("start")


def _start(tmp_path: Path, worker_id: str, storage: str, **args) -> subprocess.Popen:
    args = {"storage": storage, "worker_id": worker_id, "n_trials": 6, "steps": 4, "sleep": 0.25,
            "heartbeat_interval": 2, "retry_seconds": 120.0, "started": str(tmp_path / f"{worker_id}.started"),
            **args}
    (tmp_path / f"{worker_id}.started").unlink(missing_ok=True)
    with open(tmp_path / f"{worker_id}.log", "w") as log:
        return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], stdout=log, stderr=log)


def _wait_until_running(tmp_path: Path, workers: dict[str, subprocess.Popen]) -> None:
    """Until every worker is inside a trial."""
    deadline = time.monotonic() + HANG_GUARD
    while not all((tmp_path / f"{w}.started").exists() for w in workers):
        assert all(p.poll() is None for p in workers.values()) and time.monotonic() < deadline, _logs(tmp_path)
        time.sleep(0.05)


def _logs(tmp_path: Path) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text()}" for log in sorted(tmp_path.glob("*.log")))


def _exit_status(process: subprocess.Popen, tmp_path: Path) -> int:
    try:
        return process.wait(HANG_GUARD)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"a worker hung\n{_logs(tmp_path)}")


def _finished_trials(storage: str) -> list[optuna.trial.FrozenTrial]:
    """The study's finished trials, after checking that every other trial lost the race for the last slot."""
    trials = optuna.load_study(study_name="s", storage=open_storage(storage)).trials
    assert all(t.state == TrialState.COMPLETE or t.user_attrs.get("surplus") for t in trials), trials
    return [t for t in trials if t.state == TrialState.COMPLETE]


def _states(storage: str) -> dict[str, int]:
    trials = optuna.load_study(study_name="s", storage=open_storage(storage)).trials
    return {state.name: n for state in TrialState if (n := sum(t.state == state for t in trials))}


def _check_sweep_survived(tmp_path: Path, storage: str, workers: dict[str, subprocess.Popen],
                          warnings: set[int]) -> None:
    for worker_id, process in workers.items():
        assert _exit_status(process, tmp_path) == 0, _logs(tmp_path)
        log = (tmp_path / f"{worker_id}.log").read_text()
        assert "Traceback" not in log and log.count(OUTAGE_WARNING) in warnings, log
    finished = _finished_trials(storage)
    assert len(finished) == 6 and len({t.params["x"] for t in finished}) == 6, finished


def test_workers_ride_out_a_server_stopped_for_longer_than_the_grace_period(tmp_path, postgres_url):
    workers = {w: _start(tmp_path, w, postgres_url) for w in ("a", "b")}
    _wait_until_running(tmp_path, workers)
    with _server_down():
        time.sleep(6)  # heartbeat every 2 s, grace period 4 s
    _check_sweep_survived(tmp_path, postgres_url, workers, warnings={1})
    warning = next(line for line in (tmp_path / "a.log").read_text().splitlines() if OUTAGE_WARNING in line)
    assert "WARNING" in warning and ":***@127.0.0.1" in warning and "up to 120 s (sweep.storage_retry_seconds)" in warning


def test_workers_ride_out_a_quick_server_restart(tmp_path, postgres_url):
    workers = {w: _start(tmp_path, w, postgres_url) for w in ("a", "b")}
    _wait_until_running(tmp_path, workers)
    with _server_down():
        pass
    # A worker that made no call while the server was down reconnects silently (SQLAlchemy's pre-ping).
    _check_sweep_survived(tmp_path, postgres_url, workers, warnings={0, 1})


def test_an_outage_past_the_retry_window_stops_a_worker_with_one_line_and_a_rerun_completes_the_study(
        tmp_path, postgres_url):
    worker = _start(tmp_path, "a", postgres_url, n_trials=3, heartbeat_interval=1, retry_seconds=3.0)
    _wait_until_running(tmp_path, {"a": worker})
    with _server_down():
        assert _exit_status(worker, tmp_path) == 2
    time.sleep(2)  # the grace period, after which the rerun fails the abandoned trial and enqueues it again
    log = (tmp_path / "a.log").read_text()
    assert "Traceback" not in log and log.count(OUTAGE_WARNING) == 1, log
    error = log.strip().splitlines()[-1]
    assert error.startswith("tweetbert finetune: error: config key 'sweep.storage': postgresql"), log
    assert "unreachable for more than 3 s (sweep.storage_retry_seconds)" in error and ":tweetbert@" not in error

    rerun = _start(tmp_path, "a", postgres_url, n_trials=3, heartbeat_interval=1)
    assert _exit_status(rerun, tmp_path) == 0, _logs(tmp_path)
    assert _states(postgres_url) == {"COMPLETE": 3, "FAIL": 1}  # the abandoned trial, failed and rerun


def test_a_server_that_accepts_but_never_answers_fails_opening_within_the_connect_timeout():
    pytest.importorskip("psycopg", reason="the `postgres` extra is not installed")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        for url, timeout in ((f"postgresql://u:secret@127.0.0.1:{port}/optuna", 1),
                             (f"postgresql://u:secret@127.0.0.1:{port}/optuna?connect_timeout=2", 600)):  # URL wins
            started = time.monotonic()
            with pytest.raises(ConfigError, match="timeout") as error:
                open_storage(url, connect_timeout=timeout)
            assert time.monotonic() - started < 10
            assert error.value.key == "sweep.storage" and "secret" not in str(error.value)


def test_a_running_trial_that_never_beat_is_stale_after_the_grace_period(postgres_url):
    storage = open_storage(postgres_url, heartbeat_interval=1, grace_period=2)
    study = optuna.create_study(study_name="s", storage=storage)
    trial = study.ask()  # as if its worker died before its first heartbeat, or a retried creation left a duplicate
    assert trial._trial_id not in storage._get_stale_trial_ids(study._study_id)
    time.sleep(2.5)
    assert trial._trial_id in storage._get_stale_trial_ids(study._study_id)


def test_a_killed_workers_trial_is_rerun_with_a_warning(tmp_path, postgres_url):
    dead = _start(tmp_path, "a", postgres_url, n_trials=3, heartbeat_interval=1, hang=True)
    _wait_until_running(tmp_path, {"a": dead})
    dead.send_signal(signal.SIGKILL)
    dead.wait()
    time.sleep(2)  # the grace period, after which the next worker fails the trial and enqueues it again
    survivor = _start(tmp_path, "b", postgres_url, n_trials=3, heartbeat_interval=1)
    assert _exit_status(survivor, tmp_path) == 0, _logs(tmp_path)
    assert ("trial 0 of a dead worker (no heartbeat for 2 s) failed; its parameters are enqueued again "
            "(retry 1 of 2)") in (tmp_path / "b.log").read_text()
    assert _states(postgres_url) == {"COMPLETE": 3, "FAIL": 1}
