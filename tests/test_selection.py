"""Aggregation of sweep results and the choice of the final model: max mean dev, stable tie-breaks, controls apart."""

import json
from pathlib import Path

import pytest

from tweetbert.analysis.selection import REFERENCE_RESULTS, aggregate, control_table, select_best
from tweetbert.analysis.selection_outputs import SELECTION_OUTPUTS, write_selection
from tweetbert.analysis.ties import dev_examples
from tweetbert.errors import InputError
from tweetbert.modeling.candidates import Candidate
from tweetbert.plots.html_table import markdown_table

TARGETS = ["jts1k", "jtdd"]


def slug(corpus: str, epochs: int, beta1: float = 0.9) -> str:
    return Candidate(corpus, 1e-4, 0.03, epochs, beta1, 0.999, 1e-8).slug


def write_best(directory: Path, model: str, task: str, dev: float, test: float | None = None,
               metric: str = "accuracy") -> Path:
    path = directory / model / task / "best.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"model": model, "task": task, "main_metric": metric, "best_dev": dev,
              "test": None if test is None else {metric: test}, "params": {"learning_rate": 3e-5}, "n_trials": 4}
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def write_results(directory: Path, results: dict[str, dict[str, float]]) -> list[Path]:
    return [write_best(directory, model, task, dev, test=dev - 0.01)
            for model, by_task in results.items() for task, dev in by_task.items()]


def test_aggregate_has_one_sorted_row_per_sweep_and_parses_slugs(tmp_path):
    files = write_results(tmp_path, {"random": {"jtdd": 0.4, "jts1k": 0.5}, slug("dedup", 3): {"jts1k": 0.7}})
    table = aggregate(files[::-1])
    assert list(zip(table["model"], table["task"])) == sorted(zip(table["model"], table["task"]))
    assert dict(zip(table["model"], table["kind"])) == {"random": "control", slug("dedup", 3): "candidate"}
    candidate = table[table["kind"] == "candidate"].iloc[0]
    assert (candidate["corpus"], candidate["epochs"]) == ("dedup", 3)
    assert table.loc[table["model"] == "random", "epochs"].isna().all()
    assert "test_accuracy" in table.columns


def test_a_duplicate_sweep_and_a_bad_best_dev_name_the_file(tmp_path):
    first = write_best(tmp_path / "a", "base", "jts1k", 0.6)
    second = write_best(tmp_path / "b", "base", "jts1k", 0.6)
    with pytest.raises(InputError, match="second result for model 'base' on task 'jts1k'"):
        aggregate([first, second])
    bad = write_best(tmp_path / "c", "base", "jtdd", float("nan"))
    with pytest.raises(InputError, match=r"best\.json.*best_dev"):
        aggregate([bad])


def test_selection_picks_the_highest_mean_dev(tmp_path):
    results = {slug("dedup", 1): {"jts1k": 0.70, "jtdd": 0.60},
               slug("dedup", 2): {"jts1k": 0.66, "jtdd": 0.68},
               slug("balanced", 4): {"jts1k": 0.75, "jtdd": 0.57}}
    choice = select_best(aggregate(write_results(tmp_path, results)), TARGETS)
    assert choice["model"] == slug("dedup", 2)
    assert choice["score"] == pytest.approx(0.67)
    assert [entry["model"] for entry in choice["ranking"]] == [slug("dedup", 2), slug("balanced", 4),
                                                               slug("dedup", 1)]
    assert choice["target_tasks"] == TARGETS and choice["rule"] == "mean_dev"


def test_ties_go_to_higher_minimum_then_fewer_epochs_then_slug_order(tmp_path):
    # every mean is 0.4, reached in a different float order; dev values are k/10 like real accuracies
    results = {slug("dedup", 5): {"jts1k": 0.1, "jtdd": 0.7},     # min 0.1
               slug("dedup", 6): {"jts1k": 0.3, "jtdd": 0.5},     # min 0.3, more epochs
               slug("dedup", 2, 0.9): {"jts1k": 0.5, "jtdd": 0.3},
               slug("dedup", 2, 0.8): {"jts1k": 0.3, "jtdd": 0.5}}
    ranking = [e["model"] for e in select_best(aggregate(write_results(tmp_path, results)), TARGETS)["ranking"]]
    assert ranking == [slug("dedup", 2, 0.8), slug("dedup", 2, 0.9), slug("dedup", 6), slug("dedup", 5)]


