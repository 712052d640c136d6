"""Downstream tasks: loaders read the published formats, splits play documented roles, metrics match hand sums."""

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from tweetbert.demo import write_tasks
from tweetbert.errors import ConfigError, InputError
from tweetbert.tasks import TASKS, ProblemType, compute_metrics, load_task
from tweetbert.tasks.loaders import EMOTIONS, WRIME_GROUPS
from tweetbert.tasks.metrics import (
    accuracy,
    best_over_answers,
    char_f1,
    exact_match,
    matthews_corrcoef,
    multilabel_f1,
    pearson,
    spearman,
    top1_accuracy,
)

# --- fixtures in the published formats ------------------------------------------------------------------------

def wrime_header(version: int) -> list[str]:
    columns = ["Sentence", "UserID", "Datetime", "Train/Dev/Test"]
    for group in WRIME_GROUPS:
        for emotion in EMOTIONS:
            misspelled = version == 1 and emotion == "Sadness" and group in ("Reader2_", "Reader3_")
            columns.append(group + ("Saddness" if misspelled else emotion))
        if version == 2:
            columns.append(group + "Sentiment")
    return columns


def write_wrime(path, rows, version=2):
    """rows: (sentence, split, intensities, sentiment); intensities is one 8-vector for every group or a dict."""
    lines = ["\t".join(wrime_header(version))]
    for i, (sentence, split, intensities, sentiment) in enumerate(rows):
        values = [sentence, str(i % 5), "2015/04/01 12:00", split]
        for group in WRIME_GROUPS:
            vector = intensities[group] if isinstance(intensities, dict) else intensities
            values += [str(v) for v in vector] + ([str(sentiment)] if version == 2 else [])
        lines.append("\t".join(values))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def wrime_rows(n_train=28, n_dev=3, n_test=3):
    rows = []
    for i in range(n_train + n_dev + n_test):
        split = "train" if i < n_train else "dev" if i < n_train + n_dev else "test"
        intensities = [0] * 8
        intensities[i % 8] = 1 + i % 3
        rows.append((f"文{i}です", split, intensities, (i % 5) - 2))
    return rows


