"""The fine-tuning sweep machinery, model-free: workers in separate processes sharing one journal file finish
exactly N trials, a SIGKILLed worker's trial is failed and rerun, pruning, the search space, seeding, and the
transformers callback that reports to the trial."""

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
from tweetbert.sweep.storage import journal_path, open_storage
from tweetbert.sweep.workers import holds_slot, run_worker

optuna.logging.set_verbosity(optuna.logging.WARNING)

# A worker in its own process, as a Snakemake job would run it. Optional: wait for a start signal (so that both
# workers of a test really overlap), and hang in the trial after `hang_after` trials (to be killed there).
CHILD = """
import json, sys, time
from pathlib import Path
from tweetbert.sweep.workers import run_worker
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
run_worker(args["study"], args["storage"], objective, args["n_trials"], seed=0, worker_id=args["worker_id"],
           pruner="none", lease_timeout=args["lease_timeout"], poll_interval=0.1)
"""


def _start(tmp_path: Path, **args) -> subprocess.Popen:
    args = {"study": "s", "sleep": 0.0, "lease_timeout": 600.0, **args}
    with open(tmp_path / f"{args['worker_id']}.log", "a") as log:
        return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], stdout=log, stderr=log)


def _finish(process: subprocess.Popen, tmp_path: Path, worker_id: str, timeout: float = 60) -> None:
    assert process.wait(timeout) == 0, (tmp_path / f"{worker_id}.log").read_text()


def _load(journal: Path) -> optuna.Study:
    return optuna.load_study(study_name="s", storage=open_storage(journal))


def _states(study: optuna.Study) -> dict[str, int]:
    return trials_table(study)["state"].value_counts().to_dict()


def test_two_concurrent_workers_finish_exactly_n_trials_together(tmp_path):
    journal = tmp_path / "study.journal"
    workers = {}
    for worker_id in ("a", "b"):
        workers[worker_id] = _start(tmp_path, worker_id=worker_id, storage=str(journal), n_trials=10, sleep=0.15,
                                    ready=str(tmp_path / f"{worker_id}.ready"), go=str(tmp_path / "go"))
    deadline = time.monotonic() + 30
    while not all((tmp_path / f"{w}.ready").exists() for w in workers):
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.05)
    (tmp_path / "go").touch()
    for worker_id, process in workers.items():
        _finish(process, tmp_path, worker_id)

    table = trials_table(_load(journal))
    complete = table[table["state"] == "COMPLETE"]
    assert len(complete) == 10
    assert table["number"].is_unique and set(table["state"]) <= {"COMPLETE", "FAIL"}
    assert table.loc[table["state"] == "FAIL", "surplus"].all()  # a lost race for the last slot, nothing else
    assert set(complete["worker"]) == {"a", "b"}
    assert not list(lease_dir(journal).glob("*.json"))  # leases are given back


def test_a_killed_workers_trial_is_failed_and_rerun_once_its_lease_is_stale(tmp_path):
    journal, marker = tmp_path / "study.journal", tmp_path / "hanging"
    process = _start(tmp_path, worker_id="a", storage=str(journal), n_trials=5, hang_after=2, marker=str(marker),
                     lease_timeout=1.0)
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "a.log").read_text()
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed = int(marker.read_text())

    # As if the worker had run on another node: no pid to check, only the lease's age tells it is dead.
    study = _load(journal)
    trial = study.trials[killed]
    assert trial.state == TrialState.RUNNING
    lease = lease_dir(journal) / trial.user_attrs[LEASE_ATTR]
    lease.write_text(json.dumps({**json.loads(lease.read_text()), "hostname": "another-node"}))
    assert not trial_is_dead(trial, lease_dir(journal), timeout=1.0)
    time.sleep(1.2)
    assert trial_is_dead(trial, lease_dir(journal), timeout=1.0)

    _finish(_start(tmp_path, worker_id="a", storage=str(journal), n_trials=5, lease_timeout=1.0), tmp_path, "a")
    study = _load(journal)
    assert _states(study) == {"COMPLETE": 5, "FAIL": 1}
    assert study.trials[killed].state == TrialState.FAIL
    rerun = [t for t in study.trials if t.user_attrs.get(RETRY_OF_ATTR) == killed]
    assert len(rerun) == 1 and rerun[0].state == TrialState.COMPLETE
    assert rerun[0].params == study.trials[killed].params
    assert trials_table(study).set_index("number").loc[rerun[0].number, "retry_of"] == killed


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
