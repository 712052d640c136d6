"""Benchmark contamination: planted task texts are found (recall), nothing else is (precision), and split drops them.

The demo plants ``PLANTED`` task texts in its raw corpus (half verbatim, half retweet-like edits: a link appended,
an ``RT @user:`` prefix, ``www`` at the end); the check runs on the dedup stage's own signature shards.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tweetbert.corpus.contamination import (
    MATCH_COLUMNS,
    ContaminationSettings,
    TaskTexts,
    excluded_rows,
    find_contamination,
    write_contamination,
)
from tweetbert.corpus.dedup import DedupParams, write_signature_shard
from tweetbert.corpus.io import read_corpus, write_corpus
from tweetbert.corpus.normalize import normalize_texts
from tweetbert.corpus.split import split_corpus_file
from tweetbert.demo import write_demo_data
from tweetbert.errors import InputError
from tweetbert.tasks.registry import load_task
from tweetbert.tasks.types import SPLITS

N_TWEETS = 3000
PLANTED = 40
TASK_FILES = {"sentiment3": "sentiment3.csv", "defamation": "defamation.csv", "jtbr": "jtbr.csv",
              "wrime_emotion": "wrime.tsv", "wrime_sentiment": "wrime.tsv", "marc_ja": "jglue/marc_ja",
              "jsts": "jglue/jsts", "jnli": "jglue/jnli", "jsquad": "jglue/jsquad"}
PARAMS = DedupParams()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo with planted texts, normalised and signed in two shards as the workflow does."""
    out = tmp_path_factory.mktemp("contamination")
    write_demo_data(out, seed=0, n_tweets=N_TWEETS, planted_task_texts=PLANTED)
    raw = pd.read_json(out / "tweets.jsonl", lines=True, dtype=False)
    corpus = raw.assign(text=normalize_texts(raw["text"].tolist()))
    write_corpus(corpus[["id", "user_id", "created_at", "text"]], out / "normalized.parquet")
    shards = [out / f"shard-{k}" for k in range(2)]
    for k, directory in enumerate(shards):
        write_signature_shard(out / "normalized.parquet", directory, PARAMS, shards=2, shard=k, workers=1)
    import tweetbert.demo.task_specs  # noqa: F401  (registers the demo's tasks)

    splits = {}
    for name, file in TASK_FILES.items():
        data = load_task(name, {"path": str(out / "tasks" / file)})
        splits[name] = {split: data[split] for split in SPLITS}
    planted = pd.read_csv(out / "planted_task_texts.tsv", sep="\t", keep_default_na=False)
    return {"out": out, "raw": raw, "corpus": out / "normalized.parquet", "shards": shards,
            "texts": TaskTexts.from_examples(splits), "planted": planted}


@pytest.fixture(scope="module")
def found(demo: dict) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    return find_contamination(demo["texts"], demo["corpus"], demo["shards"], PARAMS, 5)


def test_the_demo_plants_half_verbatim_half_edited_task_texts(demo: dict) -> None:
    planted = demo["planted"]
    assert len(planted) == PLANTED and planted["task_text"].is_unique
    assert (planted["kind"] == "exact").sum() == PLANTED // 2
    exact = planted[planted["kind"] == "exact"]
    assert (exact["task_text"] == exact["planted_text"]).all()
    assert (planted.loc[planted["kind"] == "near", "task_text"] != planted.loc[planted["kind"] == "near", "planted_text"]).all()
    assert len(demo["raw"]) == N_TWEETS and demo["raw"]["text"].isin(set(planted["planted_text"])).sum() == PLANTED


def test_every_planted_text_is_found_and_no_other_tweet(demo: dict, found) -> None:
    _, _, rows = found
    planted_rows = np.flatnonzero(demo["raw"]["text"].isin(set(demo["planted"]["planted_text"])))
    assert len(planted_rows) == PLANTED
    assert set(planted_rows) <= set(rows.tolist()), "recall: a planted task text was missed"
    assert set(rows.tolist()) <= set(planted_rows), "precision: a tweet that copies no task text was flagged"