def write_jsonl(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def jnli_records(n, first=0, labelled=True):
    labels = ("entailment", "contradiction", "neutral")
    records = []
    for i in range(first, first + n):
        record = {"sentence_pair_id": str(i), "yjcaptions_id": f"{i}-1-2", "sentence1": f"犬{i}が走る。",
                  "sentence2": f"動物{i}が動く。"}
        if labelled:
            record["label"] = labels[i % 3]
        records.append(record)
    return records


def squad_document(n_paragraphs, questions_per_paragraph=3, prefix="t"):
    data = []
    for p in range(n_paragraphs):
        context = f"施設{p} [SEP] 施設{p}は{1900 + p}年に山田太郎によって設立された。"
        answer = f"{1900 + p}年"
        qas = [{"id": f"{prefix}{p}q{k}", "question": f"施設{p}の設立は？{k}",
                "answers": [{"text": answer, "answer_start": context.index(answer)}], "is_impossible": False}
               for k in range(questions_per_paragraph)]
        data.append({"title": f"施設{p}", "paragraphs": [{"context": context, "qas": qas}]})
    return {"version": "v1.0", "data": data}


def write_json(path, document):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def table_frame(n=1000):
    rng = np.random.default_rng(0)
    labels = rng.choice(["pos", "neu", "neg"], size=n, p=[0.6, 0.3, 0.1])
    return pd.DataFrame({"text": [f"ツイート{i}" for i in range(n)], "label": labels})


def find(data, text):
    return next(e for examples in data.splits.values() for e in examples if e["text"] == text)


def dumps(data):
    return json.dumps({"splits": data.splits, "sources": data.sources, "labels": data.label_names},
                      ensure_ascii=False, sort_keys=True).encode()


# --- WRIME --------------------------------------------------------------------------------------------------------

def test_wrime_emotion_labels_are_intensities_of_the_chosen_group_at_or_above_the_threshold(tmp_path):
    rows = wrime_rows()
    readers = [0, 2, 1, 0, 0, 0, 3, 0]
    rows[0] = ("嬉しい", "train", {**{g: [3, 0, 0, 0, 0, 0, 0, 0] for g in WRIME_GROUPS}, "Avg. Readers_": readers}, 2)
    path = write_wrime(tmp_path / "wrime.tsv", rows)
    data = load_task("wrime_emotion", {"path": str(path)})
    example = find(data, "嬉しい")
    assert data.problem_type is ProblemType.MULTI_LABEL and data.label_names == list(EMOTIONS)
    assert example["labels"] == [0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert example["intensities"] == [float(v) for v in readers]
    strict = load_task("wrime_emotion", {"path": str(path), "threshold": 2})
    writer = load_task("wrime_emotion", {"path": str(path), "annotator": "Writer"})
    assert find(strict, "嬉しい")["labels"] == [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert find(writer, "嬉しい")["labels"] == [1.0] + [0.0] * 7


def test_wrime_ver1_saddness_spelling_is_read_as_sadness(tmp_path):
    rows = wrime_rows()
    rows[0] = ("悲しい", "train", [0, 3, 0, 0, 0, 0, 0, 0], 0)
    path = write_wrime(tmp_path / "wrime_ver1.tsv", rows, version=1)
    assert "Reader2_Saddness" in path.read_text(encoding="utf-8").splitlines()[0].split("\t")
    for group in ("Reader2_", "Reader3_", "Avg. Readers_"):
        data = load_task("wrime_emotion", {"path": str(path), "annotator": group})
        assert find(data, "悲しい")["labels"][EMOTIONS.index("Sadness")] == 1.0


def test_wrime_sentiment_is_regression_and_needs_the_ver2_column(tmp_path):
    data = load_task("wrime_sentiment", {"path": str(write_wrime(tmp_path / "v2.tsv", wrime_rows()))})
    assert data.problem_type is ProblemType.REGRESSION and data.num_labels == 1
    assert {e["label"] for s in data.splits.values() for e in s} == {-2.0, -1.0, 0.0, 1.0, 2.0}
    with pytest.raises(InputError) as error:
        load_task("wrime_sentiment", {"path": str(write_wrime(tmp_path / "v1.tsv", wrime_rows(), version=1))})
    assert error.value.row == 1 and error.value.column == "Avg. Readers_Sentiment"


def test_wrime_published_splits_keep_their_roles_and_validation_is_carved_from_train(tmp_path):
    data = load_task("wrime_emotion", {"path": str(write_wrime(tmp_path / "w.tsv", wrime_rows(n_train=70)))})
    sizes = {split: len(examples) for split, examples in data.splits.items()}
    assert sizes == {"train": 65, "validation": 5, "dev": 3, "test": 3}
    assert [e["text"] for e in data["dev"]] == ["文70です", "文71です", "文72です"]
    assert "65/70" in data.sources["train"] and "5/70" in data.sources["validation"]
    assert "Train/Dev/Test = test" in data.sources["test"]


@pytest.mark.parametrize("column, value, message", [
    ("Avg. Readers_Joy", "many", "not a number"),
    ("Avg. Readers_Anger", "4", "outside"),
    ("Train/Dev/Test", "valid", "is not one of"),
    ("Sentence", " ", "empty text"),
])
def test_a_bad_wrime_cell_is_reported_by_line_and_column(tmp_path, column, value, message):
    path = write_wrime(tmp_path / "w.tsv", wrime_rows())
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].split("\t")
    cells = lines[5].split("\t")
    cells[header.index(column)] = value
    lines[5] = "\t".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match=message) as error:
        load_task("wrime_emotion", {"path": str(path)})
    assert (error.value.row, error.value.column) == (6, column)


def test_a_wrime_row_with_a_missing_field_is_reported_by_line(tmp_path):
    path = write_wrime(tmp_path / "w.tsv", wrime_rows())
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[3] = lines[3].rsplit("\t", 1)[0]
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match="fields where the header has") as error:
        load_task("wrime_emotion", {"path": str(path)})
    assert error.value.row == 4


# --- JGLUE --------------------------------------------------------------------------------------------------------

def test_jglue_tasks_read_their_published_fields(tmp_path):
    def records(n, make):
        return [make(i) for i in range(n)]

    fixtures = {
        "jsts": lambda i: {"sentence_pair_id": str(i), "yjcaptions_id": "1-2-3", "sentence1": f"猫{i}",
                           "sentence2": f"ネコ{i}", "label": round((i % 11) / 2, 1)},
        "jnli": lambda i: jnli_records(1, first=i)[0],
        "marc_ja": lambda i: {"sentence": f"良い商品{i}", "label": ("positive", "negative")[i % 2],
                              "review_id": f"R{i}"},
        "jcola": lambda i: {"uid": i, "source": "X", "sentence": f"文{i}", "label": i % 2},
        "jcommonsenseqa": lambda i: {"q_id": i, "question": f"問{i}", **{f"choice{k}": f"選{i}-{k}" for k in range(5)},
                                     "label": i % 5},
    }
    for name, make in fixtures.items():
        folder = tmp_path / name
        for split, n in (("train", 140), ("valid", 20), ("test", 20)):
            write_jsonl(folder / f"{split}-v1.3.json", records(n, make))
        data = load_task(name, {"path": str(folder)})
        assert {s: len(e) for s, e in data.splits.items()} == {"train": 130, "validation": 10, "dev": 20, "test": 20}
        assert data.sources["dev"] == "valid-v1.3.json" and data.sources["test"] == "test-v1.3.json"
        first = data["dev"][0]
        if name == "jsts":
            assert first == {"text": "猫0", "text_pair": "ネコ0", "label": 0.0}
        elif name == "jnli":
            assert data.label_names == ["entailment", "contradiction", "neutral"] and first["label"] == 0
        elif name == "marc_ja":
            assert data.label_names == ["positive", "negative"] and first == {"text": "良い商品0", "label": 0}
        elif name == "jcola":
            assert data.label_names == ["unacceptable", "acceptable"] and data["dev"][1]["label"] == 1
        else:
            assert first == {"text": "問0", "choices": [f"選0-{k}" for k in range(5)], "label": 0}


