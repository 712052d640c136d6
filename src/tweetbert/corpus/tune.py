"""Calibration of near-dedup settings, as the reference study did it: over a grid of n-gram sizes and Jaccard
thresholds, how many template posts (target) are flagged versus how many distinct tweets (control).

A good setting flags nearly all of the target and almost none of the control.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tweetbert.corpus.dedup import DedupParams, DedupResult, cluster_shard, compute_signatures


def flag_rate(result: DedupResult) -> float:
    """Share of texts that belong to a cluster of two or more (i.e. would be flagged or have a flagged twin)."""
    if not len(result.cluster_id):
        return float("nan")
    sizes = np.bincount(result.cluster_id, minlength=len(result.cluster_id))
    return float((sizes[result.cluster_id] > 1).mean())


def flag_rate_grid(target: Sequence[str], control: Sequence[str], ngram_sizes: Sequence[int],
                   thresholds: Sequence[float], *, num_perm: int = 128, seed: int = 0,
                   workers: int | None = None) -> pd.DataFrame:
    """One row per (ngram, threshold): the LSH banding used and the target and control flag rates.

    Signatures are computed once per corpus and n-gram size (MeCab runs once per pair, not per threshold).
    """
    rows = []
    for ngram in ngram_sizes:
        signing = DedupParams(ngram=ngram, num_perm=num_perm, seed=seed)
        shards = {name: compute_signatures(texts, signing, workers=workers, progress=False)
                  for name, texts in (("target", target), ("control", control))}
        for threshold in thresholds:
            params = DedupParams(ngram=ngram, threshold=threshold, num_perm=num_perm, seed=seed)
            rows.append({
                "ngram": ngram,
                "threshold": threshold,
                "bands": params.lsh.bands,
                "rows": params.lsh.rows,
                "target_flag_rate": flag_rate(cluster_shard(shards["target"], params)),
                "control_flag_rate": flag_rate(cluster_shard(shards["control"], params)),
            })
    return pd.DataFrame(rows)
