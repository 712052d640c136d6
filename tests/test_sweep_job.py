"""A study's sweep job: its workers are processes of one job, sharing its GPUs, and the job scores the study."""

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pandas as pd
import pytest

from tweetbert.config import validate_config
from tweetbert.demo import write_tasks
from tweetbert.errors import ConfigError
from tweetbert.sweep.job import VISIBLE_DEVICES, _environment, job_gpus, worker_ids
from tweetbert.sweep.storage import open_storage
from tweetbert.sweep.workers import FINISHED

HANG_GUARD_SECONDS = 300  # a normal run takes 15-30 s on a loaded 2-core machine


def test_workers_are_spread_round_robin_over_the_jobs_gpus_and_one_gpu_leaves_the_environment_alone():
    assert job_gpus(2, "3,5") == ["3", "5"]  # SLURM's allocation, whatever the requested count
    assert job_gpus(4, None) == ["0", "1", "2", "3"]
    assert job_gpus(1, None) == [] and job_gpus(1, "7") == [] and job_gpus(2, "") == ["0", "1"]
    assert worker_ids(3, None) == ["w0", "w1", "w2"] and worker_ids(2, 1) == ["j1w0", "j1w1"]
    before = os.environ.get(VISIBLE_DEVICES)
    with _environment(VISIBLE_DEVICES, "5"):
        assert os.environ[VISIBLE_DEVICES] == "5"
    assert os.environ.get(VISIBLE_DEVICES) == before


def test_a_study_spanning_jobs_needs_a_database_server_and_the_error_names_both_keys():
    config = {"sweep": {"jobs_per_study": 2}}
    with pytest.raises(ConfigError, match=r"sweep.storage.*'journal'.*sweep.jobs_per_study = 2.*postgresql://"):
        validate_config(config)
    with pytest.raises(ConfigError, match="sweep.jobs_per_study"):
        validate_config({"sweep": {"jobs_per_study": 2, "storage": "sqlite:///study.db"}})
    validated = validate_config({"sweep": {"jobs_per_study": 2, "storage": "postgresql://u@host/db"}})
    assert validated["sweep"]["workers"] == 1 and validated["sweep"]["gpus"] == 1


def test_one_job_runs_two_worker_processes_to_exactly_n_trials_and_scores_the_best_on_test(tiny_base_model, tmp_path):
    write_tasks(tmp_path / "tasks", seed=0)
    space = json.dumps({"epochs": {"low": 1, "high": 2}, "batch_size": {"choices": [16]}})
    command = [str(Path(sys.executable).parent / "tweetbert"), "finetune-sweep", "--model", str(tiny_base_model),
               "--task", "sentiment3", "--task-option", f"path={tmp_path / 'tasks' / 'sentiment3.csv'}",
               "--task-option", "max_examples=40", "--storage", str(tmp_path / "study.journal"), "--study", "s",
               "--max-length", "32", "--keep-dir", str(tmp_path / "kept"), "--n-trials", "4", "--workers", "2",
               "--threads", "2", "--pruner", "none", "--space", space, "--name", "base",
               "--best", str(tmp_path / "best.json"), "--trials", str(tmp_path / "trials.tsv"),
               "--predictions", str(tmp_path / "test_predictions.json")]
    run = subprocess.run(command, capture_output=True, text=True, timeout=HANG_GUARD_SECONDS,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"}, check=False)
    assert run.returncode == 0, run.stderr[-4000:]
    assert "Traceback" not in run.stderr
    assert "INFO w1 tweetbert.sweep.workers: worker w1: study s has" in run.stderr  # the spawned worker took part

    study = optuna.load_study(study_name="s", storage=open_storage(tmp_path / "study.journal"))
    finished = [t for t in study.trials if t.state in FINISHED]
    assert len(finished) == 4 and len({tuple(sorted(t.params.items())) for t in finished}) == 4
    trials = pd.read_csv(tmp_path / "trials.tsv", sep="\t")
    assert set(trials["worker"]) <= {"w0", "w1"} and len(trials[trials["state"] == "COMPLETE"]) == 4
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["trial"] == study.best_trial.number and set(best["test"]) == {"accuracy"}
    assert not list((tmp_path / "study.journal.leases").glob("*.json"))  # every worker gave its lease back
