"""Calibration sets for ``tune_dedup`` cut from the demo's ground truth.

Real users pick template posts and distinct tweets by hand; the demo knows which tweets are planted
near-duplicates, so it takes members of large planted clusters as the target and singletons as the control.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def calibration_sets(tweets: pd.DataFrame, truth: pd.DataFrame, size: int, seed: int,
                     min_cluster: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(target, control): up to ``size`` tweets each, in corpus order, chosen with a seeded generator."""
    cluster = tweets["id"].map(truth.set_index("id")["cluster"])
    cluster_size = cluster.map(cluster.value_counts())
    rng = np.random.default_rng(seed)

    def sample(mask: pd.Series) -> pd.DataFrame:
        positions = np.flatnonzero(mask.to_numpy())
        chosen = np.sort(rng.choice(positions, size=min(size, len(positions)), replace=False))
        return tweets.iloc[chosen].reset_index(drop=True)

    return sample(cluster_size >= min_cluster), sample(cluster_size == 1)