def test_a_candidate_missing_a_target_task_is_named(tmp_path):
    files = write_results(tmp_path, {slug("dedup", 1): {"jts1k": 0.7, "jtdd": 0.6}, slug("dedup", 2): {"jts1k": 0.8}})
    with pytest.raises(ValueError, match=rf"{slug('dedup', 2)}.*'jtdd'"):
        select_best(aggregate(files), TARGETS)


def test_controls_are_never_selected_however_good(tmp_path):
    files = write_results(tmp_path, {"base": {"jts1k": 0.99, "jtdd": 0.99}, slug("dedup", 1): {"jts1k": 0.5,
                                                                                                 "jtdd": 0.5}})
    choice = select_best(aggregate(files), TARGETS)
    assert choice["model"] == slug("dedup", 1)
    assert [entry["model"] for entry in choice["ranking"]] == [slug("dedup", 1)]
    with pytest.raises(ValueError, match="no candidate"):
        select_best(aggregate(files[:2]), TARGETS)


def test_control_table_rows_and_published_rows_only_for_present_tasks(tmp_path):
    results = {slug("dedup", 1): {"jts1k": 0.70, "jtdd": 0.60, "jtbr": 0.8},
               slug("balanced", 2): {"jts1k": 0.72, "jtdd": 0.50, "jtbr": 0.9},
               "base": {"jts1k": 0.65, "jtdd": 0.62}}
    table = aggregate(write_results(tmp_path, results))
    controls = control_table(table, ["jts1k", "jtbr"], REFERENCE_RESULTS)
    roles = list(zip(controls["role"], controls["model"]))
    assert roles[:3] == [("selected · best balanced", slug("balanced", 2)), ("best dedup", slug("dedup", 1)),
                         ("control", "base")]
    published = controls[controls["role"] == "published"]
    assert list(published["model"]) == list(REFERENCE_RESULTS["jts1k"])
    assert published["jts1k test accuracy"].tolist() == list(REFERENCE_RESULTS["jts1k"].values())
    assert published["jtbr test accuracy"].isna().all() and published["jts1k dev accuracy"].isna().all()
    assert not any("jtdd" in column for column in controls.columns)
    assert controls.loc[controls["model"] == "base", "jtbr dev accuracy"].isna().all()
    assert "published" not in set(control_table(table, ["jtbr"], REFERENCE_RESULTS)["role"])
    assert "published" not in set(control_table(table, ["jts1k"], None)["role"])


def test_renderings_bold_the_best_of_each_column(tmp_path):
    results = {slug("dedup", 1): {"jts1k": 0.70}, "base": {"jts1k": 0.80}}
    controls = control_table(aggregate(write_results(tmp_path, results)), ["jts1k"], None)
    markdown = markdown_table(controls, best_columns=list(controls.columns[3:]))
    assert "| control | base |  | **0.800** | **0.790** |" in markdown
    assert "| 0.700 | 0.690 |" in markdown


def test_no_bold_where_every_model_ties_and_the_parameter_count_is_shown(tmp_path):
    files = write_results(tmp_path, {slug("dedup", 1): {"jts1k": 0.978}, "base": {"jts1k": 0.978}})
    for path in files:
        record = json.loads(path.read_text())
        path.write_text(json.dumps({**record, "parameters": 110_617_344}))
    controls = control_table(aggregate(files), ["jts1k"], None)
    assert set(controls["parameters"]) == {"110.6M"}
    assert "**" not in markdown_table(controls, best_columns=list(controls.columns[3:]))


def selection_files(directory):
    """The selection's files in one folder, named as the workflow's select_best rule names them."""
    names = {"aggregate": "aggregate.tsv", "aggregate_html": "aggregate.html", "best_model": "best_model.json", "controls": "controls.tsv",
             "controls_html": "controls.html", "controls_markdown": "controls.md", "intervals": "intervals.tsv",
             "differences": "differences.tsv", "differences_html": "differences.html",
             "candidates_scatter": "candidates_scatter.png", "epochs": "epochs.png"}
    assert set(names) == set(SELECTION_OUTPUTS)
    return {name: directory / file for name, file in names.items()}


def test_write_selection_writes_everything_byte_identically(tmp_path):
    results = {slug("dedup", e): {"jts1k": 0.6 + e / 100, "jtdd": 0.6 - e / 200} for e in (1, 2, 3)}
    results |= {slug("balanced", e): {"jts1k": 0.62 + e / 100, "jtdd": 0.58} for e in (2, 4)}
    results |= {"base": {"jts1k": 0.64, "jtdd": 0.61}, "random": {"jts1k": 0.4, "jtdd": 0.3}}
    files = write_results(tmp_path / "in", results)
    first = write_selection(files, TARGETS, selection_files(tmp_path / "one"))
    second = write_selection(files[::-1], TARGETS, selection_files(tmp_path / "two"))
    names = {path.name for path in first.values()}
    assert {"aggregate.tsv", "best_model.json", "controls.tsv", "controls.html", "candidates_scatter.png",
            "epochs.png"} <= names
    assert all(path.is_file() and path.stat().st_size for path in first.values())
    for key in ("aggregate", "best_model", "controls", "controls_html", "controls_markdown"):
        assert first[key].read_bytes() == second[key].read_bytes()
    assert json.loads(first["best_model"].read_text())["model"] == slug("balanced", 4)


