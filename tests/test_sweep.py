"""The fine-tuning sweep machinery, model-free: workers in separate processes sharing one study finish exactly N
trials, a SIGKILLed worker's trial is failed and rerun and its replacement does not repeat it, pruning, the search
space, seeding, and the transformers callback that reports to the trial.

Storage-dependent cases run on a journal file always and on PostgreSQL when ``TWEETBERT_TEST_POSTGRES_URL`` names
a server whose role may create databases (``export "$(tests/services/postgres.sh)"`` starts one); each case gets a
database of its own.
"""

import datetime
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import optuna
import pytest
from optuna.trial import TrialState

from tweetbert.errors import ConfigError
from tweetbert.sweep.lease import LEASE_ATTR, RETRY_OF_ATTR, lease_dir, lease_is_dead, trial_is_dead
from tweetbert.sweep.results import best_trial_summary, trials_table
from tweetbert.sweep.space import parse_space, suggest
from tweetbert.sweep.storage import database_url, journal_path, open_storage
from tweetbert.sweep.workers import holds_slot, make_pruner, run_worker

optuna.logging.set_verbosity(optuna.logging.WARNING)

# A worker in its own process, staying, as a study's leading job does, until the study is complete (to rerun the
# trial of a worker that died). Optional: wait for a start signal (so that both workers of a test really overlap),
# and hang in the trial after `hang_after` trials (to be killed there).
CHILD = """
import json, sys, time
from pathlib import Path
from tweetbert.sweep.workers import run_worker, study_is_complete
args = json.loads(sys.argv[1])
done = []

def objective(trial):
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_int("y", 0, 3)
    if args.get("hang_after") == len(done):
        Path(args["marker"]).write_text(str(trial.number))
        time.sleep(600)
    time.sleep(args["sleep"])
    done.append(trial.number)
    return -(x - 1.0) ** 2 - y

if args.get("go"):
    Path(args["ready"]).touch()
    while not Path(args["go"]).exists():
        time.sleep(0.02)
while not study_is_complete(
        run_worker(args["study"], args["storage"], objective, args["n_trials"], seed=0, worker_id=args["worker_id"],
                   pruner="none", lease_timeout=args["lease_timeout"], heartbeat_interval=args["heartbeat_interval"],
                   grace_period=args["grace_period"]), args["n_trials"]):
    time.sleep(0.1)
"""
# Quick verdicts on dead workers: lease timeout (journal), heartbeat interval and grace period (PostgreSQL).
QUICK = {"lease_timeout": 1.0, "heartbeat_interval": 1, "grace_period": 2}


@pytest.fixture(params=["journal", "postgresql"])
def storage(request, tmp_path) -> str:
    """Where a study of the test lives: a journal file, or a PostgreSQL database of its own."""
    if request.param == "journal":
        return str(tmp_path / "study.journal")
    return request.getfixturevalue("postgres_url")


def _start(tmp_path: Path, **args) -> subprocess.Popen:
    args = {"study": "s", "sleep": 0.0, "lease_timeout": 600.0, "heartbeat_interval": 60, "grace_period": None,
            **args}
    with open(tmp_path / f"{args['worker_id']}.log", "a") as log:
        return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], stdout=log, stderr=log)


def _start_together(tmp_path: Path, worker_ids: list[str], **args) -> dict[str, subprocess.Popen]:
    """Workers that wait, imports done, for one signal, so that they open the storage at the same moment."""
    workers = {worker_id: _start(tmp_path, worker_id=worker_id, ready=str(tmp_path / f"{worker_id}.ready"),
                                 go=str(tmp_path / "go"), **args) for worker_id in worker_ids}
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"{w}.ready").exists() for w in workers):
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.05)
    (tmp_path / "go").touch()
    return workers


def _finish(process: subprocess.Popen, tmp_path: Path, worker_id: str, timeout: float = 60) -> None:
    assert process.wait(timeout) == 0, (tmp_path / f"{worker_id}.log").read_text()


