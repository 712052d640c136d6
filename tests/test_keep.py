"""The best trial's model is kept while the sweep runs, and the test split is scored on exactly that model."""

import json

import optuna
import pytest

from tweetbert.cli import main
from tweetbert.demo import write_tasks
from tweetbert.errors import CheckFailed
from tweetbert.finetune import load_model, weights_sha256
from tweetbert.sweep.keep import kept_best, kept_record, keep_if_best
from tweetbert.sweep.storage import open_storage
from tweetbert.tasks import get_task

optuna.logging.set_verbosity(optuna.logging.WARNING)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model(tiny_base_model):
    return load_model(tiny_base_model, get_task("sentiment3"), 3)


def record(trial: int, objective: float) -> dict:
    return {"trial": trial, "objective": objective, "weights_sha256": f"w{trial}"}


def standing(*trials: int) -> dict[int, str]:
    """The study's running and complete trials, each with the digest it recorded."""
    return {trial: f"w{trial}" for trial in trials}


def test_only_a_better_trial_replaces_the_kept_model_and_ties_go_to_the_earlier_trial(model, tmp_path):
    live = standing(1, 3, 4, 5, 6)
    assert keep_if_best(tmp_path, model, record(3, 0.5), live)
    assert not keep_if_best(tmp_path, model, record(4, 0.4), live)
    assert not keep_if_best(tmp_path, model, record(5, 0.5), live)
    assert keep_if_best(tmp_path, model, record(1, 0.5), live)  # what Optuna's best_trial names on a tie
    assert keep_if_best(tmp_path, model, record(6, 0.7), live)
    assert kept_record(tmp_path)["trial"] == 6
    assert sorted(path.name for path in tmp_path.glob("trial-*")) == ["trial-6"]
    assert (tmp_path / "best").resolve() == (tmp_path / "trial-6").resolve()


def test_a_kept_model_of_a_failed_trial_or_an_earlier_study_gives_way_to_any_complete_trial(model, tmp_path):
    keep_if_best(tmp_path, model, record(2, 0.9), standing(2))
    assert keep_if_best(tmp_path, model, record(3, 0.1), standing(3))  # trial 2 failed
    assert kept_record(tmp_path)["trial"] == 3
    assert keep_if_best(tmp_path, model, record(0, 0.05), {0: "w0", 3: "another study's digest"})
    assert kept_record(tmp_path)["trial"] == 0


def test_a_kept_model_that_is_not_the_studys_best_trial_is_refused(model, tmp_path):
    keep_if_best(tmp_path, model, record(2, 0.9), standing(2))
    assert kept_best(tmp_path, 2, "w2")[1]["trial"] == 2
    with pytest.raises(CheckFailed, match="trial 2's but the study's best trial is 5"):
        kept_best(tmp_path, 5, "w5")
    with pytest.raises(CheckFailed, match="earlier study"):
        kept_best(tmp_path, 2, "other")
    with pytest.raises(CheckFailed, match="no kept model"):
        kept_best(tmp_path / "empty", 0, None)


def test_the_objective_dev_and_test_numbers_all_come_from_the_best_trials_model(tiny_base_model, tmp_path):
    write_tasks(tmp_path / "tasks", seed=0)
    common = ["--model", str(tiny_base_model), "--task", "sentiment3",
              "--task-option", f"path={tmp_path / 'tasks' / 'sentiment3.csv'}", "--task-option", "max_examples=40",
              "--storage", str(tmp_path / "study.journal"), "--study", "s", "--max-length", "32",
              "--keep-dir", str(tmp_path / "kept")]
    space = json.dumps({"epochs": {"low": 1, "high": 2}, "batch_size": {"choices": [16]}})
    assert main(["finetune-sweep", *common, "--n-trials", "3", "--worker-id", "w0", "--pruner", "none",
                 "--space", space, "--summary", str(tmp_path / "w0.json")]) == 0
    assert main(["finetune-best", *common, "--name", "base", "--best", str(tmp_path / "best.json"),
                 "--trials", str(tmp_path / "trials.tsv")]) == 0
    best = json.loads((tmp_path / "best.json").read_text())
    study = optuna.load_study(study_name="s", storage=open_storage(tmp_path / "study.journal"))
    kept = kept_record(tmp_path / "kept")
    assert best["trial"] == kept["trial"] == study.best_trial.number
    assert best["weights_sha256"] == kept["weights_sha256"] == study.best_trial.user_attrs["weights_sha256"]
    assert best["weights_sha256"] == weights_sha256(load_model(tmp_path / "kept" / "best", get_task("sentiment3"), 3))
    assert best["best_dev"] == study.best_value == best["dev"]["accuracy"] == kept["objective"]
    assert set(best["test"]) == {"accuracy"}
    assert {role: split["examples"] for role, split in best["splits"].items()} == {
        "train": 40, "validation": 40, "dev": 40, "test": 40}
    assert "objective" in best["splits"]["dev"]["role"] and "once" in best["splits"]["test"]["role"]
    assert len(list((tmp_path / "kept").glob("trial-*"))) == 1


def test_a_studys_only_worker_writes_the_same_best_json_as_finetune_best(tiny_base_model, tmp_path):
    write_tasks(tmp_path / "tasks", seed=0)
    common = ["--model", str(tiny_base_model), "--task", "defamation",
              "--task-option", f"path={tmp_path / 'tasks' / 'defamation.csv'}", "--task-option", "max_examples=40",
              "--storage", str(tmp_path / "study.journal"), "--study", "s", "--max-length", "32",
              "--keep-dir", str(tmp_path / "kept"), "--name", "base"]
    space = json.dumps({"epochs": {"low": 1, "high": 2}, "batch_size": {"choices": [16]}})
    assert main(["finetune-sweep", *common, "--n-trials", "2", "--worker-id", "w0", "--pruner", "none",
                 "--space", space, "--summary", str(tmp_path / "w0.json"), "--best", str(tmp_path / "alone.json"),
                 "--trials", str(tmp_path / "alone.tsv")]) == 0
    assert main(["finetune-best", *common, "--best", str(tmp_path / "separate.json"),
                 "--trials", str(tmp_path / "separate.tsv")]) == 0
    alone = json.loads((tmp_path / "alone.json").read_text())
    assert alone == json.loads((tmp_path / "separate.json").read_text())
    assert alone["task"] == "defamation" and alone["n_trials"] == 2 and alone["main_metric"] in alone["test"]
    assert (tmp_path / "alone.tsv").read_bytes() == (tmp_path / "separate.tsv").read_bytes()


def test_a_sweep_worker_refuses_half_of_the_only_worker_options_before_any_trial(tiny_base_model, tmp_path):
    write_tasks(tmp_path / "tasks", seed=0)
    assert main(["finetune-sweep", "--model", str(tiny_base_model), "--task", "defamation",
                 "--task-option", f"path={tmp_path / 'tasks' / 'defamation.csv'}",
                 "--storage", str(tmp_path / "study.journal"), "--study", "s", "--keep-dir", str(tmp_path / "kept"),
                 "--worker-id", "w0", "--summary", str(tmp_path / "w0.json"),
                 "--best", str(tmp_path / "best.json")]) != 0
    assert not (tmp_path / "study.journal").exists()
