"""Downstream benchmark table: selected model vs controls on SNS/JGLUE tasks with the published rows, bold best."""

import json
from pathlib import Path

import pandas as pd
import pytest

from tweetbert.analysis.downstream import PUBLISHED_DOWNSTREAM, downstream_table, write_downstream
from tweetbert.analysis.selection import aggregate
from tweetbert.config import validate_config
from tweetbert.errors import ConfigError

SELECTED = "dedup-lr1e-04-wd0.03-ep3-b1_0.9-b2_0.999-eps1e-08"


def write_best(directory: Path, model: str, task: str, main: str, test: dict[str, float]) -> Path:
    path = directory / model / task / "best.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"model": model, "task": task, "main_metric": main, "best_dev": 0.5, "test": test,
                                "n_trials": 2}), encoding="utf-8")
    return path


@pytest.fixture
def best_files(tmp_path):
    results = {
        "jsquad": ("f1", {SELECTED: {"exact_match": 0.70, "f1": 0.80}, "base": {"exact_match": 0.75, "f1": 0.79}}),
        "jts1k": ("accuracy", {SELECTED: {"accuracy": 0.70}, "base": {"accuracy": 0.60}}),
        "wrime_emotion": ("macro_f1", {SELECTED: {"top1_accuracy": 0.6, "micro_f1": 0.5, "macro_f1": 0.4},
                                       "base": {"top1_accuracy": 0.5, "micro_f1": 0.55, "macro_f1": 0.3}}),
        "sentiment3": ("accuracy", {SELECTED: {"accuracy": 0.9}, "base": {"accuracy": 0.95}}),
    }
    return [write_best(tmp_path, model, task, main, test)
            for task, (main, by_model) in results.items() for model, test in by_model.items()]


def test_columns_are_sns_then_jglue_then_other_tasks_main_metric_first(best_files):
    table = downstream_table(aggregate(best_files), SELECTED, ["base"], ["sentiment3", "jsquad", "wrime_emotion",
                                                                          "jts1k"])
    assert list(table.columns) == ["role", "model", "jts1k accuracy", "wrime_emotion macro_f1",
                                   "wrime_emotion top1_accuracy", "wrime_emotion micro_f1", "jsquad f1",
                                   "jsquad exact_match", "sentiment3 accuracy"]
    assert table["role"].tolist()[:2] == ["selected", "control"]


def test_published_rows_fill_only_the_metrics_the_study_reported(best_files):
    table = downstream_table(aggregate(best_files), SELECTED, ["base"], ["jts1k", "jsquad", "wrime_emotion",
                                                                          "sentiment3"]).set_index("model")
    assert table.loc["tweet model", "jts1k accuracy"] == PUBLISHED_DOWNSTREAM["jts1k"]["accuracy"]["tweet model"]
    assert table.loc["Japanese BERT", "jsquad exact_match"] == 0.904
    assert pd.isna(table.loc["tweet model", "wrime_emotion micro_f1"])
    assert pd.isna(table.loc["Japanese BERT", "sentiment3 accuracy"])


def test_a_missing_sweep_result_names_model_and_task(best_files):
    with pytest.raises(ValueError, match="'random', 'jts1k'"):
        downstream_table(aggregate(best_files), SELECTED, ["base", "random"], ["jts1k"])


def downstream_files(directory):
    """The downstream files in one folder, named as the workflow's downstream rule names them."""
    files = {name: directory / f"downstream.{suffix}"
             for name, suffix in (("table", "tsv"), ("markdown", "md"), ("html", "html"), ("plot", "png"))}
    return files | {"differences": directory / "differences.tsv"}


def test_the_outputs_bold_the_best_per_column_and_are_byte_identical(best_files, tmp_path):
    tasks = ["jts1k", "jsquad"]
    first = write_downstream(best_files, SELECTED, ["base"], tasks, downstream_files(tmp_path / "a"))
    second = write_downstream(list(reversed(best_files)), SELECTED, ["base"], tasks, downstream_files(tmp_path / "b"))
    for name in ("table", "markdown", "html"):
        assert first[name].read_bytes() == second[name].read_bytes()
    markdown = first["markdown"].read_text(encoding="utf-8")
    assert "**0.737**" in markdown and "**0.946**" in markdown  # published tweet model JTS1k, BERT JSQuAD F1
    assert "<b>" in first["html"].read_text(encoding="utf-8") and first["plot"].stat().st_size > 0


@pytest.mark.parametrize(("config", "key"), [
    ({"tasks": {"jts1k": {"path": "a.csv"}}, "target_tasks": ["jts1k", "jtdd"]}, "target_tasks[1]"),
    ({"tasks": {"jts1k": {"path": "a.csv"}}, "downstream": {"tasks": ["jnli"]}}, "downstream.tasks[0]"),
    ({"controls": {"base": "base"}, "downstream": {"controls": ["bert"]}}, "downstream.controls[0]"),
])
def test_a_reference_to_an_unconfigured_task_or_control_names_the_key(config, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        validate_config(config)


def test_chance_and_majority_rows_mark_scores_at_or_below_them(best_files, tmp_path):
    baselines = {"jts1k": {"chance": {"accuracy": 0.5}, "majority": {"accuracy": 0.6}},
                 "jsquad": {"chance": {"exact_match": 0.0, "f1": 0.0}, "majority": {}}}
    paths = write_downstream(best_files, SELECTED, ["base"], ["jts1k", "jsquad"], downstream_files(tmp_path),
                             baselines)
    table = pd.read_csv(paths["table"], sep="\t").set_index("model")
    assert table.loc["chance", "jts1k accuracy"] == 0.5 and table.loc["majority", "jts1k accuracy"] == 0.6
    assert table.loc["chance", "role"] == "chance" and pd.isna(table.loc["majority", "jsquad f1"])
    flags = table["jts1k accuracy at_or_below_chance"]
    assert flags[SELECTED] == False and flags["base"] == True
    assert pd.isna(flags["chance"]) and table["jsquad f1 at_or_below_chance"][SELECTED] == False
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert "| control | base | 0.600 (≤ chance) |" in markdown and "| majority | majority | 0.600 |" in markdown
    assert "(≤ chance)" in paths["html"].read_text(encoding="utf-8") and paths["plot"].stat().st_size > 0


def test_the_page_gives_each_gain_over_a_control_with_its_paired_interval(best_files, tmp_path):
    from test_bootstrap import gold, write_model

    examples = gold(200)
    predictions = [write_model(tmp_path / "p", SELECTED, "jts1k", examples, 0.9),
                   write_model(tmp_path / "p", "base", "jts1k", examples, 0.88, offset=20)]  # 36 items differ
    paths = write_downstream(best_files, SELECTED, ["base"], ["jts1k"], downstream_files(tmp_path / "out"),
                             predictions=predictions, resamples=200, seed=0)
    differences = pd.read_csv(paths["differences"], sep="\t")
    accuracy = differences[differences["metric"] == "accuracy"].iloc[0]
    assert accuracy["versus"] == "base" and accuracy["n"] == 200 and accuracy["verdict"] == "within noise"
    assert accuracy["difference"] == pytest.approx(0.02) and accuracy["low"] < 0.02 < accuracy["high"]
    assert "+0.020 [" in paths["html"].read_text(encoding="utf-8")
