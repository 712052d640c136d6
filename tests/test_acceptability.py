"""The acceptability report: scores by K and kappa as computed by hand, strict validation of the filled sheets that
names file, row and column, byte-identical outputs, and the demo's stand-in annotators."""

import csv
import json
from pathlib import Path

import pytest

from tweetbert.analysis.acceptability_report import (
    PUBLISHED_ACCEPTABILITY,
    cohen_kappa,
    collect_labels,
    parse_label,
    write_acceptability_report,
)
from tweetbert.errors import InputError

KEY_HEADER = ["item", "example_id", "k", "original", "replacement", "original_sentence", "sentence"]
# item, k, original, replacement[, sentence template]
ITEMS = [(1, 1, "猫", "犬"), (2, 1, "猫", "鳥"), (3, 3, "行く", "来る"), (4, 3, "猫", "の"), (5, 3, "猫", "食べる"),
         (6, 100, "猫", "[UNK]")]
# labels of a1 and a2 per item above; hand-computed: a1 = 1.0 / 0.333 / 0.0 and a2 = 0.5 / 0.667 / 0.0 by K 1/3/100
A1 = ["1", "1", "1", "0", "0", "0"]
A2 = ["1", "0", "1", "0", "1", "0"]


def texts(original: str, replacement: str, template: str = "今日は{}を見た") -> tuple[str, str]:
    """The original sentence and the sentence with the marked replacement, as the kit writes them."""
    return template.format(original), template.format(f"【{replacement}】")


def report_files(directory: Path) -> dict[str, Path]:
    """The report's files in one folder, named as the workflow's acceptability_report rule names them."""
    names = {"by_k": "by_k.tsv", "summary": "summary.json", "acceptability_by_k": "acceptability_by_k.png",
             "annotators": "annotators.png"}
    return {name: directory / file for name, file in names.items()}


def write_key(path: Path, items=ITEMS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(KEY_HEADER)
        for item, k, original, replacement, *text in items:
            original_sentence, marked = texts(original, replacement, *text)
            writer.writerow([item, f"ex{item}", k, original, replacement, original_sentence, marked])
    return path


def write_sheet(path: Path, labels: dict[str, list[str]], items=ITEMS, *, order=None, encoding="utf-8-sig",
                lineterminator="\r\n") -> Path:
    """A sheet as the kit writes it, with ``labels`` (annotator -> one cell per item, "" = blank) filled in."""
    order = list(range(len(items))) if order is None else order
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator=lineterminator)
        writer.writerow(["item", "sentence", "replacement", *(f"label_{name}" for name in labels)])
        for position in order:
            item, _, original, replacement, *text = items[position]
            marked = texts(original, replacement, *text)[1]
            writer.writerow([item, marked, replacement, *(cells[position] for cells in labels.values())])
    return path


@pytest.fixture
def key(tmp_path) -> Path:
    return write_key(tmp_path / "key.tsv")


