"""Ingest reads every supported format into the corpus contract and never loses a row unreported."""

import json

import pandas as pd
import pytest

from tweetbert.corpus.ingest import read_tweets
from tweetbert.corpus.io import read_corpus, write_corpus
from tweetbert.errors import InputError

ROWS = [
    {"id": "1", "user_id": "u1", "created_at": "2021-01-01T00:00:00Z", "text": "今日は晴れ☀️"},
    {"id": "2", "user_id": "u2", "created_at": "2021-01-02T00:00:00Z", "text": "改行\nあり @someone"},
]


def write_jsonl(path, lines):
    path.write_bytes(b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines) + b"\n")
    return path


def test_jsonl_csv_and_parquet_read_to_the_same_corpus(tmp_path):
    jsonl = write_jsonl(tmp_path / "t.jsonl", [json.dumps(r, ensure_ascii=False) for r in ROWS])
    pd.DataFrame(ROWS).to_csv(tmp_path / "t.csv", index=False)
    pd.DataFrame(ROWS).to_parquet(tmp_path / "t.parquet")
    frames = [read_tweets(p)[0] for p in (jsonl, tmp_path / "t.csv", tmp_path / "t.parquet")]
    for frame in frames:
        assert list(frame.columns) == ["id", "user_id", "created_at", "text"]
        assert frame["text"].tolist() == [r["text"] for r in ROWS]


def test_a_tsv_corpus_is_raw_text_so_every_quote_survives(tmp_path):
    texts = ['"ありがとう"って言われた', '彼は"来ないと言った', '今日は晴れ☀️', '終わりに"']
    path = tmp_path / "t.tsv"
    path.write_text("id\tuser_id\ttext\n" + "".join(f"{i}\tu{i}\t{t}\n" for i, t in enumerate(texts)),
                    encoding="utf-8")
    frame, _ = read_tweets(path)
    assert frame["text"].tolist() == texts


def test_configurable_column_names_map_onto_the_contract(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"tweet_id": ["9"], "author": ["a"], "body": ["本文"]}).to_csv(path, index=False)
    frame, _ = read_tweets(path, columns={"id": "tweet_id", "user_id": "author", "text": "body"})
    assert frame.iloc[0].to_dict() == {"id": "9", "user_id": "a", "created_at": "", "text": "本文"}


@pytest.mark.parametrize(
    ("lines", "row", "column", "kind"),
    [
        ([json.dumps(ROWS[0]), '{"id": "2", "user_id": "u", "text": "x"'], 2, None, "malformed"),
        ([json.dumps(ROWS[0]), json.dumps({"id": "2", "text": "x"})], 2, "user_id", "missing_column"),
        ([json.dumps(ROWS[0]), json.dumps({"id": "2", "user_id": "u", "text": "  \u3000 "})], 2, "text", "empty_text"),
        ([json.dumps(ROWS[0]), b'{"id": "3", "user_id": "u", "text": "\xff\xfe bad"}'], 2, "text", "undecodable"),
        ([json.dumps(ROWS[0]), json.dumps(ROWS[0])], 2, "id", "duplicate_id"),
    ],
)
def test_bad_jsonl_rows_name_file_row_and_column_or_are_counted_when_skipping(tmp_path, lines, row, column, kind):
    path = write_jsonl(tmp_path / "bad.jsonl", lines)
    with pytest.raises(InputError) as raised:
        read_tweets(path)
    assert raised.value.path == str(path)
    assert raised.value.row == row
    assert raised.value.column == column
    assert str(path) in str(raised.value) and f"row {row}" in str(raised.value)
    frame, report = read_tweets(path, on_bad_row="skip")
    assert report.skipped == {kind: 1}
    assert report.rows_read == len(lines) and report.rows_kept == len(frame) == len(lines) - 1


