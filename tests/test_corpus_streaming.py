"""Corpus stages stream: tiny batches and row groups give the same corpus as one batch, and ids are checked across
batches without a dict of every id."""

import json

import pyarrow.parquet as pq
import pytest

from tweetbert.corpus import io
from tweetbert.corpus.balance import balance_corpus
from tweetbert.corpus.dedup import DedupParams, merge_clusters, write_band_links, write_signature_shard
from tweetbert.corpus.ingest import ingest_tweets, read_tweets
from tweetbert.corpus.normalize import NormalizeOptions, normalize_corpus
from tweetbert.corpus.split import split_corpus_file
from tweetbert.demo import generate_tweets
from tweetbert.errors import InputError

RATIOS = {"train": 0.6, "validation": 0.1, "dev": 0.15, "test": 0.15}


def run_stages(raw, out, workers=1):
    """Every corpus stage from ingest to both splits, as the rules call them; returns each stage's stats."""
    params = DedupParams()
    stats = {"ingest": ingest_tweets(raw, out / "raw.parquet").as_dict(),
             "normalize": normalize_corpus(out / "raw.parquet", out / "normalized.parquet", NormalizeOptions(),
                                           workers=workers)}
    shards = [out / f"shard-{i}" for i in range(2)]
    for i, shard in enumerate(shards):
        write_signature_shard(out / "normalized.parquet", shard, params, shards=2, shard=i, workers=1)
    links = [out / f"group-{g}.npy" for g in range(3)]
    for g, link in enumerate(links):
        write_band_links(shards, link, params, groups=3, group=g)
    stats["dedup"] = merge_clusters(out / "normalized.parquet", shards, links, params, out / "annotated.parquet")
    stats["balance"] = balance_corpus(out / "annotated.parquet", out / "balanced.parquet", 3, seed=0)
    for corpus in ("annotated", "balanced"):
        stats[f"split-{corpus}"] = split_corpus_file(out / f"{corpus}.parquet", out / "annotated.parquet", shards,
                                                     out / f"{corpus}-split.parquet", params, RATIOS, seed=0)
    return stats


@pytest.fixture(scope="module")
def raw_tweets(tmp_path_factory):
    tweets, _ = generate_tweets(400, seed=5)
    path = tmp_path_factory.mktemp("raw") / "tweets.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in tweets.to_dict("records")),
                    encoding="utf-8")
    return path


def test_tiny_batches_and_row_groups_give_the_corpus_of_one_batch(raw_tweets, tmp_path, monkeypatch):
    whole = run_stages(raw_tweets, tmp_path / "whole")
    monkeypatch.setattr(io, "BATCH_ROWS", 7)
    streamed = run_stages(raw_tweets, tmp_path / "streamed", workers=2)
    assert streamed == whole
    for name in ("raw", "normalized", "annotated", "balanced", "annotated-split", "balanced-split"):
        small, big = (pq.ParquetFile(tmp_path / run / f"{name}.parquet") for run in ("streamed", "whole"))
        assert small.metadata.num_row_groups > big.metadata.num_row_groups == 1
        assert small.read().equals(big.read()), name
    assert whole["balance"]["kept"] < whole["balance"]["input_rows"]  # the cap did something


def test_a_repeated_id_is_found_across_batches_and_named_with_its_first_row(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "BATCH_ROWS", 3)
    rows = [{"id": str(i % 7), "user_id": "u", "text": f"text {i}"} for i in range(13)]  # 4th batch: repeats only
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(InputError, match=r"row 8, column 'id': id '0' already used on row 1"):
        read_tweets(path)
    frame, report = read_tweets(path, on_bad_row="skip")
    assert frame["text"].tolist() == [f"text {i}" for i in range(7)]
    assert report.skipped == {"duplicate_id": 6} and report.rows_kept == 7


def test_a_failed_stage_leaves_no_corpus_file_behind(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"id": "1", "user_id": "u", "text": "ok"}) + "\n" + "not json\n")
    with pytest.raises(InputError, match="row 2"):
        ingest_tweets(path, tmp_path / "raw.parquet")
    assert list(tmp_path.iterdir()) == [path]