def by_k_rows(path: Path) -> dict[tuple[int, str], dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {(int(row["k"]), row["annotator"]): row for row in csv.DictReader(handle, delimiter="\t")}


def test_acceptability_by_k_matches_hand_computed_values(tmp_path, key):
    sheet = write_sheet(tmp_path / "sheet.csv", {"a1": A1, "a2": A2})
    paths = write_acceptability_report(key, [sheet], report_files(tmp_path / "out"))
    rows = by_k_rows(paths["by_k"])
    expected = {(1, "a1"): ("2", "2", 1.0), (1, "a2"): ("2", "1", 0.5), (1, "mean"): ("2", "", 0.75),
                (3, "a1"): ("3", "1", 1 / 3), (3, "a2"): ("3", "2", 2 / 3), (3, "mean"): ("3", "", 0.5),
                (100, "a1"): ("1", "0", 0.0), (100, "a2"): ("1", "0", 0.0), (100, "mean"): ("1", "", 0.0)}
    assert list(rows) == list(expected)
    for group, (n_items, acceptable, share) in expected.items():
        assert (rows[group]["n_items"], rows[group]["acceptable"]) == (n_items, acceptable)
        assert float(rows[group]["acceptability"]) == pytest.approx(share, abs=1e-6)
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    assert summary["annotators"] == ["a1", "a2"] and summary["items"] == 6
    assert [(row["k"], row["mean"], row["published"]) for row in summary["acceptability_by_k"]] == [
        (1, 0.75, 0.917), (3, 0.5, 0.883), (100, 0.0, 0.367)]
    assert summary["acceptability_by_k"][1]["by_annotator"] == {"a1": 0.333333, "a2": 0.666667}
    assert summary["published"]["kappa"] == 0.38 and summary["published"]["annotators"] == 2
    assert summary["label_distribution"]["a2"] == {
        "acceptable": 3, "not_acceptable": 3,
        "by_k": [{"k": 1, "acceptable": 1, "not_acceptable": 1}, {"k": 3, "acceptable": 2, "not_acceptable": 1},
                 {"k": 100, "acceptable": 0, "not_acceptable": 1}]}


def test_kappa_equals_the_hand_computed_value(tmp_path, key):
    # observed agreement 4/6, chance agreement 0.5 * 0.5 + 0.5 * 0.5 = 0.5, so kappa = (2/3 - 1/2) / (1/2) = 1/3
    assert cohen_kappa([1, 1, 1, 0, 0, 0], [1, 0, 1, 0, 1, 0]) == pytest.approx(1 / 3)
    # a3 agrees with a1 everywhere: pairs 1/3, 1, 1/3, mean 5/9
    sheet = write_sheet(tmp_path / "sheet.csv", {"a1": A1, "a2": A2, "a3": A1})
    paths = write_acceptability_report(key, [sheet], report_files(tmp_path / "out"))
    summary = json.loads(paths["summary"].read_text("utf-8"))
    assert summary["kappa"]["pairs"] == [
        {"annotators": ["a1", "a2"], "n_items": 6, "kappa": 0.333333},
        {"annotators": ["a1", "a3"], "n_items": 6, "kappa": 1.0},
        {"annotators": ["a2", "a3"], "n_items": 6, "kappa": 0.333333}]
    assert summary["kappa"]["mean"] == pytest.approx(5 / 9, abs=1e-6)


def test_kappa_is_null_for_one_annotator_or_when_undefined(tmp_path, key):
    one = write_sheet(tmp_path / "one.csv", {"a1": A1, "a2": [""] * 6})
    paths = write_acceptability_report(key, [one], report_files(tmp_path / "one"))
    summary = json.loads(paths["summary"].read_text("utf-8"))
    assert summary["annotators"] == ["a1"] and summary["kappa"] == {"pairs": [], "mean": None}
    assert cohen_kappa([1, 1, 1], [1, 1, 1]) is None


def test_two_per_annotator_sheets_merge_into_the_single_sheet_result(tmp_path, key):
    both = write_acceptability_report(key, [write_sheet(tmp_path / "both.csv", {"a1": A1, "a2": A2})],
                                      report_files(tmp_path / "both"))
    blank = [""] * 6
    first = write_sheet(tmp_path / "sheet_a1.csv", {"a1": A1, "a2": blank}, order=[5, 4, 3, 2, 1, 0])
    second = write_sheet(tmp_path / "sheet_a2.csv", {"a1": blank, "a2": A2})
    merged = write_acceptability_report(key, [first, second], report_files(tmp_path / "merged"))
    assert merged["by_k"].read_bytes() == both["by_k"].read_bytes()
    summary = json.loads(merged["summary"].read_text("utf-8"))
    assert summary["sheets"] == {"a1": "sheet_a1.csv", "a2": "sheet_a2.csv"}
    assert summary["kappa"]["mean"] == 0.333333


def test_same_input_gives_identical_output_bytes_whatever_the_sheet_order(tmp_path, key):
    blank = [""] * 6
    first = write_sheet(tmp_path / "sheet_a1.csv", {"a1": A1, "a2": blank})
    second = write_sheet(tmp_path / "sheet_a2.csv", {"a1": blank, "a2": A2})
    one = write_acceptability_report(key, [first, second], report_files(tmp_path / "one"))
    two = write_acceptability_report(key, [second, first], report_files(tmp_path / "two"))
    for name in ("by_k", "summary"):
        assert one[name].read_bytes() == two[name].read_bytes()
    text = one["summary"].read_text("utf-8")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def test_pngs_are_written_and_non_empty_with_and_without_published_values(tmp_path, key):
    sheet = write_sheet(tmp_path / "sheet.csv", {"a1": A1, "a2": A2, "a3": A2})
    for published, out in ((PUBLISHED_ACCEPTABILITY, "with"), (None, "without"), ({1: 0.9}, "partial")):
        paths = write_acceptability_report(key, [sheet], report_files(tmp_path / out), published=published)
        for name in ("acceptability_by_k", "annotators"):
            data = paths[name].read_bytes()
            assert data.startswith(b"\x89PNG") and len(data) > 1000
    summary = json.loads((tmp_path / "partial" / "summary.json").read_text("utf-8"))
    assert [row["published"] for row in summary["acceptability_by_k"]] == [0.9, None, None]
    assert "kappa" not in summary["published"]
    assert json.loads((tmp_path / "without" / "summary.json").read_text("utf-8"))["published"] is None


def test_labels_accept_whitespace_spreadsheet_numbers_and_full_width_digits_only():
    assert [parse_label(v) for v in ["1", " 0 ", "1.0", "0.00", "１", "", "  "]] == [1, 0, 1, 0, 1, None, None]
    for bad in ["2", "0.5", "yes", "TRUE", "○", "-1", "10"]:
        with pytest.raises(ValueError, match="label must be 1"):
            parse_label(bad)


def expect_error(key: Path, sheets, pattern: str) -> InputError:
    with pytest.raises(InputError, match=pattern) as caught:
        collect_labels(key, sheets)
    return caught.value


def test_an_item_missing_from_a_sheet_names_the_sheet_column_and_the_key_row(tmp_path, key):
    sheet = write_sheet(tmp_path / "sheet.csv", {"a1": A1}, order=[0, 1, 2, 4, 5])
    error = expect_error(key, [sheet], r"sheet\.csv, column 'item': item 4 of the key \(key line 5\) has no row")
    assert (error.path, error.row, error.column) == (str(sheet), None, "item")


def test_an_item_not_in_the_key_names_file_row_and_column(tmp_path, key):
    sheet = write_sheet(tmp_path / "sheet.csv", {"a1": A1})
    sheet.write_bytes(sheet.read_bytes().replace(b"\r\n5,", b"\r\n99,"))
    expect_error(key, [sheet], r"sheet\.csv, row 6, column 'item': item 99 is not in the key")


def test_a_repeated_item_names_file_row_and_column(tmp_path, key):
    sheet = write_sheet(tmp_path / "sheet.csv", {"a1": A1}, order=[0, 1, 2, 3, 4, 5, 1])
    with pytest.raises(InputError, match=r"sheet\.csv, row 8, column 'item': item 2 repeated \(first on line 3\)"):
        collect_labels(key, [sheet])


def test_a_label_other_than_one_or_zero_names_file_row_and_column(tmp_path, key):
    sheet = write_sheet(tmp_path / "sheet.csv", {"a1": A1, "a2": ["1", "0", "1", "yes", "1", "0"]})
    expect_error(key, [sheet], r"sheet\.csv, row 5, column 'label_a2': label must be 1 .* got 'yes'")


def test_a_partly_filled_label_column_is_a_missing_label_at_its_first_blank(tmp_path, key):
    sheet = write_sheet(tmp_path / "sheet.csv", {"a1": A1, "a2": ["1", "0", "", "0", "", "0"]})
    expect_error(key, [sheet], r"sheet\.csv, row 4, column 'label_a2': missing label: .*\(lines 4, 6\)")


def test_an_annotator_filled_in_two_sheets_names_the_second_sheet(tmp_path, key):
    first = write_sheet(tmp_path / "sheet_x.csv", {"a1": A1, "a2": [""] * 6})
    second = write_sheet(tmp_path / "sheet_y.csv", {"a1": A2, "a2": A2})
    expect_error(key, [first, second], r"sheet_y\.csv, row 1, column 'label_a1': annotator 'a1' is already labelled "
                                       r"in .*sheet_x\.csv")


def test_a_sheet_with_no_annotator_filled_names_the_sheet_and_its_header(tmp_path, key):
    sheet = write_sheet(tmp_path / "sheet.csv", {"a1": [""] * 6, "a2": [" "] * 6})
    expect_error(key, [sheet], r"sheet\.csv, row 1: carries no annotator: every label column \(label_a1, label_a2\)")


def test_a_sheet_of_another_kit_is_caught_by_its_sentences(tmp_path, key):
    other = [(1, 1, "猫", "犬"), (2, 1, "猫", "魚"), *ITEMS[2:]]
    sheet = write_sheet(tmp_path / "sheet.csv", {"a1": A1}, items=other)
    expect_error(key, [sheet], r"sheet\.csv, row 3, column 'sentence': differs from the key's sentence for item 2")


def test_a_shift_jis_sheet_and_a_bad_key_rank_are_located(tmp_path, key):
    sheet = write_sheet(tmp_path / "sheet.csv", {"a1": A1}, encoding="cp932")
    expect_error(key, [sheet], r"sheet\.csv, row 2: not UTF-8 text .* save it as 'CSV UTF-8'")
    bad_key = tmp_path / "bad_key.tsv"
    bad_key.write_text(key.read_text("utf-8").replace("\t3\t行く", "\tthree\t行く"), encoding="utf-8")
    expect_error(bad_key, [sheet], r"bad_key\.tsv, row 4, column 'k': must be a positive integer, got 'three'")


def test_rows_are_the_lines_where_multi_line_records_start(tmp_path):
    items = [(1, 1, "猫\n", "犬\n"), *ITEMS[1:]]  # two quoted cells with a line break each: lines 2-4
    key = write_key(tmp_path / "key.tsv", items)
    sheet = write_sheet(tmp_path / "sheet.csv", {"a1": ["1", "0", "1", "0", "x", "0"]}, items=items)
    expect_error(key, [sheet], r"sheet\.csv, row 8, column 'label_a1': .* got 'x'")


# --- the demo's stand-in annotators -------------------------------------------------------------------------------

DEMO_ITEMS = [(1, 1, "猫", "猫"), (2, 1, "猫", "犬"), (3, 3, "猫", "東京"), (4, 3, "猫", "食べる"), (5, 5, "猫", "##猫"),
              (6, 10, "猫", "[UNK]"), (7, 100, "猫", "[URL]"), (8, 100, "は", "が", "猫{}好き")]


def annotated(tmp_path, annotators=("a1", "a2")) -> dict[str, list[str]]:
    from tweetbert.demo.annotations import annotate_demo_sheet

    key = write_key(tmp_path / "key.tsv", DEMO_ITEMS)
    sheet = write_sheet(tmp_path / "sheet.csv", {name: [""] * len(DEMO_ITEMS) for name in annotators},
                        items=DEMO_ITEMS)
    out = annotate_demo_sheet(key, sheet, tmp_path / "filled" / "sheet.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # the sheet's BOM and line ends are kept
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {name: [row[f"label_{name}"] for row in rows] for name in annotators}


def test_demo_annotators_accept_identical_words_and_apply_their_part_of_speech_rules(tmp_path):
    labels = annotated(tmp_path)
    # identical, noun->noun, common->proper noun, noun->verb, ## piece, [UNK], [URL], particle->particle in context
    assert labels["a1"] == ["1", "1", "1", "0", "0", "0", "0", "1"]  # rule 1: pos1 matches
    assert labels["a2"] == ["1", "1", "0", "0", "0", "0", "0", "0"]  # rule 2: pos1 and pos2 match


def test_demo_annotators_tag_words_in_their_sentence():
    from tweetbert.analysis.acceptability_report import KeyItem
    from tweetbert.demo.annotations import PartOfSpeechTagger, parts_of_speech

    pos = PartOfSpeechTagger()
    assert pos("が") == ("接続詞", "*")  # on its own, が is "but"
    entry = KeyItem(1, 1, "は", "が", "猫は好き", "猫【が】好き", line=2)
    assert parts_of_speech(entry, pos) == (("助詞", "係助詞"), ("助詞", "格助詞"))
    unaligned = KeyItem(1, 1, "は", "が", "猫は好き", "別の【が】文", line=2)
    assert parts_of_speech(unaligned, pos) == (("助詞", "係助詞"), ("接続詞", "*"))


def test_demo_annotators_cycle_the_two_rules_over_more_columns(tmp_path):
    labels = annotated(tmp_path, ("x", "y", "z"))
    assert labels["z"] == labels["x"] != labels["y"]


def test_demo_annotations_are_readable_by_the_report(tmp_path):
    annotated(tmp_path)
    paths = write_acceptability_report(tmp_path / "key.tsv", [tmp_path / "filled" / "sheet.csv"],
                                       report_files(tmp_path / "out"))
    summary = json.loads(paths["summary"].read_text("utf-8"))
    assert summary["annotators"] == ["a1", "a2"] and summary["items"] == len(DEMO_ITEMS)
    assert summary["label_distribution"]["a1"]["acceptable"] == 4