@pytest.mark.parametrize("test_file", ["unlabelled", "missing"])
def test_jglue_without_a_labelled_test_evaluates_on_valid_and_carves_dev_from_train(tmp_path, test_file):
    write_jsonl(tmp_path / "train-v1.3.json", jnli_records(170))
    write_jsonl(tmp_path / "valid-v1.3.json", jnli_records(30, first=1000))
    if test_file == "unlabelled":
        write_jsonl(tmp_path / "test-v1.3.json", jnli_records(30, first=2000, labelled=False))
    data = load_task("jnli", {"path": str(tmp_path)})
    assert {s: len(e) for s, e in data.splits.items()} == {"train": 130, "validation": 10, "dev": 30, "test": 30}
    assert data["test"][0]["text"] == "犬1000が走る。"
    assert data.sources["test"].startswith("valid-v1.3.json (plays test")
    assert "15/85" in data.sources["dev"] and "5/85" in data.sources["validation"]
    carved = {e["text"] for s in ("train", "validation", "dev") for e in data[s]}
    assert carved == {r["sentence1"] for r in jnli_records(170)}
    for split in ("train", "dev"):
        counts = Counter(e["label"] for e in data[split])
        assert max(counts.values()) - min(counts.values()) <= 2, (split, counts)


@pytest.mark.parametrize("line, field, message", [
    ('{"sentence1": "a", "sentence2": "b", "label": "entailment"', None, "invalid JSON"),
    ('{"sentence1": "a", "sentence2": "b", "label": "maybe"}', "label", "'maybe' is not one of"),
    ('{"sentence1": "a", "label": "neutral"}', "sentence2", "missing value"),
    ('{"sentence1": 3, "sentence2": "b", "label": "neutral"}', "sentence1", "expected text"),
    ('["a", "b"]', None, "expected a JSON object"),
])
def test_a_bad_jsonl_record_is_reported_by_line_and_field(tmp_path, line, field, message):
    path = write_jsonl(tmp_path / "train-v1.3.json", jnli_records(5))
    path.write_text(path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=message) as error:
        load_task("jnli", {"path": str(tmp_path)})
    assert (error.value.row, error.value.column, error.value.path) == (6, field, str(path))


def test_a_non_numeric_or_out_of_range_similarity_is_an_input_error(tmp_path):
    record = {"sentence1": "a", "sentence2": "b"}
    for label, message in (("abc", "not a number"), (5.5, "outside"), (True, "not a number")):
        write_jsonl(tmp_path / "train-v1.3.json", [{**record, "label": 1.0}, {**record, "label": label}])
        with pytest.raises(InputError, match=message) as error:
            load_task("jsts", {"path": str(tmp_path)})
        assert (error.value.row, error.value.column) == (2, "label")


def test_a_split_with_labels_on_some_records_only_is_an_input_error(tmp_path):
    write_jsonl(tmp_path / "train-v1.3.json", jnli_records(40))
    write_jsonl(tmp_path / "test-v1.3.json", jnli_records(2) + jnli_records(1, first=5, labelled=False))
    with pytest.raises(InputError, match="no label while earlier records have one") as error:
        load_task("jnli", {"path": str(tmp_path)})
    assert error.value.row == 3 and error.value.path.endswith("test-v1.3.json")


# --- JSQuAD -------------------------------------------------------------------------------------------------------

