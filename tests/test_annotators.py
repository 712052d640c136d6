"""Labels published one per annotator: read as published, aggregated by the task's rule, agreement recorded."""

import json

import datasets
import pandas as pd
import pytest

from tweetbert.config import validate_config
from tweetbert.errors import ConfigError, InputError
from tweetbert.tasks import load_task
from tweetbert.tasks.annotators import agreement
from tweetbert.tasks.registry import check_options, get_task

SPLITS = ["train"] * 8 + ["validation", "dev", "test", "test"]
PANELS = [["0", "1", "1"], ["1", "1", "1"], ["0", "0", "1"], ["0", "0", "0"], ["1", "0", None], ["0", None, "1"],
          ["1", "1", "0"], ["0", "0", "0"], ["1", "1", "1"], ["0", "0", "1"], ["1", "0", "1"], ["0", "1", "0"]]
"""Three crowd workers' classes per tweet; rows 5 and 6 (1-based) have a missing judgement and tie 1:1."""


def write_csv(path, panels=PANELS, cell=lambda panel: "|".join(label or "" for label in panel)):
    """The published CSV: one label cell per tweet listing the annotators' labels."""
    lines = ["text,label,split"] + [f'ツイート{i},"{cell(panel)}",{split}'
                                     for i, (panel, split) in enumerate(zip(panels, SPLITS))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def labels(data, role="train"):
    return [example["label"] for example in data[role]]


def load(path, **rule):
    return load_task("jts1k", {"path": str(path), "annotators": rule})


# --- the agreement measure against the published worked example -------------------------------------------------

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", example C: 4 observers, 12 units, missing
# values; published alpha 0.743 (nominal) and 0.849 (interval).
KRIPPENDORFF_C = [[1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
                  [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
                  [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
                  [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]]


def test_alpha_reproduces_krippendorffs_published_example_with_missing_judgements():
    units = [[None if coder[u] is None else str(coder[u]) for coder in KRIPPENDORFF_C] for u in range(12)]
    names = ["1", "2", "3", "4", "5"]
    assert agreement(units, names, "nominal") == pytest.approx(0.743, abs=5e-4)
    assert agreement(units, names, "interval") == pytest.approx(0.849, abs=5e-4)


def test_alpha_is_undefined_without_pairable_judgements_or_variation():
    assert agreement([["1", None], [None, "0"]], ["0", "1"], "nominal") is None  # no unit with two judgements
    assert agreement([["1", "1"], ["1", "1"]], ["0", "1"], "nominal") is None  # one label throughout
    assert agreement([["0", "0"], ["1", "1"]], ["0", "1"], "nominal") == 1.0


# --- aggregation rules ------------------------------------------------------------------------------------------

def test_majority_drops_ties_by_default_and_records_agreement_on_the_raw_judgements(tmp_path):
    data = load(write_csv(tmp_path / "t.csv"), aggregate="majority")
    assert labels(data) == [1, 1, 0, 0, 1, 0]  # rows 5 and 6 tie 1:1 and are left out
    assert [labels(data, role) for role in ("validation", "dev", "test")] == [[1], [0], [1, 0]]
    record = data.metadata["annotators"]
    assert record == {"aggregate": "majority", "tie": "drop", "positive": None, "items": 12, "annotators": 3,
                      "judgements": 34, "missing": 2, "ties_dropped": 2, "agreement": record["agreement"]}
    expected = agreement(PANELS, ["0", "1"], "nominal")
    assert record["agreement"] == {"measure": "krippendorff_alpha", "level": "nominal", "value": expected}
    assert "the majority label of 3 annotators; ties dropped (2 items in all)" in data.sources["train"]
    assert f"Krippendorff's alpha (nominal) {expected:.3f} over 12 items" in data.sources["test"]


@pytest.mark.parametrize(("tie", "expected"), [("first", [1, 1, 0, 0, 1, 0, 1, 0]),
                                               ("lowest", [1, 1, 0, 0, 0, 0, 1, 0])])
def test_a_tie_goes_to_the_label_given_first_or_to_the_lowest_label(tmp_path, tie, expected):
    data = load(write_csv(tmp_path / "t.csv"), aggregate="majority", tie=tie)
    assert labels(data) == expected and data.metadata["annotators"]["ties_dropped"] == 0


def test_any_makes_an_item_positive_where_one_annotator_flags_it(tmp_path):
    data = load(write_csv(tmp_path / "t.csv"), aggregate="any")
    assert labels(data) == [1, 1, 1, 0, 1, 1, 1, 0]
    assert data.metadata["annotators"]["positive"] == "1" and data.metadata["annotators"]["tie"] is None
    assert "gold: '1' where any of 3 annotators gives it; Krippendorff's alpha (nominal)" in data.sources["train"]


def test_any_takes_a_named_positive_label_and_refuses_more_than_two_labels(tmp_path):
    words = {"0": "ok", "1": "abusive"}
    path = write_csv(tmp_path / "t.csv", [[words[label] if label else None for label in p] for p in PANELS])
    data = load(path, aggregate="any", positive="abusive")
    assert data.label_names == ["abusive", "ok"] and labels(data) == [0, 0, 0, 1, 0, 0, 0, 1]
    with pytest.raises(ConfigError, match=r"tasks.jts1k.annotators.positive.*name the positive label"):
        load(path, aggregate="any")
    three = write_csv(tmp_path / "three.csv", [["0", "1", "2"]] + PANELS[1:])
    with pytest.raises(ConfigError, match=r"tasks.jts1k.annotators.aggregate.*`any` needs two labels"):
        load(three, aggregate="any")


def test_mean_of_an_ordinal_scale_rounds_to_the_nearest_label_from_parquet_lists(tmp_path):
    panels = [[-2, -1, -2], [2, 2, 1], [0, 1, None], [-1, 0, 0], [1, 1, 2], [-2, -2, -2], [0, 0, 0], [2, 1, 2],
              [1, 0, 0], [-1, -1, -2], [2, 2, 2], [0, -1, None]]
    path = tmp_path / "t.parquet"
    pd.DataFrame({"text": [f"ツイート{i}" for i in range(12)], "label": panels, "split": SPLITS}).to_parquet(path)
    data = load(path, aggregate="mean")
    assert data.label_names == ["-2", "-1", "0", "1", "2"]
    named = {role: [data.label_names[label] for label in labels(data, role)] for role in data.splits}
    assert named == {"train": ["-2", "2", "0", "1", "-2", "0", "2"], "validation": ["0"], "dev": ["-1"],
                     "test": ["2"]}  # [0, 1] and [0, -1] are halfway between two labels: ties, dropped
    assert data.metadata["annotators"]["ties_dropped"] == 2
    assert data.metadata["annotators"]["agreement"]["level"] == "interval"
    for tie, expected in (("lowest", ["0", "-1"]), ("first", ["0", "0"])):  # first: nearer the first annotator's 0
        tied = load(path, aggregate="mean", tie=tie)
        assert [tied.label_names[labels(tied)[2]], tied.label_names[labels(tied, "test")[1]]] == expected


def test_json_arrays_in_a_tsv_cell_and_json_lines_lists_read_alike(tmp_path):
    tsv = tmp_path / "t.tsv"
    tsv.write_text("text\tlabel\tsplit\n" + "".join(f"ツイート{i}\t{json.dumps([int(x) if x else None for x in p])}\t{s}\n"
                                                    for i, (p, s) in enumerate(zip(PANELS, SPLITS))), encoding="utf-8")
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text("".join(json.dumps({"text": f"ツイート{i}", "label": [int(x) if x else None for x in p],
                                         "split": s}, ensure_ascii=False) + "\n"
                             for i, (p, s) in enumerate(zip(PANELS, SPLITS))), encoding="utf-8")
    csv = load(write_csv(tmp_path / "t.csv"), aggregate="majority", tie="first")
    for path in (tsv, jsonl):
        data = load(path, aggregate="majority", tie="first")
        assert data.splits == csv.splits and data.metadata == csv.metadata


def test_a_hydrated_table_counts_its_items_before_ties_are_dropped(tmp_path):
    published = tmp_path / "ids.csv"
    published.write_text("id,label,split\n" + "".join(f'{i},"{"|".join(x or "" for x in p)}",{s}\n'
                                                      for i, (p, s) in enumerate(zip(PANELS, SPLITS))))
    hydrated = tmp_path / "hydrated.jsonl"
    hydrated.write_text("".join(json.dumps({"id": i, "text": f"ツイート{i}"}) + "\n" for i in range(12) if i != 0))
    data = load_task("jts1k", {"path": str(published), "hydrated": str(hydrated),
                               "annotators": {"aggregate": "majority"}})
    assert labels(data) == [1, 0, 0, 1, 0]  # row 2 not hydrated; rows 6 and 7 tie
    assert "7 of 8 published items hydrated" in data.sources["train"]
    assert data.metadata["annotators"]["items"] == 12 and data.metadata["annotators"]["ties_dropped"] == 2


def test_the_label_set_checks_every_annotator_and_a_sample_keeps_the_record(tmp_path):
    path = write_csv(tmp_path / "t.csv", PANELS[:3] + [["0", "2", "0"]] + PANELS[4:])
    with pytest.raises(InputError, match=r"t.csv, row 5, column 'label': annotator 2's label '2' is not one of "
                                         r"\['0', '1'\]"):
        load_task("jts1k", {"path": str(path), "labels": [0, 1], "annotators": {"aggregate": "majority"}})
    data = load_task("jts1k", {"path": str(write_csv(tmp_path / "ok.csv")), "max_examples": 2,
                               "annotators": {"aggregate": "majority"}})
    assert data.metadata["annotators"]["items"] == 12 and len(data["train"]) == 2


# --- bad input: file, row and column named -----------------------------------------------------------------------

@pytest.mark.parametrize(("cell", "message"), [
    ("0|1", r"row 4, column 'label': 2 annotators' labels where row 2 has 3 \(the i-th entry"),
    ("", r"row 4, column 'label': no annotator's label \(an empty list\)"),
    ("||", r"row 4, column 'label': none of the 3 annotators gave a label"),
    ("[0, 1", r"row 4, column 'label': not a JSON list of labels"),
    ("[0, [1], 1]", r"row 4, column 'label': annotator 2's label is not a label"),
])
def test_a_bad_label_cell_names_its_file_row_and_column(tmp_path, cell, message):
    path = tmp_path / "t.csv"
    write_csv(path, PANELS, lambda panel: "|".join(x or "" for x in panel))
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[3] = f'ツイート2,"{cell}",train'
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match=r"t.csv, " + message):
        load(path, aggregate="majority")


def test_a_json_lines_label_that_is_no_list_names_its_line(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"text": "a", "label": [0, 1]}) + "\n" + json.dumps({"text": "b", "label": 1}) + "\n")
    with pytest.raises(InputError, match=r"t.jsonl, row 2, column 'label': expected a list of the annotators' "
                                         r"labels, found 1"):
        load(path, aggregate="majority")


def test_mean_needs_numeric_labels(tmp_path):
    path = write_csv(tmp_path / "t.csv", [["a" if x == "0" else "b" if x else None for x in p] for p in PANELS])
    with pytest.raises(InputError, match=r"row 2, column 'label': `mean` needs numeric labels"):
        load(path, aggregate="mean")


@pytest.mark.parametrize(("value", "key"), [
    ("majority", "tasks.jts1k.annotators"),
    ({"aggregate": "median"}, "tasks.jts1k.annotators.aggregate"),
    ({"aggregate": "majority", "tie": "random"}, "tasks.jts1k.annotators.tie"),
    ({"aggregate": "any", "tie": "first"}, "tasks.jts1k.annotators.tie"),
    ({"aggregate": "majority", "positive": "1"}, "tasks.jts1k.annotators.positive"),
    ({"aggregate": "majority", "weights": [1, 2]}, "tasks.jts1k.annotators.weights"),
])
def test_bad_annotator_options_are_config_errors_before_any_file_is_read(value, key):
    options = get_task("jts1k").resolve_options({"path": "missing.csv", "annotators": value})
    with pytest.raises(ConfigError) as error:
        check_options("jts1k", options)
    assert error.value.key == key


def test_the_config_schema_takes_the_annotators_option_and_checks_it():
    config = validate_config({"tasks": {"jts1k": {"path": "x.csv", "annotators": {"aggregate": "majority"}}}})
    assert config["tasks"]["jts1k"]["annotators"] == {"aggregate": "majority"}
    for annotators, key in [({"aggregate": "vote"}, "tasks.jts1k.annotators.aggregate"),
                            ({"aggregate": "majority", "tie": "coin"}, "tasks.jts1k.annotators.tie"),
                            ({"aggregate": "any", "tie": "first"}, "tasks.jts1k.annotators.tie"),
                            ({"tie": "first"}, "tasks.jts1k.annotators")]:  # 'aggregate' is required
        with pytest.raises(ConfigError) as raised:
            validate_config({"tasks": {"jts1k": {"path": "x.csv", "annotators": annotators}}})
        assert raised.value.key == key
    with pytest.raises(ConfigError, match="unknown option"):
        validate_config({"tasks": {"wrime_emotion": {"path": "w.tsv", "annotators": {"aggregate": "mean"}}}})


def test_a_hub_list_of_class_labels_reads_as_the_label_names(tmp_path):
    names = ["ok", "abusive"]
    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.List(datasets.ClassLabel(names=names))})
    rows = [{"text": f"ツイート{i}", "label": [int(x) if x else None for x in p]} for i, p in enumerate(PANELS * 3)]
    folder = tmp_path / "saved"
    datasets.Dataset.from_list(rows, features=features).save_to_disk(str(folder))
    data = load_task("jts1k", {"path": str(folder), "annotators": {"aggregate": "any", "positive": "abusive"}})
    assert data.label_names == names and data.metadata["annotators"]["items"] == 36
    assert sorted(e["label"] for role in data.splits for e in data[role]) == sorted(
        [1 if "1" in p else 0 for p in PANELS] * 3)
