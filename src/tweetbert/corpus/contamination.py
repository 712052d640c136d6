"""Benchmark contamination: which task texts (every split) also sit in the pre-training corpus.

A Twitter model pre-trained on tweets that a benchmark later scores it on has seen those test items; its SNS
scores would be inflated against controls that never saw them. Task texts are normalised as the corpus was, then
matched by the dedup stage's own measure: the exact normalised-text hash, and MinHash-LSH near duplicates verified
at ``dedup.threshold``. The corpus side reuses the signature shards the dedup stage wrote, read a block of rows at
a time; only the task texts (small) get signatures here, with :func:`~tweetbert.corpus.dedup.compute_signatures`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from tweetbert.corpus.dedup import DedupParams, compute_signatures
from tweetbert.corpus.minhash import band_keys
from tweetbert.corpus.normalize import NormalizeOptions, normalize_texts
from tweetbert.corpus.settings import ContaminationSettings
from tweetbert.corpus.signatures import SignatureShard, load_shards
from tweetbert.errors import InputError

TEXT_FIELDS = ("text", "text_pair", "question", "context")
"""What a model reads of an example. Answer choices are left out: single words would 'match' one-word tweets."""
BLOCK_ROWS = 65_536  # corpus rows per read of the signature shards: 32 MB of 128-value signatures
MATCH_COLUMNS = ("task", "split", "items", "exact", "near", "any", "share_%", "tweets")
EXAMPLE_COLUMNS = ("task", "split", "example", "match", "jaccard", "task_text", "tweet_row", "tweet_id", "tweet_text")


@dataclass
class TaskTexts:
    """Every text field of every example of the tasks, normalised, with the example it belongs to."""

    task: list[str]
    split: list[str]
    example: list[int]
    text: list[str]
    items: dict[tuple[str, str], int]  # examples per (task, split), in task then split order

    @classmethod
    def from_examples(cls, splits: Mapping[str, Mapping[str, Sequence[Mapping]]],
                      options: NormalizeOptions | None = None) -> TaskTexts:
        """``splits``: task -> split -> examples (as :class:`~tweetbert.tasks.types.TaskData` holds them)."""
        task, split, example, raw, items = [], [], [], [], {}
        for name, by_split in splits.items():
            for split_name, examples in by_split.items():
                items[(name, split_name)] = len(examples)
                for index, record in enumerate(examples):
                    for field in TEXT_FIELDS:
                        value = record.get(field)
                        if isinstance(value, str) and value.strip():
                            task.append(name)
                            split.append(split_name)
                            example.append(index)
                            raw.append(value)
        return cls(task, split, example, normalize_texts(raw, options or NormalizeOptions()), items)


def _lookup(sorted_keys: np.ndarray, owners: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (query position, owner) whose key equals the query's: all owners of a shared key, not only one."""
    lo = np.searchsorted(sorted_keys, keys, side="left")
    counts = np.searchsorted(sorted_keys, keys, side="right") - lo
    total = int(counts.sum())
    query = np.repeat(np.arange(len(keys), dtype=np.int64), counts)
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return query, owners[np.repeat(lo, counts) + within]


