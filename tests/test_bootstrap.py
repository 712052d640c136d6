"""Uncertainty in the selection: paired bootstrap intervals on test, seeds' mean ranking, aliases and merged rows."""

import json

import numpy as np
import pandas as pd
import pytest
from test_selection import slug, write_results

from tweetbert.analysis.bootstrap import bootstrap_tables, resample_rows
from tweetbert.analysis.selection import aggregate, select_best
from tweetbert.analysis.selection_outputs import write_selection
from tweetbert.errors import InputError
from tweetbert.tasks.predictions import read_predictions, write_predictions

TARGETS = ["jts1k", "jtdd"]


def gold(n=300, seed=0):
    return [{"text": "x", "label": int(label)} for label in np.random.default_rng(seed).integers(0, 3, n)]


def outputs(examples, correct, offset=0):
    """One-hot logits that are right on a ``correct`` share of the examples, from example ``offset`` on."""
    logits = np.zeros((len(examples), 3))
    for i, example in enumerate(examples):
        right = offset <= i < offset + correct * len(examples)
        logits[i, example["label"] if right else (example["label"] + 1) % 3] = 1.0
    return logits


def write_model(directory, model, task, examples, correct, offset=0):
    path = directory / model / task / "test_predictions.json"
    write_predictions(path, model=model, task=task, split="test", metrics=["accuracy", "mcc"],
                      outputs=outputs(examples, correct, offset), examples=examples)
    return path


def test_predictions_round_trip_keep_only_the_gold_fields_metrics_read(tmp_path):
    examples = gold(10)
    path = write_model(tmp_path, "base", "jts1k", examples, 0.5)
    read = read_predictions(path)
    assert read.gold == [{"label": e["label"]} for e in examples] and len(read) == 10
    assert read.scores()["accuracy"] == pytest.approx(0.5)
    path.write_text(json.dumps({"model": "base"}))
    with pytest.raises(InputError, match="missing task"):
        read_predictions(path)


def test_a_model_against_itself_differs_by_exactly_zero_and_a_clear_gain_is_better(tmp_path):
    examples = gold()
    files = [write_model(tmp_path, model, "jts1k", examples, correct)
             for model, correct in (("sel", 0.9), ("same", 0.9), ("weak", 0.5))]
    intervals, differences = bootstrap_tables(files, "sel", ["same", "weak"], resamples=300, seed=0)
    row = intervals[(intervals["model"] == "sel") & (intervals["metric"] == "accuracy")].iloc[0]
    assert row["n"] == 300 and row["value"] == pytest.approx(0.9) and row["low"] < 0.9 < row["high"]
    # binomial se at p=0.9, n=300 is 0.017: the 95 % interval spans about 4 se
    assert 0.04 < row["high"] - row["low"] < 0.1
    same = differences[(differences["versus"] == "same") & (differences["metric"] == "accuracy")].iloc[0]
    assert (same["difference"], same["low"], same["high"], same["verdict"]) == (0, 0, 0, "within noise")
    weak = differences[(differences["versus"] == "weak") & (differences["metric"] == "accuracy")].iloc[0]
    assert weak["difference"] == pytest.approx(0.4) and weak["low"] > 0 and weak["verdict"] == "better"
    again = bootstrap_tables(files[::-1], "sel", ["same", "weak"], resamples=300, seed=0)
    pd.testing.assert_frame_equal(intervals, again[0])
    assert not np.array_equal(resample_rows(300, 5, 0, "jts1k"), resample_rows(300, 5, 1, "jts1k"))


def test_models_scored_on_different_test_items_are_refused(tmp_path):
    files = [write_model(tmp_path, "sel", "jts1k", gold(seed=0), 0.9),
             write_model(tmp_path, "base", "jts1k", gold(seed=1), 0.9)]
    with pytest.raises(InputError, match="test items differ"):
        bootstrap_tables(files, "sel", ["base"], resamples=10, seed=0)


def with_seeds(path, dev_mean, test_mean=0.5):
    record = json.loads(path.read_text())
    metric = record["main_metric"]
    record["seeds"] = {"runs": [{"seed": 0}, {"seed": 1}],
                       "dev": {metric: {"mean": dev_mean, "sd": 0.01}},
                       "test": {metric: {"mean": test_mean, "sd": 0.02}}}
    path.write_text(json.dumps(record))


def test_with_seed_runs_the_selection_ranks_by_the_seeds_mean(tmp_path):
    results = {slug("dedup", 1): {"jts1k": 0.80, "jtdd": 0.80}, slug("dedup", 2): {"jts1k": 0.78, "jtdd": 0.78}}
    files = write_results(tmp_path, results)
    assert select_best(aggregate(files), TARGETS)["model"] == slug("dedup", 1)
    for path in files:
        with_seeds(path, 0.70 if slug("dedup", 1) in str(path) else 0.75)
    table = aggregate(files)
    assert set(table["seeds"]) == {2} and set(table["dev_seeds_mean"]) == {0.70, 0.75}
    assert select_best(table, TARGETS)["model"] == slug("dedup", 2)


def test_the_written_selection_shows_intervals_seeds_aliases_and_one_row_per_model(tmp_path):
    from test_selection import selection_files

    results = {slug("dedup", 1): {"jts1k": 0.9, "jtdd": 0.9}, "base": {"jts1k": 0.6, "jtdd": 0.6}}
    files = write_results(tmp_path / "in", results)
    for path in files:
        with_seeds(path, 0.9 if "dedup" in str(path) else 0.6)
    predictions = [write_model(tmp_path / "in", model, task, gold(seed=len(task)), results[model][task])
                   for model in results for task in TARGETS]
    paths = write_selection(files, TARGETS, selection_files(tmp_path / "out"), predictions=predictions,
                            require_beats=["base"], resamples=200, seed=0, published=None)
    controls = pd.read_csv(paths["controls"], sep="\t")
    assert list(controls["role"]) == ["selected · best dedup", "control"]
    assert controls["jts1k test accuracy n"].tolist() == [300, 300]
    assert (controls["jts1k test accuracy 95% low"] < controls["jts1k test accuracy 95% high"]).all()
    differences = pd.read_csv(paths["differences"], sep="\t")
    assert set(differences["verdict"]) == {"better"} and set(differences["versus"]) == {"base"}
    page = paths["controls_html"].read_text()
    assert "jts1k test 95% CI, n=300" in page and "0.500 ± 0.020 (k=2)" in page
    assert "<td>dedup-1</td>" in page and f"dedup-1 = {slug('dedup', 1)}" in page
    assert "+0.300 [+" in paths["differences_html"].read_text()
