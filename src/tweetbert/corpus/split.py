"""Leakage-safe splits: every member of a duplicate group lands in the same split, and a check proves it.

Groups are the dedup clusters, joined with exact-text matches and MinHash links found *within the corpus being
split* (removing duplicates changes which pairs share a bucket, so links the full-corpus pass never checked can
appear). The check recomputes exact and near-duplicate links from the written split column and counts the pairs
that cross splits; anything but zero fails the stage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tweetbert.corpus.dedup import (
    DedupParams,
    band_groups,
    component_links,
    exact_duplicate_links,
    near_duplicate_links,
)
from tweetbert.corpus.io import CorpusWriter, corpus_batches, corpus_column
from tweetbert.corpus.minhash import LshParams, estimated_jaccard, sorted_unique
from tweetbert.corpus.settings import SplitSettings
from tweetbert.corpus.signatures import SignatureReader, load_shards
from tweetbert.errors import ConfigError, InputError

DEFAULT_RATIOS: dict[str, float] = SplitSettings().ratios  # the schema's split.ratios
BAND_PASSES = 4  # band groups read per pass over the signatures: 2 x 4 bytes x bands / 4 per tweet in memory
SPLIT_COLUMNS = ("id", "user_id", "created_at", "text", "cluster_id", "is_duplicate")


def check_ratios(ratios: Mapping[str, float], key: str = "split.ratios") -> dict[str, float]:
    """Validates split ratios (positive, summing to 1) and returns them in their given order."""
    if not ratios:
        raise ConfigError(key, "needs at least one split")
    for name, value in ratios.items():
        if value < 0:
            raise ConfigError(f"{key}.{name}", f"must not be negative, got {value}")
    total = sum(ratios.values())
    if abs(total - 1.0) > 1e-6:
        raise ConfigError(key, f"must sum to 1, got {total:g}")
    return dict(ratios)


class SelectedSignatures:
    """The signatures of some rows of the dedup-annotated corpus, read from its shards as the bands need them."""

    def __init__(self, reader: SignatureReader, rows: np.ndarray):
        self.reader, self.rows = reader, rows
        self._order = np.argsort(rows, kind="stable")

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key):
        if isinstance(key, tuple):  # [:, columns]: a band group's columns of every selected row
            out = np.empty((len(self.rows), len(range(*key[1].indices(self.reader.width)))), self.reader.dtype)
            out[self._order] = self.reader.columns(key[1], self.rows[self._order])
            return out
        return self.reader[self.rows[key]]


@dataclass
class DuplicateIndex:
    """Exact-text hashes and MinHash signatures of a corpus's rows, for grouping and for the leakage check.

    ``signature`` is an array, or :class:`SelectedSignatures` for a corpus on disk: bands are read a group at a
    time (``BAND_PASSES`` passes over the shards) and whole signatures only for the candidate pairs.
    """

    text_hash: np.ndarray
    n_shingles: np.ndarray
    signature: np.ndarray | SelectedSignatures

    @classmethod
    def from_shards(cls, shard_dirs: list[Path], rows: np.ndarray) -> DuplicateIndex:
        """Selects ``rows`` (row numbers of the dedup-annotated corpus) from the dedup stage's signature shards."""
        shards = load_shards(shard_dirs)
        return cls(shards.text_hash[rows], shards.n_shingles[rows], SelectedSignatures(shards.signatures, rows))

    def near_links(self, params: DedupParams) -> tuple[np.ndarray, np.ndarray]:
        """Verified near-duplicate links between rows of this corpus, found as the dedup stage finds them."""
        lsh, n = params.lsh, len(self.text_hash)
        pair_keys = [np.empty(0, np.int64)]
        for bands in band_groups(lsh.bands, BAND_PASSES):
            if len(bands):
                keys = self.signature[:, slice(bands.start * lsh.rows, bands.stop * lsh.rows)]
                member, target = near_duplicate_links(keys, self.n_shingles, LshParams(len(bands), lsh.rows),
                                                      range(len(bands)))
                pair_keys.append(member * n + target)
        member, target = np.divmod(sorted_unique(np.concatenate(pair_keys)), max(n, 1))
        if params.verify and len(member):
            keep = estimated_jaccard(self.signature, member, target) >= params.threshold
            member, target = member[keep], target[keep]
        return member, target