def _sorted_index(keys: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    return keys[order], owners[order]


def _shard_dirs(shard_dirs: Sequence[Path]) -> list[tuple[int, Path]]:
    metas = [(json.loads((Path(d) / "shard.json").read_text())["row_start"], Path(d)) for d in shard_dirs]
    return sorted(metas)


def match_corpus(texts: SignatureShard, shard_dirs: Sequence[Path], params: DedupParams) -> pd.DataFrame:
    """Matched (row, text, match, jaccard) pairs of corpus rows and task texts: ``exact`` where the normalised texts
    are equal, ``near`` where they share an LSH bucket and (with ``dedup.verify``) reach the threshold.

    Memory: the task texts' signatures, the corpus's shingle counts and one block of signature rows.
    """
    lsh = params.lsh
    shards = load_shards(shard_dirs, text_hash=False)
    if shards.signatures.width != texts.signature.shape[1]:
        raise InputError(shard_dirs[0], f"signatures have {shards.signatures.width} values per row, the task texts "
                                        f"{texts.signature.shape[1]}: dedup.num_perm changed, re-run dedup_signatures")
    owners = np.arange(len(texts.text_hash), dtype=np.int64)
    hash_index = _sorted_index(texts.text_hash, owners)
    shingled = owners[texts.n_shingles > 0]  # texts without shingles share the all-EMPTY signature: never near
    bands = [_sorted_index(band_keys(texts.signature[shingled], lsh, b), shingled) for b in range(lsh.bands)]
    parts = []
    for row_start, directory in _shard_dirs(shard_dirs):
        text_hash = np.load(directory / "text_hash.npy", allow_pickle=False)
        row, text = _lookup(*hash_index, text_hash)
        parts.append(pd.DataFrame({"row": row + row_start, "text": text, "match": "exact", "jaccard": 1.0}))
        for start in range(row_start, row_start + len(text_hash), BLOCK_ROWS):
            rows = np.arange(start, min(start + BLOCK_ROWS, row_start + len(text_hash)), dtype=np.int64)
            block = shards.signatures.columns(slice(0, shards.signatures.width), rows)
            valid = np.flatnonzero(shards.n_shingles[rows] > 0)
            shingled_block = block[valid]
            pair_keys = [np.empty(0, np.int64)]
            for b, (keys, band_owners) in enumerate(bands):
                query, owner = _lookup(keys, band_owners, band_keys(shingled_block, lsh, b))
                pair_keys.append(valid[query] * len(owners) + owner)
            local, text = np.divmod(np.unique(np.concatenate(pair_keys)), max(len(owners), 1))
            jaccard = (np.count_nonzero(block[local] == texts.signature[text], axis=1) / block.shape[1]
                       if len(local) else np.empty(0))
            keep = (jaccard >= params.threshold) if params.verify else np.ones(len(local), dtype=bool)
            keep &= text_hash[rows[local] - row_start] != texts.text_hash[text]  # equal texts are exact matches
            parts.append(pd.DataFrame({"row": rows[local][keep], "text": text[keep], "match": "near",
                                       "jaccard": jaccard[keep]}))
    pairs = pd.concat(parts, ignore_index=True)
    return pairs.sort_values(["text", "row"], kind="stable").reset_index(drop=True)


def summarize(texts: TaskTexts, pairs: pd.DataFrame) -> pd.DataFrame:
    """Per task and split: examples, those with an exact match, those with only near matches, and the tweets."""
    meta = pd.DataFrame({"task": texts.task, "split": texts.split, "example": texts.example})
    matched = meta.iloc[pairs["text"].to_numpy()].reset_index(drop=True).assign(
        match=pairs["match"].to_numpy(), row=pairs["row"].to_numpy())
    rows = []
    for (task, split), items in texts.items.items():
        here = matched[(matched["task"] == task) & (matched["split"] == split)]
        exact = set(here.loc[here["match"] == "exact", "example"])
        near = set(here.loc[here["match"] == "near", "example"]) - exact
        hit = len(exact) + len(near)
        rows.append((task, split, items, len(exact), len(near), hit, round(100.0 * hit / items, 3) if items else 0.0,
                     here["row"].nunique()))
    return pd.DataFrame(rows, columns=list(MATCH_COLUMNS))


def _tweets_at(corpus: Path, rows: np.ndarray) -> pd.DataFrame:
    """``id`` and ``text`` of a few corpus rows, reading only the row groups that hold them."""
    parquet = pq.ParquetFile(corpus)
    out, first = [], 0
    for group in range(parquet.metadata.num_row_groups):
        size = parquet.metadata.row_group(group).num_rows
        wanted = rows[(rows >= first) & (rows < first + size)]
        if len(wanted):
            table = parquet.read_row_group(group, columns=["id", "text"]).take(wanted - first)
            out.append(pd.DataFrame({"tweet_row": wanted, "tweet_id": table.column("id").to_pylist(),
                                     "tweet_text": table.column("text").to_pylist()}))
        first += size
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=["tweet_row", "tweet_id", "tweet_text"])