def test_a_single_target_task_gets_a_strip_plot(tmp_path):
    results = {slug("dedup", 1): {"jts1k": 0.7}, slug("balanced", 2): {"jts1k": 0.6}, "base": {"jts1k": 0.65}}
    paths = write_selection(write_results(tmp_path / "in", results), ["jts1k"], selection_files(tmp_path / "out"),
                            published=None)
    assert paths["candidates_scatter"].stat().st_size
    assert json.loads(paths["best_model"].read_text())["model"] == slug("dedup", 1)


def test_only_candidates_that_beat_the_gate_controls_on_every_target_task_are_eligible(tmp_path):
    results = {"base": {"jts1k": 0.60, "jtdd": 0.60},
               slug("dedup", 1): {"jts1k": 0.90, "jtdd": 0.55},   # best mean, loses jtdd to base
               slug("dedup", 2): {"jts1k": 0.65, "jtdd": 0.62},
               slug("dedup", 3): {"jts1k": 0.61, "jtdd": 0.60}}   # ties base on jtdd: not a win
    table = aggregate(write_results(tmp_path, results))
    choice = select_best(table, TARGETS, require_beats=["base"])
    assert choice["model"] == slug("dedup", 2)
    assert choice["gate"] | {"note": ""} == {"require_beats": ["base"], "passed": [slug("dedup", 2)],
                                             "selected_passes": True, "note": ""}
    assert {e["model"]: e["passes_gate"] for e in choice["ranking"]} == {
        slug("dedup", 1): False, slug("dedup", 2): True, slug("dedup", 3): False}
    assert select_best(table, TARGETS)["model"] == slug("dedup", 1)
    with pytest.raises(ValueError, match="'bert'"):
        select_best(table, TARGETS, require_beats=["bert"])


def test_when_no_candidate_passes_the_gate_the_best_scorer_is_selected_and_every_output_says_so(tmp_path):
    results = {"base": {"jts1k": 0.9, "jtdd": 0.9}, slug("dedup", 1): {"jts1k": 0.7, "jtdd": 0.6},
               slug("dedup", 2): {"jts1k": 0.6, "jtdd": 0.6}}
    paths = write_selection(write_results(tmp_path / "in", results), TARGETS, selection_files(tmp_path / "out"),
                            require_beats=["base"], published=None)
    best = json.loads(paths["best_model"].read_text())
    assert best["model"] == slug("dedup", 1)
    assert best["gate"]["passed"] == [] and best["gate"]["selected_passes"] is False
    assert best["gate"]["note"].startswith("NO CANDIDATE PASSES THE GATE")
    for key in ("controls_html", "controls_markdown"):
        assert "NO CANDIDATE PASSES THE GATE" in paths[key].read_text()
    assert "selected (FAILS GATE)" in paths["controls"].read_text()


def test_the_selection_note_says_which_data_played_each_split_role(tmp_path):
    files = write_results(tmp_path, {"base": {"jts1k": 0.6, "jtdd": 0.6}, slug("dedup", 1): {"jts1k": 0.7,
                                                                                                "jtdd": 0.7}})
    roles = {"train": "t.csv, 65/100", "validation": "t.csv, 5/100 of it (seed 0)", "dev": "valid-v1.3.json",
             "test": "t.csv, 15/100"}
    for path in files:
        record = json.loads(path.read_text())
        record["splits"] = {role: {"examples": 1, "source": source} for role, source in roles.items()}
        path.write_text(json.dumps(record))
    paths = write_selection(files, TARGETS, selection_files(tmp_path / "out"), require_beats=["base"], published=None)
    html = paths["controls_html"].read_text()
    assert "jts1k: validation = t.csv, 5/100 of it (seed 0); dev = valid-v1.3.json; test = t.csv, 15/100." in html


def with_dev_examples(files, examples):
    """Record the dev split size in each best.json, as sweep/best.py does under ``splits``."""
    for path in files:
        record = json.loads(path.read_text())
        record["splits"] = {role: {"examples": examples if role == "dev" else 100, "source": f"{role}.json"}
                            for role in ("train", "validation", "dev", "test")}
        path.write_text(json.dumps(record))
    return files