def _kill_when_hanging(process: subprocess.Popen, marker: Path, log: Path) -> int:
    """SIGKILLs a worker once it hangs in a trial; returns that trial's number."""
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return int(marker.read_text())


def _load(storage: str | Path) -> optuna.Study:
    return optuna.load_study(study_name="s", storage=open_storage(storage))


def _states(study: optuna.Study) -> dict[str, int]:
    return trials_table(study)["state"].value_counts().to_dict()


def test_two_concurrent_workers_finish_exactly_n_trials_together(tmp_path, storage):
    workers = _start_together(tmp_path, ["a", "b"], storage=storage, n_trials=10, sleep=0.15)
    for worker_id, process in workers.items():
        _finish(process, tmp_path, worker_id)

    table = trials_table(_load(storage))
    complete = table[table["state"] == "COMPLETE"]
    assert len(complete) == 10
    assert table["number"].is_unique and set(table["state"]) <= {"COMPLETE", "FAIL"}
    assert table.loc[table["state"] == "FAIL", "surplus"].all()  # a lost race for the last slot, nothing else
    assert set(complete["worker"]) == {"a", "b"}
    journal = journal_path(storage)
    if journal is not None:
        assert not list(lease_dir(journal).glob("*.json"))  # leases are given back


def test_four_workers_started_together_on_an_empty_database_all_join_one_study(tmp_path, postgres_url):
    workers = _start_together(tmp_path, ["a", "b", "c", "d"], storage=postgres_url, n_trials=8, sleep=0.05)
    for worker_id, process in workers.items():
        _finish(process, tmp_path, worker_id)  # not: UniqueViolation ... CREATE TYPE studydirection
    assert _states(_load(postgres_url))["COMPLETE"] == 8


