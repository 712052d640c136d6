"""Leakage-safe splits: every member of a duplicate group lands in the same split, and a check proves it.

Groups are the dedup clusters, joined with exact-text matches and MinHash links found *within the corpus being
split* (removing duplicates changes which pairs share a bucket, so links the full-corpus pass never checked can
appear). The check recomputes exact and near-duplicate links from the written split column and counts the pairs
that cross splits; anything but zero fails the stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tweetbert.corpus.dedup import (
    DedupParams, ShardedRows, SignatureShard, component_links, exact_duplicate_links, near_duplicate_links,
)
from tweetbert.corpus.minhash import sorted_unique
from tweetbert.errors import ConfigError, InputError
from tweetbert.settings import mirrors, setting

DEFAULT_RATIOS = {"train": 0.75, "validation": 0.05, "dev": 0.10, "test": 0.10}


@mirrors("split")
@dataclass(frozen=True)
class SplitSettings:
    """Shares of the splits (in the order they are filled) and the seed of the group order."""

    ratios: dict[str, float] = setting(DEFAULT_RATIOS)
    seed: int = setting(0, key="seed")


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


@dataclass
class DuplicateIndex:
    """Exact-text hashes and MinHash signatures of a corpus's rows, for grouping and for the leakage check."""

    text_hash: np.ndarray
    n_shingles: np.ndarray
    signature: np.ndarray

    @classmethod
    def from_shards(cls, shards: list[SignatureShard], rows: np.ndarray) -> DuplicateIndex:
        """Selects ``rows`` (row numbers of the dedup-annotated corpus) from the dedup stage's signature shards."""
        text_hash = np.concatenate([s.text_hash for s in shards])
        n_shingles = np.concatenate([s.n_shingles for s in shards])
        return cls(text_hash[rows], n_shingles[rows], ShardedRows(shards)[rows])

    def near_links(self, params: DedupParams) -> tuple[np.ndarray, np.ndarray]:
        """Verified near-duplicate links between rows of this corpus, found as the dedup stage finds them."""
        lsh = params.lsh
        return near_duplicate_links(self.signature, self.n_shingles, lsh, range(lsh.bands),
                                    self.signature if params.verify else None, params.threshold)


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


def split_corpus(frame: pd.DataFrame, index: DuplicateIndex, params: DedupParams, ratios: Mapping[str, float],
                 seed: int) -> tuple[pd.DataFrame, dict]:
    """Adds the ``split`` column and returns the stats (sizes and leakage counts of the written column)."""
    ratios = check_ratios(ratios)
    exact, near = exact_duplicate_links(index.text_hash), index.near_links(params)
    group = duplicate_groups(frame["cluster_id"].to_numpy(), exact, near)
    out = frame.copy()
    out["split"] = pd.array(assign_splits(group, ratios, seed), dtype="string")
    split = out["split"].to_numpy(dtype=str)
    stats = {
        "rows": int(len(out)),
        "groups": int(len(sorted_unique(group))),
        "splits": {name: int((split == name).sum()) for name in ratios},
        "leakage": leakage(split, frame["cluster_id"].to_numpy(), index.text_hash, near),
    }
    return out, stats



def require_every_split(stats: dict, ratios: Mapping[str, float], corpus: str | Path) -> None:
    """Stops at a split with a positive share but no tweet (e.g. 200 copies of one tweet dedup to 1): left empty,
    it would fail stages later (no validation loss, no held-out texts) far from its cause."""
    empty = [name for name, share in ratios.items() if share > 0 and stats["splits"][name] == 0]
    if empty:
        raise InputError(corpus, f"{stats['rows']} tweet(s) left after dedup, in {stats['groups']} group(s) of "
                                 f"duplicates; {'/'.join(empty)} would be empty. Give more distinct tweets "
                                 f"(raw.path), or change split.ratios")