def test_bad_csv_rows_are_located(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes("id,user_id,text\n1,u,ok\n2,u,too,many\n3,u,\xff\n".encode().replace(b"\xc3\xbf", b"\xff"))
    with pytest.raises(InputError, match=r"row 2.*more field"):
        read_tweets(path)
    frame, report = read_tweets(path, on_bad_row="skip")
    assert frame["id"].tolist() == ["1"]
    assert report.skipped == {"ragged": 1, "undecodable": 1}


def test_an_unterminated_json_string_is_located_by_character_in_plain_words(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", ['{"id": "1", "user_id": "u", "text": "open'])
    with pytest.raises(InputError) as raised:
        read_tweets(path)
    assert str(raised.value).endswith("row 1: malformed JSON: Unterminated string starting at character 37")


def _zero_row_parquet(path):
    pd.DataFrame({name: pd.Series([], dtype="string") for name in ("id", "user_id", "text")}).to_parquet(path)


@pytest.mark.parametrize(("name", "make", "on_bad_row", "problem"), [
    ("empty.jsonl", lambda p: p.write_bytes(b""), "error", "holds no rows of tweets"),
    ("blank.jsonl", lambda p: p.write_text("\n\n"), "error", "holds no rows of tweets"),
    ("header.csv", lambda p: p.write_text("id,user_id,text\n"), "error", "holds no rows of tweets"),
    ("zero.parquet", _zero_row_parquet, "error", "holds no rows of tweets"),
    ("skipped.jsonl", lambda p: p.write_text('{"id": "1", "text": "x"}\nnot json\n'), "skip",
     r"none of its 2 rows is usable \(skipped: 1 malformed, 1 missing_column\)"),
])
def test_an_input_without_a_usable_tweet_is_an_error_not_an_empty_corpus(tmp_path, name, make, on_bad_row, problem):
    path = tmp_path / name
    make(path)
    with pytest.raises(InputError, match=problem) as raised:
        read_tweets(path, on_bad_row=on_bad_row)
    assert raised.value.path == str(path)


@pytest.mark.parametrize(("name", "make", "problem"), [
    ("zero-bytes.parquet", lambda p: p.write_bytes(b""), "not a readable Parquet file"),
    ("truncated.parquet", lambda p: (pd.DataFrame(ROWS).to_parquet(p), p.write_bytes(p.read_bytes()[:100])),
     "not a readable Parquet file"),
    ("folder.jsonl", lambda p: p.mkdir(), r"is a directory, not a file of tweets \(raw.path\)"),
    ("missing.jsonl", lambda p: None, r"no such file \(raw.path\)"),
])
def test_an_unreadable_input_is_a_located_error(tmp_path, name, make, problem):
    path = tmp_path / name
    make(path)
    with pytest.raises(InputError, match=problem) as raised:
        read_tweets(path)
    assert raised.value.path == str(path)


def test_texts_longer_than_max_chars_are_kept_and_counted(tmp_path):
    rows = [ROWS[0], {**ROWS[1], "text": "あ" * 1_000_000}]
    path = write_jsonl(tmp_path / "t.jsonl", [json.dumps(r, ensure_ascii=False) for r in rows])
    frame, report = read_tweets(path)
    assert len(frame) == 2
    assert report.as_dict()["too_long"] == {"max_chars": 25_000, "rows": 1, "first_row": 2}
    assert read_tweets(path, max_chars=2_000_000)[1].too_long == 0


def test_unknown_extension_asks_for_an_explicit_format(tmp_path):
    path = tmp_path / "tweets.data"
    path.write_text("x")
    with pytest.raises(InputError, match="raw.format"):
        read_tweets(path)


def test_corpus_parquet_is_byte_identical_for_equal_frames(tmp_path):
    frame = pd.DataFrame(ROWS)
    write_corpus(frame, tmp_path / "a.parquet")
    write_corpus(frame.copy(), tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert read_corpus(tmp_path / "a.parquet")["text"].tolist() == frame["text"].tolist()


def test_reading_a_corpus_without_a_required_column_names_it(tmp_path):
    write_corpus(pd.DataFrame(ROWS), tmp_path / "c.parquet")
    with pytest.raises(InputError, match="is_duplicate"):
        read_corpus(tmp_path / "c.parquet", ["id", "is_duplicate"])
