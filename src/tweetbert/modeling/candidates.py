"""The pre-training candidate grid: the union of sub-grids' Cartesian products, each named by a readable slug.

A slug such as ``dedup-lr1e-04-wd0.03-ep3-b1_0.9-b2_0.999-eps1e-08`` is part of the interface (users re-run a
candidate by it), so it depends only on the candidate's values, never on the grid's order.

With ``epoch_checkpoints`` one run per (corpus, lr, wd, betas, eps) trains for the largest epoch value and its
end-of-epoch checkpoints stand in for the smaller epoch values. Caveat: the learning-rate schedule of that run
decays to zero at its *last* epoch, so its epoch-k checkpoint saw a higher learning rate than a run planned for
k epochs would have; the reference study trained one run per epoch value.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tweetbert.errors import ConfigError

GRID_PARAMETERS = ("corpus", "learning_rate", "weight_decay", "epochs", "beta1", "beta2", "epsilon")
_SLUG = re.compile(r"(?P<corpus>.+)-lr(?P<lr>[^-]+-\d+)-wd(?P<wd>[^-]+)-ep(?P<ep>\d+)-b1_(?P<b1>[^-]+)"
                   r"-b2_(?P<b2>[^-]+)-eps(?P<eps>[^-]+-\d+)")


@dataclass(frozen=True, order=True)
class Candidate:
    corpus: str
    learning_rate: float
    weight_decay: float
    epochs: int
    beta1: float
    beta2: float
    epsilon: float

    @property
    def slug(self) -> str:
        return (f"{self.corpus}-lr{self.learning_rate:.0e}-wd{self.weight_decay:g}-ep{self.epochs}"
                f"-b1_{self.beta1:g}-b2_{self.beta2:g}-eps{self.epsilon:.0e}")

    @classmethod
    def from_slug(cls, slug: str) -> Candidate:
        """The candidate a slug names (values as the slug rounds them)."""
        match = _SLUG.fullmatch(slug)
        if match is None:
            raise ValueError(f"{slug!r} is not a candidate slug like dedup-lr1e-04-wd0.03-ep3-b1_0.9-b2_0.999-eps1e-08")
        return cls(match["corpus"], float(match["lr"]), float(match["wd"]), int(match["ep"]), float(match["b1"]),
                   float(match["b2"]), float(match["eps"]))


def expand_grids(grids: Sequence[Mapping[str, Sequence]], defaults: Mapping[str, object],
                 corpora: Sequence[str]) -> list[Candidate]:
    """Every candidate of the union of the sub-grids, sorted by slug, without duplicates."""
    found: dict[str, Candidate] = {}
    for index, grid in enumerate(grids):
        unknown = sorted(set(grid) - set(GRID_PARAMETERS))
        if unknown:
            raise ConfigError(f"pretrain.grids.{index}.{unknown[0]}",
                              f"not a grid parameter (one of {', '.join(GRID_PARAMETERS)})")
        axes = []
        for name in GRID_PARAMETERS:
            values = grid.get(name, [defaults[name]] if name in defaults else None)
            if values is None:
                raise ConfigError(f"pretrain.grids.{index}.{name}", "missing, and pretrain.fixed has no default")
            if not isinstance(values, (list, tuple)) or not values:
                raise ConfigError(f"pretrain.grids.{index}.{name}", "must be a non-empty list of values")
            if name == "corpus":
                for corpus in values:
                    if corpus not in corpora:
                        raise ConfigError(f"pretrain.grids.{index}.corpus",
                                          f"{corpus!r} is not one of the configured corpora {list(corpora)}")
            axes.append(values)
        for values in itertools.product(*axes):
            candidate = Candidate(str(values[0]), float(values[1]), float(values[2]), int(values[3]),
                                  float(values[4]), float(values[5]), float(values[6]))
            found[candidate.slug] = candidate
    return [found[slug] for slug in sorted(found)]


def training_runs(candidates: Sequence[Candidate], epoch_checkpoints: bool) -> dict[str, tuple[Candidate, int]]:
    """Maps each candidate's slug to (the run that produces it, the epoch to take from that run)."""
    if not epoch_checkpoints:
        return {c.slug: (c, c.epochs) for c in candidates}
    longest: dict[tuple, Candidate] = {}
    for c in candidates:
        key = (c.corpus, c.learning_rate, c.weight_decay, c.beta1, c.beta2, c.epsilon)
        if key not in longest or c.epochs > longest[key].epochs:
            longest[key] = c
    return {c.slug: (longest[(c.corpus, c.learning_rate, c.weight_decay, c.beta1, c.beta2, c.epsilon)], c.epochs)
            for c in candidates}