Links = tuple[np.ndarray, np.ndarray]


def duplicate_groups(cluster_id: np.ndarray, exact: Links, near: Links) -> np.ndarray:
    """Group number per row: dedup clusters joined by every exact or near-duplicate link inside the corpus."""
    n = len(cluster_id)
    _, cluster_rows = np.unique(cluster_id, return_inverse=True)
    first_of_cluster = np.full(cluster_rows.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first_of_cluster, cluster_rows, np.arange(n, dtype=np.int64))
    sources = np.concatenate([exact[0], near[0], np.arange(n, dtype=np.int64)])
    targets = np.concatenate([exact[1], near[1], first_of_cluster[cluster_rows]])
    members, roots = component_links(sources, targets, n)
    group = np.arange(n, dtype=np.int64)
    group[members] = roots
    return group


def assign_splits(group: np.ndarray, ratios: Mapping[str, float], seed: int) -> np.ndarray:
    """Split name per row: groups in seeded random order fill the splits up to their share of rows."""
    names = list(ratios)
    groups, sizes = np.unique(group, return_counts=True)
    order = np.random.default_rng(seed).permutation(len(groups))
    filled = np.cumsum(sizes[order]) - sizes[order] / 2.0
    bounds = np.cumsum([ratios[name] for name in names]) * len(group)
    which = np.minimum(np.searchsorted(bounds, filled, side="right"), len(names) - 1)
    split_of_group = np.empty(len(groups), dtype=object)
    split_of_group[order] = np.array(names, dtype=object)[which]
    return split_of_group[np.searchsorted(groups, group)]