def test_jsquad_reads_squad_form_and_keeps_the_questions_of_one_context_in_one_split(tmp_path):
    write_json(tmp_path / "train-v1.3.json", squad_document(40))
    write_json(tmp_path / "valid-v1.3.json", squad_document(5, prefix="v"))
    data = load_task("jsquad", {"path": str(tmp_path)})
    assert data.problem_type is ProblemType.EXTRACTIVE_QA and data.num_labels is None
    assert len(data["test"]) == 15 and data["test"][0]["id"] == "v0q0"
    question = data["test"][0]
    assert question["answers"] == {"text": ["1900年"], "answer_start": [question["context"].index("1900年")]}
    contexts = {split: {e["context"] for e in data[split]} for split in ("train", "validation", "dev")}
    assert not (contexts["train"] & contexts["dev"] or contexts["train"] & contexts["validation"]
                or contexts["dev"] & contexts["validation"])
    assert sum(len(c) for c in contexts.values()) == 40 and all(len(c) for c in contexts.values())


def test_a_jsquad_answer_start_that_misses_the_answer_text_names_the_question(tmp_path):
    document = squad_document(3)
    document["data"][1]["paragraphs"][0]["qas"][2]["answers"][0]["answer_start"] += 1
    write_json(tmp_path / "train-v1.3.json", document)
    with pytest.raises(InputError, match=r"data\[1\]\.paragraphs\[0\]\.qas\[2\]\.answers\[0\].*not the answer") as error:
        load_task("jsquad", {"path": str(tmp_path)})
    assert (error.value.row, error.value.column) == (6, "answer_start")


def test_invalid_jsquad_json_is_reported_by_line(tmp_path):
    (tmp_path / "train-v1.3.json").write_text('{"data": [\n{"title": "x",\n}]}', encoding="utf-8")
    with pytest.raises(InputError, match="invalid JSON") as error:
        load_task("jsquad", {"path": str(tmp_path)})
    assert error.value.row == 3


QUOTED = ['"ありがとう"って言われた', '彼は"来ないと言った', '""', "'単引用'も", '終わりに"']


def test_wrime_text_with_paired_and_unpaired_quotes_is_read_character_for_character(tmp_path):
    rows = wrime_rows()
    for i, sentence in enumerate(QUOTED):
        rows[i] = (sentence, *rows[i][1:])
    data = load_task("wrime_emotion", {"path": str(write_wrime(tmp_path / "w.tsv", rows))})
    texts = [e["text"] for examples in data.splits.values() for e in examples]
    assert len(texts) == len(rows) and set(QUOTED) <= set(texts)


def test_a_wrime_file_without_the_split_column_is_split_65_5_15_15_and_says_so(tmp_path):
    path = write_wrime(tmp_path / "w.tsv", wrime_rows(n_train=100, n_dev=0, n_test=0))
    lines = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
    column = lines[0].index("Train/Dev/Test")
    path.write_text("".join("\t".join(v[:column] + v[column + 1:]) + "\n" for v in lines), encoding="utf-8")
    data = load_task("wrime_sentiment", {"path": str(path)})
    assert {split: len(examples) for split, examples in data.splits.items()} == {
        "train": 65, "validation": 5, "dev": 15, "test": 15}
    assert all("no Train/Dev/Test column" in source for source in data.sources.values())


def test_wrime_per_split_files_keep_their_roles(tmp_path):
    rows = wrime_rows(n_train=70)
    files = {"train": rows[:70], "dev": rows[70:73], "test": rows[73:]}
    paths = {split: str(write_wrime(tmp_path / f"{split}.tsv", part)) for split, part in files.items()}
    data = load_task("wrime_emotion", {"path": paths})
    assert [e["text"] for e in data["dev"]] == ["文70です", "文71です", "文72です"]
    assert len(data["train"]) == 65 and len(data["validation"]) == 5 and len(data["test"]) == 3
    assert "test.tsv (the test file)" in data.sources["test"]
    with pytest.raises(ConfigError, match=r"tasks\.wrime_emotion\.path"):
        load_task("wrime_emotion", {"path": {"dev": paths["dev"]}})


@pytest.mark.parametrize("task, name", [("wrime_emotion", "w.tsv"), ("jts1k", "t.csv"), ("jts1k", "t.tsv"),
                                        ("jts1k", "t.jsonl"), ("jnli", "jnli/train-v1.3.json")])
def test_an_empty_task_file_is_an_input_error_naming_it(tmp_path, task, name):
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="empty file") as error:
        load_task(task, {"path": str(path.parent if task == "jnli" else path)})
    assert error.value.path == str(path)


