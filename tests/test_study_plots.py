"""Optuna's views of a sweep (history, importances, intermediate values) and the trial counts of every sweep."""

from __future__ import annotations

import json
import warnings

import matplotlib
import matplotlib.pyplot as plt
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from tweetbert.analysis.studies import trial_counts, write_trial_counts
from tweetbert.cli import main
from tweetbert.plots.studies import importance_obstacle, mark_pruned, varying_params, write_study_plots
from tweetbert.sweep.results import trials_table
from tweetbert.sweep.storage import open_storage

PNG = b"\x89PNG\r\n\x1a\n"
NAMES = ("history", "importance", "intermediate")


def make_study(journal, name: str, *, complete: int, pruned: int = 0, failed: int = 0,
               running: int = 0) -> optuna.Study:
    """A study in a journal file as a sweep leaves it: trials report a dev score per evaluation, pruned ones stop
    early, failed ones crash, running ones belong to a killed worker."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=name, storage=open_storage(journal), direction="maximize",
                                sampler=optuna.samplers.RandomSampler(seed=0))

    def trial(state: TrialState, steps: int, index: int) -> None:
        ask = study.ask()
        lr = ask.suggest_float("learning_rate", 1e-4, 1e-2, log=True)
        ask.suggest_categorical("batch_size", [32])
        for step in range(1, steps + 1):
            ask.report(0.3 + 0.1 * step + lr + 0.01 * index, step=step)
        value = 0.3 + 0.1 * steps + lr + 0.01 * index if state == TrialState.COMPLETE else None
        if state != TrialState.RUNNING:
            study.tell(ask, value, state=state)

    for index in range(complete):
        trial(TrialState.COMPLETE, 3, index)
    for index in range(pruned):
        trial(TrialState.PRUNED, 1, index)
    for index in range(failed):
        trial(TrialState.FAIL, 0, index)
    for index in range(running):
        trial(TrialState.RUNNING, 2, index)
    return study


def _paths(directory) -> dict:
    return {name: directory / f"{name}.png" for name in NAMES}


def test_the_cli_draws_optunas_three_views_of_a_study(tmp_path):
    journal = tmp_path / "finetune" / "m" / "sentiment3" / "study.journal"
    make_study(journal, "m/sentiment3", complete=4, pruned=2, failed=1)
    best = tmp_path / "best.json"
    best.write_text(json.dumps({"main_metric": "macro_f1"}))
    out = tmp_path / "studies"
    code = main(["study-plots", "--storage", str(journal), "--study", "m/sentiment3", "--best", str(best),
                 *(word for name in NAMES for word in (f"--{name}", str(out / f"{name}.png")))])
    assert code == 0
    for name in NAMES:
        assert (out / f"{name}.png").read_bytes().startswith(PNG)


def test_pruned_trials_are_marked_where_the_pruner_stopped_them(tmp_path):
    study = make_study(tmp_path / "s.journal", "s", complete=3, pruned=2, running=1)
    with matplotlib.rc_context(), warnings.catch_warnings():  # Optuna sets its style globally, warns it's new
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        ax = optuna.visualization.matplotlib.plot_intermediate_values(study)
    drawn = mark_pruned(ax, study)
    assert drawn == {TrialState.COMPLETE: 3, TrialState.PRUNED: 2, TrialState.RUNNING: 1}
    crosses = [line for line in ax.get_lines() if line.get_marker() == "X"]
    assert len(crosses) == 2 and all(list(line.get_xdata()) == [1] for line in crosses)
    styles = {line.get_label(): line.get_linestyle() for line in ax.get_lines()}
    pruned = [trial.number for trial in study.trials if trial.state == TrialState.PRUNED]
    assert all(styles[f"Trial{number}"] == "--" for number in pruned)
    plt.close(ax.figure)


@pytest.mark.parametrize(("complete", "reason"), [(0, "this study has 0"), (1, "this study has 1")])
def test_too_few_trials_for_importance_give_a_figure_saying_why(tmp_path, complete, reason):
    study = make_study(tmp_path / "s.journal", "s", complete=complete, pruned=1, failed=1)
    assert reason in importance_obstacle(study)
    write_study_plots(study, _paths(tmp_path), metric="accuracy")  # no error, whatever the study lacks
    for name in NAMES:
        assert (tmp_path / f"{name}.png").read_bytes().startswith(PNG)


def test_importance_needs_a_parameter_that_varies(tmp_path):
    study = make_study(tmp_path / "s.journal", "s", complete=3)
    assert varying_params(study) == ["learning_rate"]  # the one-choice batch size explains nothing
    assert importance_obstacle(study) is None
    fixed = optuna.create_study(direction="maximize")
    for value in (0.5, 0.6):
        trial = fixed.ask()
        trial.suggest_categorical("batch_size", [32])
        fixed.tell(trial, value)
    assert "varies" in importance_obstacle(fixed)


def test_optunas_style_stays_inside_the_study_plots(tmp_path):
    before = dict(plt.rcParams)
    write_study_plots(make_study(tmp_path / "s.journal", "s", complete=3, pruned=1), _paths(tmp_path))
    assert dict(plt.rcParams) == before


def test_trial_counts_come_from_each_sweeps_trials_table_by_state(tmp_path):
    studies = {("cand", "sentiment3"): {"complete": 3, "pruned": 2, "failed": 1},
               ("base", "sentiment3"): {"complete": 2},
               ("cand", "defamation"): {"complete": 1, "pruned": 1, "running": 1}}
    paths = []
    for (model, task), counts in studies.items():
        directory = tmp_path / "finetune" / model / task
        study = make_study(directory / "study.journal", f"{model}/{task}", **counts)
        trials_table(study).to_csv(directory / "trials.tsv", sep="\t", index=False)
        paths.append(directory / "trials.tsv")
    outputs = {"table": tmp_path / "studies" / "trial_counts.tsv", "html": tmp_path / "studies" / "trial_counts.html"}
    code = main(["trial-counts", "--trials", *map(str, paths), "--table", str(outputs["table"]),
                 "--html", str(outputs["html"])])
    assert code == 0
    table = pd.read_csv(outputs["table"], sep="\t")
    assert table.to_dict("records") == [
        {"task": "defamation", "model": "cand", "trials": 3, "complete": 1, "pruned": 1, "failed": 0, "running": 1},
        {"task": "sentiment3", "model": "base", "trials": 2, "complete": 2, "pruned": 0, "failed": 0, "running": 0},
        {"task": "sentiment3", "model": "cand", "trials": 6, "complete": 3, "pruned": 2, "failed": 1, "running": 0},
    ]
    page = outputs["html"].read_text(encoding="utf-8")
    assert "<th>pruned</th>" in page and "<td class=\"num\">6</td>" in page


def test_running_and_surplus_columns_appear_only_when_some_study_has_such_trials(tmp_path):
    directory = tmp_path / "finetune" / "m" / "t"
    directory.mkdir(parents=True)
    pd.DataFrame({"number": [0, 1, 2], "state": ["COMPLETE", "FAIL", "FAIL"],
                  "surplus": [False, True, False]}).to_csv(directory / "trials.tsv", sep="\t", index=False)
    table = trial_counts([directory / "trials.tsv"])
    assert list(table.columns) == ["task", "model", "trials", "complete", "pruned", "failed", "surplus"]
    assert table.iloc[0][["trials", "complete", "failed", "surplus"]].tolist() == [3, 1, 1, 1]
    write_trial_counts([directory / "trials.tsv"], {"table": tmp_path / "c.tsv", "html": tmp_path / "c.html"})


def test_a_missing_journal_is_one_error_line_and_is_not_created(tmp_path, capsys):
    journal = tmp_path / "none" / "study.journal"
    code = main(["study-plots", "--storage", str(journal), "--study", "m/t",
                 *(word for name in NAMES for word in (f"--{name}", str(tmp_path / f"{name}.png")))])
    assert code == 2 and "no such journal file" in capsys.readouterr().err
    assert not journal.exists()


def test_a_study_the_journal_lacks_is_one_error_line(tmp_path, capsys):
    journal = tmp_path / "study.journal"
    make_study(journal, "m/t", complete=1)
    code = main(["study-plots", "--storage", str(journal), "--study", "m/other",
                 *(word for name in NAMES for word in (f"--{name}", str(tmp_path / f"{name}.png")))])
    assert code == 2 and f"{journal}: holds no study 'm/other'" in capsys.readouterr().err


def test_the_objective_is_labelled_as_development_and_the_intermediate_values_as_validation(monkeypatch, tmp_path):
    from tweetbert.plots import studies

    labels = {}

    def recorder(name):
        def plot(study, path, *, title, metric):
            labels[name] = metric

        return plot

    monkeypatch.setattr(studies, "PLOTTERS", {name: recorder(name) for name in studies.STUDY_PLOTS})
    study = optuna.create_study(study_name="m/t")
    studies.write_study_plots(study, {name: tmp_path / f"{name}.png" for name in studies.STUDY_PLOTS},
                              metric="macro_f1")
    assert labels == {"history": "dev macro_f1", "importance": "dev macro_f1", "intermediate": "validation macro_f1"}