def examples(texts: TaskTexts, pairs: pd.DataFrame, corpus: Path, per_split: int) -> pd.DataFrame:
    """The ``per_split`` closest matched examples of each task and split (exact copies first), each with its closest
    tweet."""
    if pairs.empty or per_split <= 0:
        return pd.DataFrame(columns=list(EXAMPLE_COLUMNS))
    frame = pairs.assign(task=np.asarray(texts.task, dtype=object)[pairs["text"]],
                         split=np.asarray(texts.split, dtype=object)[pairs["text"]],
                         example=np.asarray(texts.example)[pairs["text"]],
                         task_text=np.asarray(texts.text, dtype=object)[pairs["text"]],
                         exact_first=pairs["match"] != "exact", closest=-pairs["jaccard"])
    frame = frame.sort_values(["task", "split", "example", "exact_first", "closest", "row"], kind="stable")
    frame = frame.drop_duplicates(["task", "split", "example"])
    frame = frame.sort_values(["task", "split", "exact_first", "closest", "example"], kind="stable")
    frame = frame.groupby(["task", "split"], sort=False).head(per_split)
    tweets = _tweets_at(corpus, np.sort(frame["row"].unique()))
    shown = frame.rename(columns={"row": "tweet_row"}).merge(tweets, on="tweet_row", how="left")
    order = {key: position for position, key in enumerate(texts.items)}
    shown = shown.assign(position=[order[(t, s)] for t, s in zip(shown["task"], shown["split"])])
    shown = shown.sort_values(["position", "example"], kind="stable")
    return shown[list(EXAMPLE_COLUMNS)].assign(jaccard=shown["jaccard"].round(4)).reset_index(drop=True)


def check_corpus_rows(corpus: Path, shard_dirs: Sequence[Path]) -> None:
    """The shards must cover the corpus whose texts the examples quote, row for row."""
    covered = sum(json.loads((Path(d) / "shard.json").read_text())["rows"] for d in shard_dirs)
    rows = pq.ParquetFile(corpus).metadata.num_rows
    if covered != rows:
        raise InputError(corpus, f"holds {rows} rows but the signature shards cover {covered}: the shards are stale, "
                                 "re-run dedup_signatures")


def find_contamination(texts: TaskTexts, corpus: Path, shard_dirs: Sequence[Path], params: DedupParams,
                       per_split: int, *, workers: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """(matches per task and split, examples, sorted matched corpus rows) of the task texts against the corpus."""
    check_corpus_rows(corpus, shard_dirs)
    signed = compute_signatures(texts.text, params, workers=workers, progress=False)
    pairs = match_corpus(signed, shard_dirs, params)
    rows = np.unique(pairs["row"].to_numpy(dtype=np.int64))
    return summarize(texts, pairs), examples(texts, pairs, corpus, per_split), rows


def write_contamination(texts: TaskTexts, corpus: Path, shard_dirs: Sequence[Path], params: DedupParams,
                        settings: ContaminationSettings, paths: Mapping[str, Path], *, workers: int = 1) -> dict:
    """Writes ``matches`` (TSV), ``matched_examples`` (TSV) and ``rows`` (.npy of matched corpus rows); returns
    totals."""
    matches, shown, rows = find_contamination(texts, corpus, shard_dirs, params, settings.examples, workers=workers)
    for key in ("matches", "matched_examples", "rows"):
        Path(paths[key]).parent.mkdir(parents=True, exist_ok=True)
    matches.to_csv(paths["matches"], sep="\t", index=False, lineterminator="\n")
    shown.assign(task_text=_one_line(shown["task_text"]), tweet_text=_one_line(shown["tweet_text"])).to_csv(
        paths["matched_examples"], sep="\t", index=False, lineterminator="\n")
    np.save(paths["rows"], rows)
    return {"examples": int(matches["items"].sum()), "matched_examples": int(matches["any"].sum()),
            "matched_tweets": len(rows)}


def _one_line(values: Iterable) -> list[str]:
    """Newlines and tabs shown as ⏎ and spaces, so a tweet stays one TSV cell."""
    return [str(value).replace("\n", " ⏎ ").replace("\t", " ") for value in values]


def excluded_rows(path: Path | None) -> np.ndarray | None:
    """The matched corpus rows the contamination stage wrote, checked to be a sorted 1-d integer array."""
    if path is None:
        return None
    try:
        rows = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise InputError(path, f"not a readable .npy array of corpus rows ({error})") from None
    if rows.ndim != 1 or not np.issubdtype(rows.dtype, np.integer):
        raise InputError(path, f"expected a 1-d integer array of corpus rows, found {rows.dtype} of shape {rows.shape}")
    return rows.astype(np.int64)