def test_max_examples_samples_each_split_with_the_seed_and_says_so(tmp_path):
    path = tmp_path / "t.csv"
    table_frame(400).to_csv(path, index=False)
    full = load_task("jts1k", {"path": str(path)})
    data = load_task("jts1k", {"path": str(path), "max_examples": 30})
    assert {split: len(examples) for split, examples in data.splits.items()} == {
        "train": 30, "validation": 20, "dev": 30, "test": 30}
    for split in data.splits:
        assert all(example in full[split] for example in data[split])
    assert "30 of its 260 sampled" in data.sources["train"] and "sampled" not in data.sources["validation"]
    assert dumps(data) == dumps(load_task("jts1k", {"path": str(path), "max_examples": 30}))
    assert data["train"] != load_task("jts1k", {"path": str(path), "max_examples": 30, "seed": 1})["train"]
    with pytest.raises(ConfigError, match=r"tasks\.jts1k\.max_examples"):
        load_task("jts1k", {"path": str(path), "max_examples": 0})


# --- generic tables -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["csv", "tsv", "jsonl", "parquet"])
def test_every_table_format_gives_the_same_task(tmp_path, suffix):
    frame = table_frame(200)
    frame.loc[:4, "text"] = QUOTED
    frame.to_csv(tmp_path / "t.csv", index=False)
    path = tmp_path / f"t.{suffix}"
    if suffix == "tsv":  # raw, as hydrated tweets come: a quote is a character
        path.write_text("".join(f"{text}\t{label}\n" for text, label in [("text", "label"), *frame.values]),
                        encoding="utf-8")
    elif suffix == "jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    elif suffix == "parquet":
        frame.to_parquet(path)
    reference = load_task("jts1k", {"path": str(tmp_path / "t.csv")})
    data = load_task("jts1k", {"path": str(path)})
    assert data.splits == reference.splits and data.label_names == ["neg", "neu", "pos"]
    assert set(QUOTED) <= {e["text"] for examples in data.splits.values() for e in examples}


def test_generic_tables_split_65_5_15_15_stratified_and_seeded(tmp_path):
    path = tmp_path / "jtdd.csv"
    table_frame(1000).to_csv(path, index=False)
    data = load_task("jtdd", {"path": str(path), "seed": 7})
    sizes = {split: len(examples) for split, examples in data.splits.items()}
    assert sizes == {"train": 650, "validation": 50, "dev": 150, "test": 150}
    overall = Counter(e["label"] for s in data.splits.values() for e in s)
    for split, examples in data.splits.items():
        counts = Counter(e["label"] for e in examples)
        for label, total in overall.items():
            assert abs(counts[label] - total * len(examples) / 1000) <= 2, (split, label)
    again = load_task("jtdd", {"path": str(path), "seed": 7})
    assert dumps(again) == dumps(data)
    other = load_task("jtdd", {"path": str(path), "seed": 8})
    assert other["test"] != data["test"]
    assert data.sources["test"] == "jtdd.csv (no split column), 15/100 of it (seed 7, stratified by label)"


def test_a_split_column_is_honoured_and_missing_roles_are_carved_from_train(tmp_path):
    frame = table_frame(190)
    frame["split"] = ["test"] * 20 + ["dev"] * 30 + ["train"] * 140
    frame["target"] = "ブランド"
    path = tmp_path / "jtbr.tsv"
    frame.to_csv(path, sep="\t", index=False)
    data = load_task("jtbr", {"path": str(path)})
    assert {s: len(e) for s, e in data.splits.items()} == {"train": 130, "validation": 10, "dev": 30, "test": 20}
    assert [e["text"] for e in data["test"]] == [f"ツイート{i}" for i in range(20)]
    assert data["test"][0]["text_pair"] == "ブランド"
    assert data.sources["dev"] == "jtbr.tsv, rows with split = dev"
    ignored = load_task("jtbr", {"path": str(path), "split_column": None})
    assert "15/100" in ignored.sources["test"]


def test_regression_splits_are_stratified_by_quantile_bins(tmp_path):
    scores = np.round(np.random.default_rng(1).gamma(2.0, 1.0, size=850).clip(0, 5), 1)
    records = [{"sentence1": f"a{i}", "sentence2": f"b{i}", "label": float(s)} for i, s in enumerate(scores)]
    write_jsonl(tmp_path / "train-v1.3.json", records)
    write_jsonl(tmp_path / "valid-v1.3.json", records[:50])
    data = load_task("jsts", {"path": str(tmp_path)})
    overall = np.quantile(scores, [0.25, 0.5, 0.75])
    dev = np.quantile([e["label"] for e in data["dev"]], [0.25, 0.5, 0.75])
    assert np.abs(dev - overall).max() <= 0.2