def test_equal_means_are_a_tie_and_the_notes_name_the_order_rule_not_the_best(tmp_path):
    results = {"base": {"jts1k": 0.5, "jtdd": 0.5},
               slug("dedup", 2): {"jts1k": 0.8, "jtdd": 0.7}, slug("dedup", 4): {"jts1k": 0.7, "jtdd": 0.8}}
    files = with_dev_examples(write_results(tmp_path / "in", results), 10_000)
    paths = write_selection(files, TARGETS, selection_files(tmp_path / "out"), require_beats=["base"],
                            published=None)
    best = json.loads(paths["best_model"].read_text())
    assert best["model"] == slug("dedup", 2) and best["tie"] is True
    assert best["runner_up"] == slug("dedup", 4) and best["runner_up_dev"] == pytest.approx(0.75)
    assert best["dev_margin"] == pytest.approx(0.0) and best["dev_noise"] > 0
    for key in ("controls_html", "controls_markdown"):
        text = paths[key].read_text()
        assert f"Tie: {slug('dedup', 2)} and {slug('dedup', 4)} are within noise on development" in text
        assert "fewer pre-training epochs (2 vs 4)" in text and "best of them" not in text
    # equal means tie even when no dev split size is known
    assert select_best(aggregate(write_results(tmp_path / "bare", results)), TARGETS)["tie"] is True


def test_a_near_tie_within_noise_is_a_tie_and_a_clear_winner_is_not(tmp_path):
    near = {slug("dedup", 1): {"jts1k": 0.77, "jtdd": 0.77}, slug("dedup", 2): {"jts1k": 0.76, "jtdd": 0.76}}
    files = with_dev_examples(write_results(tmp_path / "near", near), 300)
    choice = select_best(aggregate(files), TARGETS, examples=dev_examples(files))
    # se of each mean = sqrt(2 * p(1-p)/300) / 2, about 0.017; 1.96 * sqrt(2) * that is about 0.047 > 0.01
    se = (2 * 0.77 * 0.23 / 300) ** 0.5 / 2, (2 * 0.76 * 0.24 / 300) ** 0.5 / 2
    assert choice["dev_noise"] == pytest.approx(1.96 * (se[0] ** 2 + se[1] ** 2) ** 0.5)
    assert choice["tie"] is True and choice["dev_margin"] == pytest.approx(0.01)
    assert "because its mean dev is higher" in choice["tie_note"]
    clear = with_dev_examples(write_results(tmp_path / "clear", {
        slug("dedup", 1): {"jts1k": 0.90, "jtdd": 0.88}, slug("dedup", 2): {"jts1k": 0.70, "jtdd": 0.72}}), 300)
    choice = select_best(aggregate(clear), TARGETS, examples=dev_examples(clear))
    assert choice["tie"] is False and choice["dev_margin"] == pytest.approx(0.18) and choice["dev_noise"] < 0.18
    assert choice["tie_note"].startswith("Not a tie")
    # the same small margin on a large dev split is not a tie either
    big = with_dev_examples(write_results(tmp_path / "big", near), 1_000_000)
    assert select_best(aggregate(big), TARGETS, examples=dev_examples(big))["tie"] is False


def test_beating_base_is_put_in_context_of_base_vs_random_init(tmp_path):
    results = {"base": {"jts1k": 0.427, "jtdd": 0.751}, "random": {"jts1k": 0.431, "jtdd": 0.756},
               slug("dedup", 1): {"jts1k": 0.60, "jtdd": 0.80}}
    files = with_dev_examples(write_results(tmp_path / "in", results), 500)
    paths = write_selection(files, TARGETS, selection_files(tmp_path / "out"), require_beats=["base"],
                            published=None)
    best = json.loads(paths["best_model"].read_text())
    assert best["base_vs_random"]["base"] == pytest.approx(0.589)
    assert best["base_vs_random"]["random"] == pytest.approx(0.5935)
    assert best["base_vs_random"]["margin"] == pytest.approx(-0.0045)
    line = ("base 0.589 vs random-init 0.594 (mean dev): on this data the base model is no better than a randomly "
            "initialised one, so beating it says little.")
    assert line in best["gate"]["note"] and line in paths["controls_markdown"].read_text()
    assert best["tie"] is False and best["runner_up"] is None  # one candidate: nothing to tie with
    without_random = {model: by_task for model, by_task in results.items() if model != "random"}
    assert select_best(aggregate(write_results(tmp_path / "b", without_random)), TARGETS)["base_vs_random"] is None