def test_a_killed_worker_is_rerun_and_its_replacement_does_not_repeat_its_trials(tmp_path, storage):
    marker = tmp_path / "hanging"
    process = _start(tmp_path, worker_id="a", storage=storage, n_trials=6, hang_after=2, marker=str(marker), **QUICK)
    killed = _kill_when_hanging(process, marker, tmp_path / "a.log")
    # The job is retried under the same worker id.
    _finish(_start(tmp_path, worker_id="a", storage=storage, n_trials=6, **QUICK), tmp_path, "a")

    study = _load(storage)
    assert _states(study) == {"COMPLETE": 6, "FAIL": 1}
    assert study.trials[killed].state == TrialState.FAIL
    table = trials_table(study)
    rerun = table[table["retry_of"] == killed]
    assert len(rerun) == 1 and rerun["state"].tolist() == ["COMPLETE"]
    assert study.trials[int(rerun["number"].iloc[0])].params == study.trials[killed].params
    finished = [tuple(sorted(t.params.items())) for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(set(finished)) == 6, finished
    journal = journal_path(storage)
    if journal is not None:  # the dead worker's lease went with its trial's rerun; the replacement gave its own back
        assert not list(lease_dir(journal).glob("*.json"))


def test_a_killed_workers_lease_from_another_node_counts_as_dead_once_stale_and_is_removed(tmp_path):
    journal, marker = tmp_path / "study.journal", tmp_path / "hanging"
    process = _start(tmp_path, worker_id="a", storage=str(journal), n_trials=5, hang_after=2, marker=str(marker),
                     lease_timeout=1.0)
    killed = _kill_when_hanging(process, marker, tmp_path / "a.log")

    # As if the worker had run on another node: no pid to check, only the lease's age tells it is dead.
    study = _load(journal)
    trial = study.trials[killed]
    assert trial.state == TrialState.RUNNING
    lease = lease_dir(journal) / trial.user_attrs[LEASE_ATTR]
    lease.write_text(json.dumps({**json.loads(lease.read_text()), "hostname": "another-node"}))
    assert not trial_is_dead(trial, lease_dir(journal), timeout=1.0)
    time.sleep(1.2)
    assert trial_is_dead(trial, lease_dir(journal), timeout=1.0)

    _finish(_start(tmp_path, worker_id="b", storage=str(journal), n_trials=5, lease_timeout=1.0), tmp_path, "b")
    study = _load(journal)
    assert _states(study) == {"COMPLETE": 5, "FAIL": 1}
    rerun = [t for t in study.trials if t.user_attrs.get(RETRY_OF_ATTR) == killed]
    assert len(rerun) == 1 and rerun[0].state == TrialState.COMPLETE and rerun[0].user_attrs["worker"] == "b"
    assert not lease.exists()


def test_a_lease_is_dead_when_missing_stale_or_its_pid_is_gone(tmp_path):
    lease = tmp_path / "w.json"
    assert lease_is_dead(lease, timeout=10)
    lease.write_text(json.dumps({"hostname": "another-node", "pid": os.getpid()}))
    assert not lease_is_dead(lease, timeout=10)
    assert lease_is_dead(lease, timeout=10, now=time.time() + 11)
    dead = subprocess.Popen([sys.executable, "-c", ""])
    dead.wait()
    lease.write_text(json.dumps({"hostname": socket.gethostname(), "pid": dead.pid}))
    assert lease_is_dead(lease, timeout=10)
    # A trial not yet labelled with its lease is given the same time as a lease to show a sign of life.
    started = SimpleNamespace(user_attrs={}, datetime_start=datetime.datetime.now())
    assert not trial_is_dead(started, tmp_path, timeout=10)
    assert trial_is_dead(started, tmp_path, timeout=10, now=time.time() + 11)


def test_only_the_first_n_live_trials_hold_a_slot():
    trials = [SimpleNamespace(number=i, state=s) for i, s in enumerate(
        [TrialState.COMPLETE, TrialState.FAIL, TrialState.WAITING, TrialState.RUNNING, TrialState.RUNNING])]
    assert holds_slot(trials, 3, n_trials=3)  # 0 and 2 are ahead of it; 1 failed
    assert not holds_slot(trials, 4, n_trials=3)  # lost the race to 3


def test_the_median_pruner_prunes_bad_trials_and_pruned_trials_count(tmp_path, caplog):
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        for epoch in (1, 2, 3):
            trial.report(x * epoch, step=epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return 3 * x

    url = f"sqlite:///{tmp_path / 'study.db'}"
    with caplog.at_level(logging.WARNING, logger="tweetbert.sweep.storage"):
        run_worker("s", url, objective, 16, seed=1, worker_id="a", pruner="median")
    assert "one worker at a time" in caplog.text
    study = optuna.load_study(study_name="s", storage=url)
    states = _states(study)
    assert states["PRUNED"] > 0 and states["COMPLETE"] + states["PRUNED"] == 16 and set(states) <= {
        "COMPLETE", "PRUNED"}
    table = trials_table(study)
    assert (table.loc[table["state"] == "PRUNED", "epochs_reported"] < 3).all()
    summary = best_trial_summary(study)
    assert summary["best_value"] == max(t.value for t in study.trials if t.state == TrialState.COMPLETE)
    assert summary["n_pruned"] == states["PRUNED"] and summary["best_worker"] == "a"
    json.dumps(summary)
    run_worker("s", url, objective, 16, seed=1, worker_id="b", pruner="median")  # already complete: no new trial
    assert len(optuna.load_study(study_name="s", storage=url).trials) == 16
    with pytest.raises(ConfigError, match="exists and is to maximize"):
        run_worker("s", url, objective, 16, seed=1, worker_id="b", direction="minimize")


def _worse_and_worse(per_epoch: int):
    """Each trial reports 3 epochs x ``per_epoch`` values, every one below all earlier trials' values."""

    def objective(trial: optuna.Trial) -> float:
        x = 1.0 - trial.number / 20
        for evaluation in range(1, 3 * per_epoch + 1):
            trial.report(x, step=evaluation)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return x

    return objective


@pytest.mark.parametrize(("startup", "warmup", "per_epoch"), [(2, 0, 1), (6, 1, 1), (2, 0, 4), (3, 1, 4)])
def test_the_median_pruner_waits_for_its_start_up_trials_and_warm_up_epochs(tmp_path, startup, warmup, per_epoch):
    journal = tmp_path / "study.journal"
    run_worker("s", journal, _worse_and_worse(per_epoch), 10, seed=1, worker_id="a", pruner="median",
               pruner_startup_trials=startup, pruner_warmup_epochs=warmup, evaluations_per_epoch=per_epoch)
    study = optuna.load_study(study_name="s", storage=open_storage(journal))
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert [t.number for t in pruned] == list(range(startup, 10))
    assert {max(t.intermediate_values) for t in pruned} == {warmup * per_epoch + 1}  # the first score after warm-up


@pytest.mark.parametrize(("warmup", "per_epoch"), [(0, 4), (1, 4), (1, 1)])
def test_successive_halving_stops_trials_at_its_first_rung_after_the_warm_up_epochs(tmp_path, warmup, per_epoch):
    journal = tmp_path / "study.journal"
    run_worker("s", journal, _worse_and_worse(per_epoch), 10, seed=1, worker_id="a", pruner="successive_halving",
               pruner_warmup_epochs=warmup, evaluations_per_epoch=per_epoch)
    study = optuna.load_study(study_name="s", storage=open_storage(journal))
    complete = [t.number for t in study.trials if t.state == TrialState.COMPLETE]
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert complete == [0]  # the first trial tops every rung; no start-up trials
    assert len(pruned) == 9 and {max(t.intermediate_values) for t in pruned} == {warmup * per_epoch + 1}


@pytest.mark.parametrize(("key", "kwargs"), [("sweep.pruner_startup_trials", {"startup_trials": -1}),
                                             ("sweep.pruner_warmup_epochs", {"warmup_epochs": 1.5}),
                                             ("sweep.evaluations_per_epoch", {"evaluations_per_epoch": 0}),
                                             ("sweep.pruner", {"name": "median3"})])
def test_a_bad_pruner_setting_is_a_config_error_naming_its_key(key, kwargs):
    with pytest.raises(ConfigError, match=key):
        make_pruner(**{"name": "median", **kwargs})


def test_tpe_is_seeded_per_worker(tmp_path):
    space = parse_space()

    def first_params(name: str, seed: int, worker_id: str) -> dict:
        params = []
        run_worker("s", tmp_path / f"{name}.journal", lambda t: params.append(suggest(t, space)) or 0.0, 1,
                   seed=seed, worker_id=worker_id)
        return params[0]

    reference = first_params("one", 7, "a")
    assert first_params("two", 7, "a") == reference
    assert first_params("three", 7, "b") != reference
    assert first_params("four", 8, "a") != reference


def test_the_search_space_has_defaults_and_suggests_each_hyper_parameter():
    space = parse_space({"batch_size": {"choices": [8, 16]}, "epochs": {"low": 1, "high": 3, "step": 2}})
    params = suggest(optuna.trial.FixedTrial({"learning_rate": 3e-5, "batch_size": 8, "epochs": 3,
                                              "warmup_ratio": 0.05, "weight_decay": 0.01}), space)
    assert params == {"learning_rate": 3e-5, "batch_size": 8, "epochs": 3, "warmup_ratio": 0.05,
                      "weight_decay": 0.01}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    drawn = suggest(study.ask(), parse_space())
    assert 1e-5 <= drawn["learning_rate"] <= 1e-4 and drawn["batch_size"] in (16, 32)
    assert isinstance(drawn["epochs"], int) and 2 <= drawn["epochs"] <= 5


@pytest.mark.parametrize(("config", "key"), [
    ({"learnig_rate": {"low": 1e-5, "high": 1e-4}}, "sweep.space.learnig_rate"),
    ({"learning_rate": {"low": 0.0, "high": 1e-4}}, "sweep.space.learning_rate.low"),
    ({"learning_rate": {"low": 1e-4, "high": 1e-5}}, "sweep.space.learning_rate.low"),
    ({"learning_rate": {"low": 1e-5}}, "sweep.space.learning_rate.high"),
    ({"learning_rate": {"low": 1e-5, "hihg": 1e-4}}, "sweep.space.learning_rate.hihg"),
    ({"weight_decay": {"low": 0.0, "high": 0.1, "log": True}}, "sweep.space.weight_decay.low"),
    ({"weight_decay": {"low": 0.0, "high": 0.1, "log": "yes"}}, "sweep.space.weight_decay.log"),
    ({"epochs": {"low": 2, "high": 4.5}}, "sweep.space.epochs.high"),
    ({"epochs": {"low": 2, "high": 4, "step": 0.5}}, "sweep.space.epochs.step"),
    ({"batch_size": {"choices": []}}, "sweep.space.batch_size.choices"),
    ({"batch_size": {"choices": [16, 0]}}, "sweep.space.batch_size.choices"),
    ({"batch_size": {"choices": [16], "low": 8}}, "sweep.space.batch_size.low"),
    ({"warmup_ratio": {"low": 0.0, "high": 1.0}}, "sweep.space.warmup_ratio.high"),
    ({"warmup_ratio": 0.1}, "sweep.space.warmup_ratio"),
])
def test_search_space_errors_name_the_key(config, key):
    with pytest.raises(ConfigError) as error:
        parse_space(config)
    assert error.value.key == key


def test_storage_urls_and_paths(tmp_path):
    assert journal_path("journal:results/s.journal") == Path("results/s.journal")
    assert journal_path(str(tmp_path / "s.journal")) == tmp_path / "s.journal"
    assert journal_path("postgresql+psycopg://u@db/optuna") is None
    with pytest.raises(ConfigError) as error:
        journal_path("redis://localhost")
    assert error.value.key == "sweep.storage"
    assert isinstance(open_storage(tmp_path / "new" / "s.journal"), optuna.storages.JournalStorage)
    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}", heartbeat_interval=5)
    assert isinstance(storage, optuna.storages.RDBStorage) and storage.get_heartbeat_interval() == 5
    assert database_url("postgresql://u@db/optuna") == "postgresql+psycopg://u@db/optuna"  # the driver we install
    assert database_url("postgresql+psycopg2://u@db/optuna") == "postgresql+psycopg2://u@db/optuna"


def test_a_missing_driver_or_an_unreachable_database_is_a_config_error_that_hides_the_password():
    with pytest.raises(ConfigError, match=r"no database driver.*tweetbert\[postgres\]") as error:
        open_storage("postgresql+pg8000://u:secret@127.0.0.1:1/optuna")
    assert error.value.key == "sweep.storage" and "secret" not in str(error.value)
    pytest.importorskip("psycopg", reason="the `postgres` extra is not installed")
    with pytest.raises(ConfigError, match="cannot open postgresql") as error:
        open_storage("postgresql://u:secret@127.0.0.1:1/optuna")  # nothing listens on port 1
    assert "secret" not in str(error.value)


def test_a_grace_period_not_above_the_heartbeat_interval_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    with pytest.raises(ConfigError) as error:
        run_worker("s", url, lambda t: 0.0, 1, seed=0, worker_id="a", heartbeat_interval=3, grace_period=3)
    assert error.value.key == "sweep.grace_period"
    with pytest.raises(ConfigError) as error:
        run_worker("s", url, lambda t: 0.0, 1, seed=0, worker_id="a", heartbeat_interval=0)
    assert error.value.key == "sweep.heartbeat_interval"


def test_the_trainer_callback_stops_training_when_the_trial_is_pruned(tmp_path):
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from tweetbert.sweep.callback import OptunaReportCallback

    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=0.5))
    trial = study.ask()
    report = OptunaReportCallback(trial, "f1")
    args = TrainingArguments(output_dir=str(tmp_path), eval_strategy="epoch", report_to="none")
    control = TrainerControl()
    report.on_train_begin(args, TrainerState(), control)
    report.on_evaluate(args, TrainerState(epoch=1.0, global_step=10, max_steps=30), control, metrics={"eval_f1": 0.8})
    assert not control.should_training_stop
    report.on_evaluate(args, TrainerState(epoch=2.0, global_step=20, max_steps=30), control, metrics={"eval_f1": 0.2})
    assert control.should_training_stop and report.pruned_at == 2
    with pytest.raises(optuna.TrialPruned):
        report.raise_if_pruned()
    assert study.trials[0].intermediate_values == {1: 0.8, 2: 0.2}

    last = OptunaReportCallback(study.ask(), "eval_f1")  # a run that trained to the end is not pruned
    control = TrainerControl()
    last.on_evaluate(args, TrainerState(epoch=3.0, global_step=30, max_steps=30), control, metrics={"eval_f1": 0.1})
    assert not control.should_training_stop and last.pruned_at is None
    with pytest.raises(KeyError, match="accuracy"):
        OptunaReportCallback(study.ask(), "accuracy").on_evaluate(args, TrainerState(epoch=1.0), control,
                                                                  metrics={"eval_f1": 0.1})
    with pytest.raises(ValueError, match="eval_strategy"):
        report.on_train_begin(TrainingArguments(output_dir=str(tmp_path), eval_strategy="steps", eval_steps=5,
                                                report_to="none"), TrainerState(), TrainerControl())


