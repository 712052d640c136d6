"""Which examples train, stop, compare and finally test a fine-tuned model.

Target shares are those of the reference study (DATASETS.md): train 65, validation 5, dev 15, test 15.
Published splits keep their role and only the missing roles are carved out of the published train split:

- WRIME ``Train/Dev/Test``: train → train, dev → dev, test → test; validation carved from train (5/70).
- JGLUE (and JSQuAD): ``train-v1.3`` → train, ``valid-v1.3`` → dev, ``test-v1.3`` → test; validation carved
  from train (5/70). Where the test file is missing or unlabelled (the public release), ``valid`` plays test and
  dev and validation are carved from train (15/85 and 5/85).
- Generic tables with a split column: ``train``, ``validation`` (also ``valid``/``val``), ``dev`` (also
  ``development``), ``test``, with the same rules; without a split column the table is split 65/5/15/15.

Carving is seeded, stratified (classes; label sets for multi-label; quantile bins for regression) and independent
of hash randomisation, so splits are byte-stable. It never puts one text on both sides: QA keeps the questions of
one context together, and sentence pairs (JNLI, JSTS, a table's ``target``) keep the pairs of one first sentence
together (JGLUE builds several hypotheses per premise; carving pair by pair put 67 of 430 carved JNLI development
pairs next to their premise in train).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from tweetbert.errors import InputError
from tweetbert.tasks.types import SPLITS, Example, ProblemType, TaskData

TASK_RATIOS = {"train": 65, "validation": 5, "dev": 15, "test": 15}
_MAX_REGRESSION_BINS = 10
_EXAMPLES_PER_BIN = 20
_STRATA = {
    ProblemType.SINGLE_LABEL: "stratified by label",
    ProblemType.MULTI_LABEL: "stratified by label set",
    ProblemType.REGRESSION: "stratified by quantile bin",
    ProblemType.MULTIPLE_CHOICE: "stratified by answer position",
    ProblemType.EXTRACTIVE_QA: "questions grouped by context",
}


def _quantile_bins(values: np.ndarray) -> np.ndarray:
    n_bins = int(np.clip(len(values) // _EXAMPLES_PER_BIN, 1, _MAX_REGRESSION_BINS))
    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    return np.searchsorted(edges, values, side="right")


def _grouped(examples: Sequence[Example], key: str) -> list[list[int]]:
    """Examples sharing ``example[key]``, in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for i, example in enumerate(examples):
        groups.setdefault(example[key], []).append(i)
    return list(groups.values())


def _units(examples: Sequence[Example], problem_type: ProblemType) -> tuple[list[list[int]], list[str]]:
    """Indivisible groups of examples and the stratum of each (that of the group's first example): QA questions on
    one context, and the pairs of one first sentence, must not straddle splits."""
    if problem_type is ProblemType.EXTRACTIVE_QA:
        units = _grouped(examples, "context")
        return units, [""] * len(units)
    paired = bool(examples) and all("text_pair" in example for example in examples)
    units = _grouped(examples, "text") if paired else [[i] for i in range(len(examples))]
    first = [examples[unit[0]] for unit in units]
    if problem_type is ProblemType.REGRESSION:
        bins = _quantile_bins(np.array([example["label"] for example in first], dtype=float))
        return units, [f"{b:02d}" for b in bins.tolist()]
    if problem_type is ProblemType.MULTI_LABEL:
        return units, ["".join("1" if v else "0" for v in example["labels"]) for example in first]
    return units, [str(example["label"]) for example in first]


def _pattern(n: int, weights: np.ndarray) -> np.ndarray:
    """Split index per position: a divisor-method sequence, so every run of positions is near-proportional.

    Split j's m-th position has priority (m + 0.5) / weight_j; taking positions in priority order keeps the count of
    every split within about one of its share over any stretch, which is what makes contiguous strata stratified.
    """
    share = weights / weights.sum()
    split = np.repeat(np.arange(len(share)), n)
    rank = np.tile(np.arange(n), len(share))
    priority = (rank + 0.5) / share[split]
    return split[np.lexsort((split, priority))[:n]]


def stratified_assignment(examples: Sequence[Example], problem_type: ProblemType, ratios: Mapping[str, float],
                          seed: int) -> list[str]:
    """Split name per example: units shuffled by the seed, grouped by stratum, then dealt out by ``_pattern``."""
    units, strata = _units(examples, problem_type)
    shuffled = np.random.default_rng(seed).permutation(len(units)).tolist()
    order = sorted(shuffled, key=lambda u: strata[u])
    names = list(ratios)
    dealt = _pattern(len(units), np.array([ratios[name] for name in names], dtype=float))
    assignment = [""] * len(examples)
    for unit, split in zip(order, dealt.tolist()):
        for i in units[unit]:
            assignment[i] = names[split]
    return assignment


def resolve_splits(published: Mapping[str, list[Example]], origins: Mapping[str, str], problem_type: ProblemType,
                   *, seed: int, path: str | Path) -> tuple[dict[str, list[Example]], dict[str, str]]:
    """The four roles from the labelled published splits (keyed by role), carving what is missing from train."""
    parts = {role: list(examples) for role, examples in published.items() if examples}
    sources = {role: origins[role] for role in parts}
    if "train" not in parts:
        raise InputError(path, "no labelled training examples")
    if "test" not in parts and "dev" in parts:
        parts["test"] = parts.pop("dev")
        sources["test"] = sources.pop("dev") + " (plays test: the published test split is missing or unlabelled)"
    missing = [role for role in SPLITS if role not in parts]
    if missing:
        ratios = {role: TASK_RATIOS[role] for role in ("train", *missing)}
        total = sum(ratios.values())
        train, train_source = parts["train"], sources["train"]
        assignment = stratified_assignment(train, problem_type, ratios, seed)
        for role, share in ratios.items():
            parts[role] = [example for example, split in zip(train, assignment) if split == role]
            sources[role] = f"{train_source}, {share}/{total} of it (seed {seed}, {_STRATA[problem_type]})"
    for role in SPLITS:
        if not parts[role]:
            raise InputError(path, f"too few examples: the {role} split would be empty")
    return {role: parts[role] for role in SPLITS}, {role: sources[role] for role in SPLITS}


def sample_splits(data: TaskData, max_examples: int, seed: int) -> TaskData:
    """At most ``max_examples`` examples per split (a seeded sample in file order), to fine-tune on a sample.

    Sampling follows the split, so no example changes role; the split's source says what was kept.
    """
    rng = np.random.default_rng(seed)
    splits, sources = {}, {}
    for role in SPLITS:
        examples = data.splits[role]
        splits[role], sources[role] = examples, data.sources[role]
        if len(examples) > max_examples:
            kept = np.sort(rng.choice(len(examples), size=max_examples, replace=False))
            splits[role] = [examples[i] for i in kept.tolist()]
            sources[role] += f"; {max_examples} of its {len(examples)} sampled (max_examples, seed {seed})"
    return TaskData(data.name, data.problem_type, splits, sources, data.label_names, data.metadata)