@pytest.mark.parametrize("options, row, column, message", [
    ({"labels": ["pos", "neu"]}, None, "label", "'neg' is not one of"),
    ({"text_column": "body"}, 1, "body", "missing column"),
    ({"split_column": "fold"}, 1, "fold", "named by split_column"),
])
def test_bad_generic_tables_name_the_row_and_column(tmp_path, options, row, column, message):
    path = tmp_path / "t.csv"
    table_frame(30).to_csv(path, index=False)
    with pytest.raises(InputError, match=message) as error:
        load_task("jts1k", {"path": str(path), **options})
    first_neg = 2 + list(table_frame(30)["label"]).index("neg")
    assert (error.value.row, error.value.column) == (row or first_neg, column)


def test_an_empty_text_or_unknown_split_value_in_a_table_is_located(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text,label,split\nよい,1,train\n,0,train\n", encoding="utf-8")
    with pytest.raises(InputError, match="empty text") as error:
        load_task("defamation", {"path": str(path)})
    assert (error.value.row, error.value.column) == (3, "text")
    path.write_text("text,label,split\nよい,1,train\nわるい,0,holdout\n", encoding="utf-8")
    with pytest.raises(InputError, match="'holdout' is not one of") as error:
        load_task("defamation", {"path": str(path)})
    assert (error.value.row, error.value.column) == (3, "split")


def test_integer_labels_are_ordered_by_value_not_by_text(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"text": [f"t{i}" for i in range(60)], "label": [10, 2, -1] * 20}).to_csv(path, index=False)
    data = load_task("jtdd", {"path": str(path)})
    assert data.label_names == ["-1", "2", "10"] and data.num_labels == 3


def test_too_few_examples_to_fill_every_split_is_an_input_error(tmp_path):
    path = tmp_path / "t.csv"
    table_frame(8).to_csv(path, index=False)
    with pytest.raises(InputError, match="would be empty"):
        load_task("jts1k", {"path": str(path)})


# --- metrics ------------------------------------------------------------------------------------------------------

def test_accuracy_pearson_and_spearman_match_hand_computation():
    assert accuracy([0, 1, 2, 2], [0, 1, 1, 2]) == 0.75
    assert pearson([1, 2, 3], [1, 2, 4]) == pytest.approx(9 / np.sqrt(84))
    assert spearman([1, 2, 3], [1, 2, 4]) == pytest.approx(1.0)
    assert spearman([1, 1, 2], [1, 2, 3]) == pytest.approx(1.5 / np.sqrt(3))
    assert pearson([2, 2, 2], [1, 2, 3]) == 0.0


def test_mcc_matches_the_binary_formula_and_is_zero_for_a_constant_prediction():
    # tp 2, fn 1, tn 2, fp 1: (2*2 - 1*1) / sqrt(3*3*3*3)
    assert matthews_corrcoef([1, 1, 0, 0, 0, 1], [1, 1, 1, 0, 0, 0]) == pytest.approx(1 / 3)
    assert matthews_corrcoef([1, 0, 1, 0], [1, 0, 1, 0]) == pytest.approx(1.0)
    assert matthews_corrcoef([1, 1, 1, 1], [1, 0, 1, 0]) == 0.0


def test_macro_f1_weighs_a_rare_missed_label_more_than_micro_f1():
    gold = [[1, 0], [1, 0], [1, 0], [0, 1]]
    predicted = [[1, 0], [1, 0], [1, 0], [0, 0]]
    assert multilabel_f1(predicted, gold, "micro") == pytest.approx(6 / 7)  # tp 3, fp 0, fn 1
    assert multilabel_f1(predicted, gold, "macro") == pytest.approx(0.5)  # label F1s 1 and 0


def test_top1_accuracy_accepts_any_tied_strongest_emotion_and_breaks_score_ties_by_column_order():
    intensities = np.zeros((4, 8))
    intensities[0, [1, 2]] = 2  # Sadness and Anticipation tie
    intensities[1, 0] = 3  # Joy
    intensities[2, 7] = 1  # Trust
    scores = np.zeros((4, 8))
    scores[0, 2] = 5.0  # Anticipation: one of the tied strongest -> right
    # rows 1-3 score every emotion equally -> Joy (first column): right for row 1, wrong for row 2
    # row 3 has no gold emotion and is left out
    assert top1_accuracy(scores, intensities) == pytest.approx(2 / 3)


def whitespace_token_f1(prediction, answer):
    common = sum((Counter(prediction.split()) & Counter(answer.split())).values())
    return 2 * common / (len(prediction.split()) + len(answer.split())) if common else 0.0