def test_verbatim_copies_are_exact_matches_and_edits_near_ones(demo: dict, found) -> None:
    matches, shown, _ = found
    assert list(matches.columns) == list(MATCH_COLUMNS)
    assert matches["exact"].sum() >= PLANTED // 2  # WRIME's texts count once per WRIME task
    assert (matches["any"] == matches["exact"] + matches["near"]).all()
    assert (matches["any"] <= matches["items"]).all()
    corpus = read_corpus(demo["corpus"], ["text"])["text"]
    for _, row in shown.iterrows():
        assert corpus.iat[row["tweet_row"]] == row["tweet_text"]
        if row["match"] == "exact":
            assert row["task_text"] == row["tweet_text"] and row["jaccard"] == 1.0
        else:
            assert row["jaccard"] >= PARAMS.threshold
    edited = demo["planted"][demo["planted"]["kind"] == "near"]
    by_text = shown.set_index("task_text")
    near_shown = [text for text in normalize_texts(edited["task_text"].tolist()) if text in by_text.index]
    assert near_shown, "the examples show none of the edited copies"
    assert all(by_text.loc[[text], "match"].eq("near").all() for text in near_shown)


def test_benchmarks_without_planted_texts_have_no_match(found) -> None:
    matches, _, _ = found
    jglue = matches[matches["task"].isin(["marc_ja", "jsts", "jnli", "jsquad"])]
    assert (jglue["any"] == 0).all() and (jglue["tweets"] == 0).all()


def test_outputs_are_byte_identical_on_a_rerun(demo: dict, tmp_path: Path) -> None:
    def run(where: Path) -> dict[str, bytes]:
        paths = {"matches": where / "matches.tsv", "matched_examples": where / "examples.tsv",
                 "rows": where / "rows.npy"}
        totals = write_contamination(demo["texts"], demo["corpus"], demo["shards"], PARAMS, ContaminationSettings(),
                                     paths)
        assert totals["matched_tweets"] == PLANTED
        return {name: path.read_bytes() for name, path in paths.items()}

    assert run(tmp_path / "a") == run(tmp_path / "b")


def test_split_drops_the_matched_tweets_and_counts_them(demo: dict, found, tmp_path: Path) -> None:
    _, _, rows = found
    corpus = read_corpus(demo["corpus"])
    annotated = corpus.assign(cluster_id=np.arange(len(corpus), dtype=np.int64), is_duplicate=False)
    write_corpus(annotated, tmp_path / "annotated.parquet")
    stats = split_corpus_file(tmp_path / "annotated.parquet", tmp_path / "annotated.parquet", demo["shards"],
                              tmp_path / "split.parquet", PARAMS, {"train": 0.8, "test": 0.2}, 0, exclude_rows=rows)
    kept = read_corpus(tmp_path / "split.parquet")
    assert stats["benchmark_tweets_removed"] == PLANTED == len(corpus) - len(kept)
    assert not set(kept["id"]) & set(corpus["id"].iloc[rows])
    assert stats["rows"] == len(kept) and sum(stats["splits"].values()) == len(kept)


def test_stale_shards_and_bad_row_files_are_located_errors(demo: dict, tmp_path: Path) -> None:
    short = pd.DataFrame({"id": ["1"], "user_id": ["u"], "created_at": [""], "text": ["ひとつだけ"]})
    write_corpus(short, tmp_path / "short.parquet")
    with pytest.raises(InputError, match="short.parquet: holds 1 rows but the signature shards cover"):
        find_contamination(demo["texts"], tmp_path / "short.parquet", demo["shards"], PARAMS, 5)
    (tmp_path / "rows.npy").write_text("not an array")
    with pytest.raises(InputError, match="rows.npy: not a readable .npy array"):
        excluded_rows(tmp_path / "rows.npy")
    np.save(tmp_path / "floats.npy", np.zeros(2))
    with pytest.raises(InputError, match="expected a 1-d integer array"):
        excluded_rows(tmp_path / "floats.npy")
    assert excluded_rows(None) is None
    assert json.loads((demo["shards"][0] / "shard.json").read_text())["row_start"] == 0
