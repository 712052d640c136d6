"""optuna-dashboard (the `dashboard` extra) watching a sweep study, started exactly as docs/dashboard.md tells users:
it lists the study a worker made, shows its trials, follows trials added while it runs, and writes nothing to the
study while it is only looked at (a journal file keeps its bytes; on PostgreSQL it runs in a read-only session, which
refuses the writes its buttons would make).

The PostgreSQL case runs when ``TWEETBERT_TEST_POSTGRES_URL`` names a server whose role may create databases
(``export "$(tests/services/postgres.sh)"`` starts one); it gets a database of its own.
"""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from tweetbert.sweep.storage import open_storage

pytest.importorskip("optuna_dashboard", reason="optuna-dashboard is not installed (the `dashboard` extra): "
                                               "pip install '.[dashboard]'")

optuna.logging.set_verbosity(optuna.logging.WARNING)

DASHBOARD = Path(sys.executable).with_name("optuna-dashboard")  # the console script of the extra, beside python
STUDY = "demo/sentiment"  # the workflow names a study <model>/<task>
JOURNAL = Path("results/demo/finetune/demo/sentiment/study.journal")  # results/<run_name>/finetune/<model>/<task>/
START_TIMEOUT = 60.0  # seconds; the dashboard answers within about 3 s here
READ_ONLY = "-c default_transaction_read_only=on"  # PGOPTIONS of docs/dashboard.md


def _objective(trial: optuna.Trial) -> float:
    return trial.suggest_float("learning_rate", 1e-5, 1e-3, log=True)


def _sweep(storage: str, n_trials: int) -> None:
    """Runs the study's trials up to ``n_trials``, on the storage a fine-tuning worker opens (``open_storage``)."""
    study = optuna.create_study(study_name=STUDY, direction="maximize", storage=open_storage(storage),
                                sampler=optuna.samplers.RandomSampler(seed=0), load_if_exists=True)
    study.optimize(_objective, n_trials=n_trials - len(study.get_trials(deepcopy=False)))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _call(base: str, path: str, *, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@contextlib.contextmanager
def _dashboard(storage: str, cwd: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`optuna-dashboard <storage> --host 127.0.0.1 --port <free port>`, up once its studies API answers."""
    port = _free_port()
    with log.open("w") as output:
        process = subprocess.Popen([str(DASHBOARD), storage, "--host", "127.0.0.1", "--port", str(port)], cwd=cwd,
                                   env={**os.environ, **(env or {})}, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"optuna-dashboard exited ({process.returncode}) before answering:\n{log.read_text()}")
            try:
                urllib.request.urlopen(base + "/api/studies", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"optuna-dashboard did not answer in {START_TIMEOUT:.0f} s:\n{log.read_text()}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _shown_study(base: str) -> tuple[int, str]:
    status, answer = _call(base, "/api/studies")
    assert status == 200, answer
    [study] = answer["study_summaries"]
    return study["study_id"], study["study_name"]


def _shown_trials(base: str, study_id: int, expected: int) -> list[dict]:
    """The study's trials as the dashboard shows them, once it shows ``expected`` (it caches them for 2 s)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        status, answer = _call(base, f"/api/studies/{study_id}")
        assert status == 200, answer
        if len(answer["trials"]) == expected or time.monotonic() > deadline:
            return answer["trials"]
        time.sleep(0.5)


def _files(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes() if path.is_file() else b""
            for path in sorted(directory.rglob("*"))}


def test_dashboard_on_a_journal_file_shows_the_study_and_its_new_trials_and_writes_nothing_while_watching(tmp_path):
    journal = tmp_path / JOURNAL
    _sweep(str(journal), n_trials=3)
    study_dir = journal.parent
    before = _files(study_dir)

    # docs/dashboard.md: run from the repository root, the journal's path as the storage.
    with _dashboard(str(JOURNAL), cwd=tmp_path, log=tmp_path / "dashboard.log") as base:
        study_id, name = _shown_study(base)
        assert name == STUDY
        trials = _shown_trials(base, study_id, expected=3)
        assert [trial["state"] for trial in trials] == ["Complete"] * 3
        assert _files(study_dir) == before  # looking wrote nothing: no line, no lock, no new file

        _sweep(str(journal), n_trials=5)  # a worker goes on while the dashboard runs
        assert len(_shown_trials(base, study_id, expected=5)) == 5


def test_dashboard_on_postgresql_shows_the_study_and_its_new_trials_in_a_read_only_session(tmp_path, postgres_url):
    assert postgres_url.startswith("postgresql+psycopg://")  # the form docs/dashboard.md gives: psycopg 3
    _sweep(postgres_url, n_trials=3)

    with _dashboard(postgres_url, cwd=tmp_path, log=tmp_path / "dashboard.log", env={"PGOPTIONS": READ_ONLY}) as base:
        study_id, name = _shown_study(base)
        assert name == STUDY
        assert len(_shown_trials(base, study_id, expected=3)) == 3

        _sweep(postgres_url, n_trials=5)  # a worker goes on while the dashboard runs
        assert len(_shown_trials(base, study_id, expected=5)) == 5

        # Its buttons write (here: "Create Study", a note); the read-only session refuses them.
        status, _ = _call(base, "/api/studies", method="POST", body={"study_name": "stray", "directions": ["minimize"]})
        assert status == 500
        status, _ = _call(base, f"/api/studies/{study_id}/note", method="PUT", body={"version": 1, "body": "hi"})
        assert status == 500
        assert _shown_study(base) == (study_id, STUDY)
    storage = optuna.storages.RDBStorage(postgres_url)
    assert storage.get_study_system_attrs(storage.get_study_id_from_name(STUDY)) == {}  # no note was saved
    assert [study.study_name for study in storage.get_all_studies()] == [STUDY]