def test_jsquad_f1_counts_characters_where_whitespace_tokens_see_nothing():
    assert whitespace_token_f1("東京大学", "東京大学医学部") == 0.0
    assert char_f1("東京大学", "東京大学医学部") == pytest.approx(8 / 11)  # P 4/4, R 4/7
    assert char_f1("東京 大学", "東京大学") == 1.0 and exact_match("東京 大学", "東京大学") == 1.0
    assert exact_match("１９２０年。", "1920年") == 1.0  # width and punctuation are normalised
    assert best_over_answers(char_f1, ["東京大学"], [["医学部", "東京大学医学部"]]) == pytest.approx(8 / 11)
    assert best_over_answers(exact_match, ["医学部", "京都"], [["医学部", "東京大学医学部"], ["大阪"]]) == 0.5


def test_macro_f1_averages_the_labels_that_occur_so_perfect_predictions_score_1():
    gold = np.array([[1, 0, 0], [0, 1, 0]])
    assert multilabel_f1(gold, gold, "macro") == 1.0  # the third label is in neither: it has no F1
    assert multilabel_f1(np.array([[1, 0, 1], [0, 1, 0]]), gold, "macro") == pytest.approx(2 / 3)  # predicted only
    assert multilabel_f1(np.zeros((2, 3)), np.zeros((2, 3)), "macro") == 1.0


def test_carving_keeps_every_pair_of_one_premise_in_one_split(tmp_path):
    records = [{**record, "sentence1": f"犬{i // 3}が走る。", "label": ("entailment", "contradiction", "neutral")[i % 3]}
               for i, record in enumerate(jnli_records(300))]  # three hypotheses per premise, as JGLUE builds them
    write_jsonl(tmp_path / "train-v1.3.json", records)
    write_jsonl(tmp_path / "valid-v1.3.json", jnli_records(30, first=1000))
    data = load_task("jnli", {"path": str(tmp_path)})
    premises = {role: {e["text"] for e in data[role]} for role in ("train", "validation", "dev")}
    assert not premises["train"] & premises["dev"] and not premises["train"] & premises["validation"]
    assert not premises["validation"] & premises["dev"] and sum(map(len, premises.values())) == 100


def test_compute_metrics_decodes_raw_outputs_per_problem_type():
    classification = [{"text": "a", "label": 1}, {"text": "b", "label": 0}]
    logits = np.array([[0.1, 0.9], [0.2, 0.1]])
    assert compute_metrics(["accuracy", "mcc"], logits, classification) == {"accuracy": 1.0, "mcc": 1.0}
    emotion = [{"text": "a", "labels": [1.0] + [0.0] * 7, "intensities": [2.0] + [0.0] * 7}]
    outputs = np.array([[1.5] + [-1.0] * 7])
    scores = compute_metrics(TASKS["wrime_emotion"].metrics, outputs, emotion)
    assert scores == {"top1_accuracy": 1.0, "micro_f1": 1.0, "macro_f1": 1.0}  # 7 labels absent: no F1 to average
    regression = [{"text": "a", "label": 1.0}, {"text": "b", "label": 3.0}, {"text": "c", "label": 2.0}]
    assert compute_metrics(["pearson"], np.array([[0.0], [2.0], [1.0]]), regression) == {"pearson": 1.0}
    qa = [{"answers": {"text": ["1900年"], "answer_start": [3]}}]
    assert compute_metrics(["exact_match", "f1"], ["1900"], qa) == {"exact_match": 0.0, "f1": pytest.approx(8 / 9)}


# --- registry ----------------------------------------------------------------------------------------------------

def test_every_task_has_a_head_matching_its_problem_type():
    heads = {ProblemType.SINGLE_LABEL: "AutoModelForSequenceClassification",
             ProblemType.MULTI_LABEL: "AutoModelForSequenceClassification",
             ProblemType.REGRESSION: "AutoModelForSequenceClassification",
             ProblemType.MULTIPLE_CHOICE: "AutoModelForMultipleChoice",
             ProblemType.EXTRACTIVE_QA: "AutoModelForQuestionAnswering"}
    assert sorted(TASKS) == sorted(["jts1k", "jtdd", "jtbr", "wrime_emotion", "wrime_sentiment", "marc_ja", "jsts",
                                    "jcola", "jnli", "jsquad", "jcommonsenseqa", "sentiment3", "defamation"])
    for spec in TASKS.values():
        assert spec.head == heads[spec.problem_type] and spec.main_metric in spec.metrics
    assert TASKS["wrime_emotion"].hf_problem_type == "multi_label_classification"
    assert TASKS["jsquad"].hf_problem_type is None


def test_unknown_or_missing_options_are_config_errors_named_by_key():
    with pytest.raises(ConfigError) as error:
        load_task("jnli", {"path": "x", "colour": "red"})
    assert error.value.key == "tasks.jnli.colour"
    with pytest.raises(ConfigError) as error:
        load_task("jnli", {})
    assert error.value.key == "tasks.jnli.path"
    with pytest.raises(ConfigError, match="unknown task"):
        load_task("glue", {"path": "x"})
    with pytest.raises(ConfigError) as error:
        load_task("wrime_emotion", {"path": "x", "annotator": "Reader9"})
    assert error.value.key == "tasks.wrime_emotion.annotator"


