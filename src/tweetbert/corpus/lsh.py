"""LSH banding parameters and their calibration to a Jaccard threshold.

A module of its own, on numpy only, so that the dedup settings (:mod:`tweetbert.corpus.settings`) can offer their
banding without importing the signature code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class LshParams:
    """How signatures are banded: ``bands`` buckets per document, each keyed by ``rows`` hash values."""

    bands: int
    rows: int

    @property
    def num_hashes(self) -> int:
        return self.bands * self.rows

    def candidate_probability(self, jaccard: float) -> float:
        """Probability that two documents of this Jaccard similarity share at least one bucket."""
        return 1.0 - (1.0 - jaccard**self.rows) ** self.bands


def _midpoints(lo: float, hi: float, steps: int = 200) -> tuple[np.ndarray, float]:
    """Midpoint-rule nodes of [lo, hi] and their width."""
    width = (hi - lo) / steps
    return lo + (np.arange(steps) + 0.5) * width, width


@lru_cache(maxsize=64)
def optimal_lsh_params(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> LshParams:
    """The (bands, rows) with ``bands * rows <= num_perm`` minimising the weighted false-positive and
    false-negative areas under the S-curve around the Jaccard threshold (the usual LSH calibration).

    The S-curves of all candidates are evaluated as one array: a loop over them took a second per process.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), not {threshold}")
    candidates = [(bands, rows) for bands in range(1, num_perm + 1) for rows in range(1, num_perm // bands + 1)]
    bands, rows = (np.array(column, dtype=np.float64)[:, None] for column in zip(*candidates))
    below, below_width = _midpoints(0.0, threshold)
    above, above_width = _midpoints(threshold, 1.0)
    fp = (1.0 - (1.0 - below**rows) ** bands).sum(axis=1) * below_width
    fn = ((1.0 - above**rows) ** bands).sum(axis=1) * above_width
    errors = fp_weight * fp + fn_weight * fn
    best, best_error = None, math.inf
    for candidate, error in zip(candidates, errors.tolist()):
        if error < best_error - 1e-12:
            best, best_error = candidate, error
    assert best is not None
    return LshParams(*best)
