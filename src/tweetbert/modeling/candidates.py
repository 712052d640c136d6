"""The pre-training candidate grid: the union of sub-grids' Cartesian products, each named by a readable slug.

Each sub-grid belongs to a phase, as in the reference study: ``exploration`` points (learning rate x weight decay,
then weight decay, then epochs) are pre-trained for their validation loss only; ``candidates`` points are also
fine-tuned, and the selection picks among them. A point both phases list is one run.

A slug such as ``dedup-lr1e-04-wd0.03-ep3-b1_0.9-b2_0.999-eps1e-08`` is part of the interface (users re-run a
candidate by it), so it depends only on the candidate's values, never on the grid's order. It is also exact: every
value is written with as many digits as it needs to read back as the same float (``lr1.5e-04``), so two candidates
never share a name and a name never stands for rounded settings; values the short forms (``.0e`` for learning rate
and epsilon, ``g`` for the others) already write exactly keep those names.

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

PHASES = ("exploration", "candidates")
GRID_PARAMETERS = ("corpus", "learning_rate", "weight_decay", "epochs", "beta1", "beta2", "epsilon")
_NUMBER = r"(?:\d+(?:\.\d+)?(?:e[+-]\d+)?|inf)"
_SLUG = re.compile(rf"(?P<corpus>.+)-lr(?P<lr>{_NUMBER})-wd(?P<wd>{_NUMBER})-ep(?P<ep>\d+)-b1_(?P<b1>{_NUMBER})"
                   rf"-b2_(?P<b2>{_NUMBER})-eps(?P<eps>{_NUMBER})")


def _scientific(value: float) -> str:
    """``1e-04`` / ``1.5e-04``: the fewest mantissa digits that read back as exactly ``value``."""
    for digits in range(17):
        text = f"{value:.{digits}e}"
        if float(text) == value:
            return text
    raise AssertionError(f"{value!r} has no exact scientific form")  # 17 significant digits always suffice


def _general(value: float) -> str:
    """``0.03`` as ``g`` writes it, or the shortest exact form where ``g``'s six digits would round."""
    text = f"{value:g}"
    return text if float(text) == value else repr(value)


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
        return (f"{self.corpus}-lr{_scientific(self.learning_rate)}-wd{_general(self.weight_decay)}-ep{self.epochs}"
                f"-b1_{_general(self.beta1)}-b2_{_general(self.beta2)}-eps{_scientific(self.epsilon)}")

    @classmethod
    def from_slug(cls, slug: str) -> Candidate:
        """The candidate a slug names (slugs are exact, so this is the candidate that made it)."""
        match = _SLUG.fullmatch(slug)
        if match is None:
            raise ValueError(f"{slug!r} is not a candidate slug like dedup-lr1e-04-wd0.03-ep3-b1_0.9-b2_0.999-eps1e-08")
        return cls(match["corpus"], float(match["lr"]), float(match["wd"]), int(match["ep"]), float(match["b1"]),
                   float(match["b2"]), float(match["eps"]))


def expand_grids(grids: Sequence[Mapping[str, Sequence]], defaults: Mapping[str, object],
                 corpora: Sequence[str], phase: str = "candidates") -> list[Candidate]:
    """Every point of the union of the sub-grids of ``phase`` (a grid's ``phase`` defaults to candidates), by slug.

    A candidate that two sub-grids share is trained once (that is the union). Two points of one sub-grid that give
    the same slug (a value listed twice, as ``1e-4`` and ``0.0001``) are a config error naming both, since the
    user meant two candidates and would silently get one.
    """
    found: dict[str, tuple[Candidate, int, str]] = {}
    for index, grid in enumerate(grids):
        if grid.get("phase", "candidates") not in PHASES:
            raise ConfigError(f"pretrain.grids.{index}.phase", f"must be one of {', '.join(PHASES)}")
        if grid.get("phase", "candidates") != phase:
            continue
        unknown = sorted(set(grid) - {*GRID_PARAMETERS, "phase"})
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
        for positions in itertools.product(*(range(len(axis)) for axis in axes)):
            values = [axis[position] for axis, position in zip(axes, positions)]
            candidate = Candidate(str(values[0]), float(values[1]), float(values[2]), int(values[3]),
                                  float(values[4]), float(values[5]), float(values[6]))
            point = ", ".join(f"{name}[{position}]={value!r}" for name, position, value, axis
                              in zip(GRID_PARAMETERS, positions, values, axes) if len(axis) > 1) or "its only point"
            earlier = found.get(candidate.slug)
            if earlier is not None and (earlier[1] == index or earlier[0] != candidate):
                raise ConfigError(f"pretrain.grids.{index}",
                                  f"grid point ({point}) and grid point ({earlier[2]}) of pretrain.grids.{earlier[1]} "
                                  f"both name candidate {candidate.slug}; list each value once")
            found.setdefault(candidate.slug, (candidate, index, point))
    return [found[slug][0] for slug in sorted(found)]


def expand_phases(grids: Sequence[Mapping[str, Sequence]], defaults: Mapping[str, object],
                  corpora: Sequence[str]) -> dict[str, list[Candidate]]:
    """Each phase's points (see :func:`expand_grids`); a phase no grid names has none."""
    return {phase: expand_grids(grids, defaults, corpora, phase) for phase in PHASES}


def _all_but_epochs(c: Candidate) -> tuple:
    return c.corpus, c.learning_rate, c.weight_decay, c.beta1, c.beta2, c.epsilon


def training_runs(candidates: Sequence[Candidate], epoch_checkpoints: bool) -> dict[str, tuple[Candidate, int]]:
    """Maps each candidate's slug to (the run that produces it, the epoch to take from that run)."""
    if not epoch_checkpoints:
        return {c.slug: (c, c.epochs) for c in candidates}
    longest: dict[tuple, Candidate] = {}
    for c in candidates:
        key = _all_but_epochs(c)
        if key not in longest or c.epochs > longest[key].epochs:
            longest[key] = c
    return {c.slug: (longest[_all_but_epochs(c)], c.epochs) for c in candidates}


def explored_runs(explored: Sequence[Candidate], candidate_runs: Mapping[str, tuple[Candidate, int]],
                  epoch_checkpoints: bool) -> dict[str, tuple[Candidate, int]]:
    """Maps each explored point's slug to (its run, the epoch to take), reusing the candidates' runs.

    The candidates' runs are planned from the candidates alone, so adding an exploration phase never changes a
    candidate's model. An explored point is taken from a candidate run that covers it (the same point or, with
    epoch checkpoints, a run of the same settings at least as long); only the others get runs of their own.
    """
    covering = {_all_but_epochs(run): run for run, _ in candidate_runs.values()} if epoch_checkpoints else {}
    shared: dict[str, tuple[Candidate, int]] = {}
    own = []
    for point in explored:
        run = covering.get(_all_but_epochs(point))
        if point.slug in candidate_runs:
            shared[point.slug] = candidate_runs[point.slug]
        elif run is not None and run.epochs >= point.epochs:
            shared[point.slug] = (run, point.epochs)
        else:
            own.append(point)
    return {**shared, **training_runs(own, epoch_checkpoints)}
