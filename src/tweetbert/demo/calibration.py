"""Calibration sets for ``tune_dedup`` cut from the demo's ground truth.

Real users pick template posts and distinct tweets by hand; the demo knows which tweets are planted
near-duplicates, so it takes members of large planted clusters as the target and singletons as the control.
The choice needs cluster sizes only, so it is made on integers and just the chosen lines of the corpus are copied:
the corpus may be far larger than memory.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd


def calibration_rows(cluster: np.ndarray, size: int, seed: int,
                     min_cluster: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(target, control): ascending corpus positions of up to ``size`` tweets each, chosen with a seeded generator.

    ``cluster`` holds each tweet's truth cluster (non-negative integers) in corpus order.
    """
    cluster_size = np.bincount(cluster)[cluster]
    rng = np.random.default_rng(seed)

    def sample(mask: np.ndarray) -> np.ndarray:
        positions = np.flatnonzero(mask)
        return np.sort(rng.choice(positions, size=min(size, len(positions)), replace=False))

    return sample(cluster_size >= min_cluster), sample(cluster_size == 1)


def write_calibration_sets(tweets: Path, truth: Path, target: Path, control: Path, size: int, seed: int) -> None:
    """Copies the chosen lines of ``tweets.jsonl`` unchanged (as parsing and re-encoding them would write them)
    into ``target`` and ``control``, in corpus order.

    ``truth`` is ``duplicate_clusters.tsv``, row for row with ``tweets``; one streaming pass reads the corpus.
    """
    cluster = pd.read_csv(truth, sep="\t", usecols=["cluster"], dtype={"cluster": np.int64})["cluster"].to_numpy()
    target_rows, control_rows = calibration_rows(cluster, size, seed)
    with open(tweets, "rb") as corpus, open(target, "wb") as target_out, open(control, "wb") as control_out:
        destination = dict.fromkeys(target_rows.tolist(), target_out)
        destination.update(dict.fromkeys(control_rows.tolist(), control_out))  # disjoint: sizes >= 5 and == 1
        for row, line in enumerate(itertools.islice(corpus, max(destination, default=-1) + 1)):
            if row in destination:
                destination[row].write(line)