def test_the_trainer_callback_reports_each_score_at_its_evaluation_index(tmp_path):
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from tweetbert.sweep.callback import OptunaReportCallback

    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=0.5))
    report = OptunaReportCallback(study.ask(), "f1", evaluations_per_epoch=4)
    args = TrainingArguments(output_dir=str(tmp_path), eval_strategy="epoch", report_to="none")
    control = TrainerControl()
    # 9 optimiser steps per epoch: scored after steps 3, 5, 7 and 9 (at least 1/4, 2/4, 3/4, 4/4 of the epoch)
    for step, value in ((3, 0.6), (5, 0.7), (7, 0.8), (9, 0.9), (12, 0.4)):
        report.on_evaluate(args, TrainerState(epoch=step / 9, global_step=step, max_steps=27), control,
                           metrics={"eval_f1": value})
    assert study.trials[0].intermediate_values == {1: 0.6, 2: 0.7, 3: 0.8, 4: 0.9, 5: 0.4}
    assert control.should_training_stop and report.pruned_at == 5
    with pytest.raises(ValueError, match="evaluations_per_epoch"):
        OptunaReportCallback(study.ask(), "f1", evaluations_per_epoch=0)


def test_a_real_trainer_stops_after_the_epoch_whose_report_prunes(tmp_path):
    import torch
    from transformers import Trainer, TrainingArguments

    from tweetbert.sweep.callback import OptunaReportCallback

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 2)

        def forward(self, x, labels):
            logits = self.linear(x)
            return {"loss": torch.nn.functional.cross_entropy(logits, labels), "logits": logits}

    data = [{"x": torch.tensor([float(i % 2), 1.0]), "labels": torch.tensor(i % 2)} for i in range(16)]

    def objective(trial: optuna.Trial) -> float:
        report = OptunaReportCallback(trial, "score")
        args = TrainingArguments(output_dir=str(tmp_path), eval_strategy="epoch", num_train_epochs=3,
                                 per_device_train_batch_size=8, report_to="none", save_strategy="no", use_cpu=True,
                                 logging_strategy="no", disable_tqdm=True)
        trainer = Trainer(model=Tiny(), args=args, train_dataset=data, eval_dataset=data, callbacks=[report],
                          compute_metrics=lambda _: {"score": trial.number})  # trial 0 is pruned, 1 is not
        trainer.train()
        report.raise_if_pruned()
        return trainer.evaluate()["eval_score"]

    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=0.5))
    study.optimize(objective, n_trials=2)
    pruned, complete = study.trials
    assert pruned.state == TrialState.PRUNED and pruned.intermediate_values == {1: 0.0}
    assert complete.state == TrialState.COMPLETE and complete.intermediate_values == {1: 1.0, 2: 1.0, 3: 1.0}