@pytest.fixture(scope="module")
def demo_tasks(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    write_tasks(out, seed=0)
    return out


@pytest.mark.parametrize("name, relative, problem_type", [
    ("wrime_emotion", "wrime.tsv", ProblemType.MULTI_LABEL),
    ("wrime_sentiment", "wrime.tsv", ProblemType.REGRESSION),
    ("jnli", "jglue/jnli", ProblemType.SINGLE_LABEL),
    ("jsts", "jglue/jsts", ProblemType.REGRESSION),
    ("jcommonsenseqa", "jglue/jcommonsenseqa", ProblemType.MULTIPLE_CHOICE),
    ("jsquad", "jglue/jsquad", ProblemType.EXTRACTIVE_QA),
    ("sentiment3", "sentiment3.csv", ProblemType.SINGLE_LABEL),
    ("defamation", "defamation.csv", ProblemType.SINGLE_LABEL),
])
def test_the_demo_task_files_load_through_the_registry(demo_tasks, name, relative, problem_type):
    data = load_task(name, {"path": str(demo_tasks / relative)})
    assert data.problem_type is problem_type and all(data.splits.values())
    if name == "jsquad":
        assert data.sources["test"].startswith("valid-v1.3.json") and len(data["test"]) == 150
    if name == "jnli":
        assert (len(data["dev"]), len(data["test"])) == (150, 150)
    if name == "sentiment3":
        assert data.label_names == ["negative", "neutral", "positive"] and len(data["test"]) == 225
    if name == "defamation":
        assert data.label_names == ["0", "1"] and {e["label"] for e in data["train"]} == {0, 1}


def test_published_ids_join_the_hydrated_texts_and_each_split_counts_what_was_found(tmp_path):
    ids = pd.DataFrame({"id": range(1000, 1200), "label": ["pos", "neg"] * 100,
                        "split": ["train"] * 120 + ["dev"] * 40 + ["test"] * 40})
    ids.to_csv(tmp_path / "jts1k_ids.csv", index=False)
    lost = set(range(1000, 1120, 5)) | set(range(1160, 1200, 2))  # 24 of 120 train, 20 of 40 test
    texts = pd.DataFrame({"id": [i for i in range(1000, 1200) if i not in lost],
                          "text": [f"ツイート{i}番" for i in range(1000, 1200) if i not in lost]})
    texts.to_parquet(tmp_path / "hydrated.parquet")
    data = load_task("jts1k", {"path": str(tmp_path / "jts1k_ids.csv"), "hydrated": str(tmp_path / "hydrated.parquet")})
    assert len(data["dev"]) == 40 and len(data["test"]) == 20
    assert len(data["train"]) + len(data["validation"]) == 96
    assert "96 of 120 published items hydrated (80.0 %)" in data.sources["train"]
    assert "20 of 40 published items hydrated (50.0 %)" in data.sources["test"]
    assert "40 of 40 published items hydrated (100.0 %)" in data.sources["dev"]
    assert {example["text"] for example in data["test"]} <= set(texts["text"])


def test_hydration_errors_name_the_file_row_and_column(tmp_path):
    pd.DataFrame({"id": [1, 2], "label": ["a", "b"]}).to_csv(tmp_path / "ids.csv", index=False)
    pd.DataFrame({"id": [1, 1], "text": ["x", "y"]}).to_csv(tmp_path / "twice.csv", index=False)
    pd.DataFrame({"id": [7], "text": ["x"]}).to_csv(tmp_path / "other.csv", index=False)
    pd.DataFrame({"tweet": [1], "text": ["x"]}).to_csv(tmp_path / "no_id.csv", index=False)
    with pytest.raises(InputError, match=r"twice.csv, row 3, column 'id': tweet id 1 appears twice"):
        load_task("jtdd", {"path": str(tmp_path / "ids.csv"), "hydrated": str(tmp_path / "twice.csv")})
    with pytest.raises(InputError, match=r"other.csv, column 'id': none of the 2 tweet ids"):
        load_task("jtdd", {"path": str(tmp_path / "ids.csv"), "hydrated": str(tmp_path / "other.csv")})
    with pytest.raises(InputError, match=r"no_id.csv, row 1, column 'id': missing column \(hydrated table\)"):
        load_task("jtdd", {"path": str(tmp_path / "ids.csv"), "hydrated": str(tmp_path / "no_id.csv")})