def _pairs_across(keys: np.ndarray, split_codes: np.ndarray) -> int:
    """Pairs of rows with equal key but different split, counted without enumerating them."""
    frame = pd.DataFrame({"key": keys, "split": split_codes})
    per_key = frame.groupby("key").size()
    per_key_split = frame.groupby(["key", "split"]).size()
    return int((per_key * (per_key - 1) // 2).sum() - (per_key_split * (per_key_split - 1) // 2).sum())


def leakage(split: np.ndarray, cluster_id: np.ndarray, text_hash: np.ndarray, near: Links) -> dict[str, int]:
    """Pairs crossing splits — of one dedup cluster, of identical text, and of linked near duplicates (all must be 0)."""
    _, codes = np.unique(split.astype(str), return_inverse=True)
    return {
        "cluster_pairs_across_splits": _pairs_across(cluster_id, codes),
        "exact_duplicate_pairs_across_splits": _pairs_across(text_hash, codes),
        "near_duplicate_pairs_across_splits": int((codes[near[0]] != codes[near[1]]).sum()),
    }


def split_rows(cluster_id: np.ndarray, index: DuplicateIndex, params: DedupParams, ratios: Mapping[str, float],
               seed: int) -> tuple[np.ndarray, dict]:
    """Split name per row and the stats (sizes and leakage counts of the assigned splits)."""
    ratios = check_ratios(ratios)
    exact, near = exact_duplicate_links(index.text_hash), index.near_links(params)
    group = duplicate_groups(cluster_id, exact, near)
    split = assign_splits(group, ratios, seed).astype(str)
    stats = {
        "rows": len(split),
        "groups": len(sorted_unique(group)),
        "splits": {name: int((split == name).sum()) for name in ratios},
        "leakage": leakage(split, cluster_id, index.text_hash, near),
    }
    return split, stats


def split_corpus(frame: pd.DataFrame, index: DuplicateIndex, params: DedupParams, ratios: Mapping[str, float],
                 seed: int) -> tuple[pd.DataFrame, dict]:
    """An in-memory corpus with the ``split`` column added, and the stats."""
    split, stats = split_rows(frame["cluster_id"].to_numpy(), index, params, ratios, seed)
    out = frame.copy()
    out["split"] = pd.array(split, dtype="string")
    return out, stats


def _id_hashes(ids: pa.ChunkedArray) -> np.ndarray:
    """64-bit hashes of ids, a chunk at a time (Python strings exist for one chunk only)."""
    parts = [pd.util.hash_array(chunk.to_numpy(zero_copy_only=False), categorize=False) for chunk in ids.chunks]
    return np.concatenate(parts) if parts else np.empty(0, np.uint64)


def annotated_rows(corpus: Path, ids: pa.ChunkedArray, positions: np.ndarray, annotated: Path) -> np.ndarray:
    """Row numbers in the dedup-annotated corpus of ``ids`` (rows ``positions`` of ``corpus``), found by hashes
    and checked string by string; an id not there is an input error at its row."""
    known = corpus_column(annotated, "id")
    known_hash = _id_hashes(known)
    order = np.argsort(known_hash, kind="stable")
    at = np.minimum(np.searchsorted(known_hash[order], _id_hashes(ids)), max(len(order) - 1, 0))
    rows = order[at] if len(order) else np.zeros(len(ids), np.int64)
    found = np.zeros(len(ids), dtype=bool)
    if len(order):
        found = pc.equal(known.take(pa.array(rows)), ids).to_numpy(zero_copy_only=False)
    if not found.all():
        missing = int(np.argmin(found))
        raise InputError(corpus, f"id {ids[missing].as_py()!r} is not in {annotated}", row=int(positions[missing]) + 1,
                         column="id")
    return rows.astype(np.int64)


def split_corpus_file(corpus: Path, annotated: Path, shard_dirs: list[Path], output: Path, params: DedupParams,
                      ratios: Mapping[str, float], seed: int, check: Callable[[dict], None] | None = None,
                      exclude_rows: np.ndarray | None = None) -> dict:
    """Splits the non-duplicate rows of ``corpus``, streaming the text through to ``output``; returns the stats.

    ``exclude_rows`` (rows of the dedup-annotated corpus: the tweets that match a benchmark's texts) are dropped
    before splitting and counted in the stats. ``check(stats)`` runs before anything is written: a failed check
    leaves no output behind.
    """
    keep = ~corpus_column(corpus, "is_duplicate").to_numpy(zero_copy_only=False)
    positions = np.flatnonzero(keep)
    ids = corpus_column(corpus, "id").filter(pa.array(keep))
    rows = annotated_rows(corpus, ids, positions, annotated)
    del ids
    removed = 0
    if exclude_rows is not None:
        matched = np.isin(rows, exclude_rows)
        removed = int(matched.sum())
        keep[positions[matched]] = False
        positions, rows = positions[~matched], rows[~matched]
    cluster_id = corpus_column(corpus, "cluster_id").to_numpy()[positions]
    split, stats = split_rows(cluster_id, DuplicateIndex.from_shards(shard_dirs, rows), params, ratios, seed)
    if exclude_rows is not None:
        stats["benchmark_tweets_removed"] = removed
    if check is not None:
        check(stats)
    with CorpusWriter(output, [*SPLIT_COLUMNS, "split"]) as writer:
        start = done = 0
        for batch in corpus_batches(corpus, SPLIT_COLUMNS):
            kept = batch.filter(pa.array(keep[start:start + batch.num_rows]))
            writer.write(kept.append_column("split", pa.array(split[done:done + kept.num_rows], pa.large_string())))
            start, done = start + batch.num_rows, done + kept.num_rows
    return stats


def require_every_split(stats: dict, ratios: Mapping[str, float], corpus: str | Path) -> None:
    """Stops at a split with a positive share but no tweet (e.g. 200 copies of one tweet dedup to 1): left empty,
    it would fail stages later (no validation loss, no held-out texts) far from its cause."""
    empty = [name for name, share in ratios.items() if share > 0 and stats["splits"][name] == 0]
    if empty:
        raise InputError(corpus, f"{stats['rows']} tweet(s) left after dedup, in {stats['groups']} group(s) of "
                                 f"duplicates; {'/'.join(empty)} would be empty. Give more distinct tweets "
                                 f"(raw.path), or change split.ratios")
