"""The best trial's model is kept while the sweep runs, and the test split is scored on exactly that model."""

import json

import optuna
import pytest

from tweetbert.cli import main
from tweetbert.demo import write_tasks
from tweetbert.errors import CheckFailed
from tweetbert.finetune import load_model, weights_sha256
from tweetbert.sweep.keep import keep_if_best, kept_best, kept_record
from tweetbert.sweep.storage import open_storage
from tweetbert.tasks import get_task
from tweetbert.tasks.predictions import read_predictions

optuna.logging.set_verbosity(optuna.logging.WARNING)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model(tiny_base_model):
    return load_model(tiny_base_model, get_task("sentiment3"), 3)


def standing(*trials: int) -> dict[int, str]:
    """The study's running and complete trials, each with the digest it recorded."""
    return {trial: f"w{trial}" for trial in trials}


def keep(directory, model, trial: int, objective: float, live: dict[int, str], digests: list | None = None) -> bool:
    """keep_if_best with trial ``trial``'s digest ``w<trial>``, computed (and listed in ``digests``) only if kept."""
    def digest(_model) -> str:
        (digests if digests is not None else []).append(trial)
        return f"w{trial}"

    return keep_if_best(directory, model, {"trial": trial, "objective": objective}, lambda: live, digest,
                        lambda value: None)


def test_only_a_better_trial_replaces_the_kept_model_and_ties_go_to_the_earlier_trial(model, tmp_path):
    live = standing(1, 3, 4, 5, 6)
    assert keep(tmp_path, model, 3, 0.5, live)
    assert not keep(tmp_path, model, 4, 0.4, live)
    assert not keep(tmp_path, model, 5, 0.5, live)
    assert keep(tmp_path, model, 1, 0.5, live)  # what Optuna's best_trial names on a tie
    assert keep(tmp_path, model, 6, 0.7, live)
    assert kept_record(tmp_path)["trial"] == 6
    assert sorted(path.name for path in tmp_path.glob("trial-*")) == ["trial-6"]
    assert (tmp_path / "best").resolve() == (tmp_path / "trial-6").resolve()


def test_weights_are_hashed_only_for_a_kept_model_and_the_digest_is_announced_before_it_is_written(model, tmp_path):
    digests, announced = [], []
    live = standing(1, 2, 3)
    for trial, objective in ((1, 0.5), (2, 0.4), (3, 0.6)):
        keep(tmp_path, model, trial, objective, live, digests)
    assert digests == [1, 3]
    keep_if_best(tmp_path, model, {"trial": 4, "objective": 0.9}, lambda: standing(3, 4), lambda _: "w4",
                 lambda value: announced.append((value, kept_record(tmp_path)["trial"])))
    assert announced == [("w4", 3)]  # recorded on the trial while trial 3's model was still the kept one
    assert kept_record(tmp_path)["weights_sha256"] == "w4"


def test_a_kept_model_of_a_failed_trial_or_an_earlier_study_gives_way_to_any_complete_trial(model, tmp_path):
    keep(tmp_path, model, 2, 0.9, standing(2))
    assert keep(tmp_path, model, 3, 0.1, standing(3))  # trial 2 failed
    assert kept_record(tmp_path)["trial"] == 3
    assert keep(tmp_path, model, 0, 0.05, {0: "w0", 3: "another study's digest"})
    assert kept_record(tmp_path)["trial"] == 0


def test_a_kept_model_that_is_not_the_studys_best_trial_is_refused(model, tmp_path):
    keep(tmp_path, model, 2, 0.9, standing(2))
    assert kept_best(tmp_path, 2, "w2")[1]["trial"] == 2
    with pytest.raises(CheckFailed, match="trial 2's but the study's best trial is 5"):
        kept_best(tmp_path, 5, "w5")
    with pytest.raises(CheckFailed, match="earlier study"):
        kept_best(tmp_path, 2, "other")
    with pytest.raises(CheckFailed, match="no kept model"):
        kept_best(tmp_path / "empty", 0, None)


def _sweep_command(model, tmp_path, task: str = "sentiment3", n_trials: int = 3, *extra: str) -> list[str]:
    space = json.dumps({"epochs": {"low": 1, "high": 2}, "batch_size": {"choices": [16]}})
    return ["finetune-sweep", "--model", str(model), "--task", task,
            "--task-option", f"path={tmp_path / 'tasks' / f'{task}.csv'}", "--task-option", "max_examples=40",
            "--storage", str(tmp_path / "study.journal"), "--study", "s", "--max-length", "32",
            "--keep-dir", str(tmp_path / "kept"), "--n-trials", str(n_trials), "--pruner", "none", "--space", space,
            *extra]


def test_the_objective_dev_and_test_numbers_all_come_from_the_best_trials_model(tiny_base_model, tmp_path):
    write_tasks(tmp_path / "tasks", seed=0)
    predictions = tmp_path / "test_predictions.json"
    assert main([*_sweep_command(tiny_base_model, tmp_path), "--name", "base", "--best", str(tmp_path / "best.json"),
                 "--trials", str(tmp_path / "trials.tsv"), "--predictions", str(predictions), "--seeds", "2"]) == 0
    best = json.loads((tmp_path / "best.json").read_text())
    assert read_predictions(predictions).scores() == best["test"]  # the bootstrap resamples the scored outputs
    runs = best["seeds"]["runs"]
    assert [run["seed"] for run in runs] == [0, 1] and runs[0]["test"] == best["test"]
    assert best["seeds"]["test"]["accuracy"]["mean"] == pytest.approx(
        (runs[0]["test"]["accuracy"] + runs[1]["test"]["accuracy"]) / 2)
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
    hashed = [t.number for t in study.trials if "weights_sha256" in t.user_attrs]  # kept at the time
    assert study.best_trial.number == max(hashed, key=lambda number: study.trials[number].value)


def test_a_sweep_job_refuses_half_of_the_leading_jobs_options_before_any_trial(tiny_base_model, tmp_path):
    write_tasks(tmp_path / "tasks", seed=0)
    assert main([*_sweep_command(tiny_base_model, tmp_path, "defamation"), "--best", str(tmp_path / "best.json")]) != 0
    assert main([*_sweep_command(tiny_base_model, tmp_path, "defamation"), "--summary", str(tmp_path / "j1.json"),
                 "--name", "base", "--best", str(tmp_path / "best.json"), "--trials", str(tmp_path / "t.tsv"),
                 "--predictions", str(tmp_path / "p.json")]) != 0
    assert not (tmp_path / "study.journal").exists()
