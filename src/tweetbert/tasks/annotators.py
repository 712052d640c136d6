"""Labels published one per annotator: one gold label per item by a configured rule, and the annotators' agreement.

Some tweet datasets publish every crowd worker's class instead of one gold label: the label cell holds a list, the
i-th entry the i-th annotator's label. A Parquet, JSON Lines or `datasets` list column is read as it is; a CSV/TSV
cell holds a JSON array (``[0, 1, 1]``, ``["pos", null, "neg"]``) or the labels separated by ``|`` (``0|1|1``).
A missing judgement is ``null`` in a list or an empty entry (``0||1``); every item has the same number of entries
(the annotator positions), so a shorter or longer list is an error, not a silently different panel.

``annotators: {aggregate, tie, positive}`` turns the judgements into the gold label:

- ``majority``: the most frequent label; ``tie`` settles equal counts: ``first`` (the tied label given first, in
  annotator order), ``lowest`` (the tied label first in the task's label order) or ``drop`` (the default: the item
  is left out and counted, as an item its annotators could not settle is no gold);
- ``mean``: numeric labels (an ordinal scale such as -2 … 2) averaged and rounded to the nearest label; a mean
  halfway between two labels is a tie (``first``: the one nearer the first annotator's label; ``lowest``: the
  lower one; ``drop``);
- ``any``: two labels; ``positive`` (default ``1`` where the labels are 0/1) wins if any annotator gives it, as
  for hate speech or defamation, where one annotator's flag is worth keeping.

Agreement is Krippendorff's alpha on the raw judgements (the `krippendorff` package), nominal for ``majority`` and
``any``, interval for ``mean``. Alpha, not Fleiss' kappa: it takes missing judgements as they are, where Fleiss'
kappa needs the same number of judgements for every item, and it has interval and ordinal forms for numeric scales.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tweetbert.errors import ConfigError
from tweetbert.tables import Fields, category_text

OPTION = "annotators"
AGGREGATES = ("majority", "mean", "any")
TIES = ("first", "lowest", "drop")
SEPARATOR = "|"
_KEYS = ("aggregate", "tie", "positive")


@dataclass(frozen=True)
class Aggregation:
    """The ``annotators`` option of a task, checked."""

    aggregate: str
    tie: str = "drop"
    positive: str | None = None

    @property
    def level(self) -> str:
        """Krippendorff's level of measurement of the judgements the rule treats them as."""
        return "interval" if self.aggregate == "mean" else "nominal"


def parse_option(key: str, value: Any) -> Aggregation | None:
    """The option under config key ``key`` (``tasks.<name>.annotators``); None: one label per item, as before."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(key, f"must be a mapping {{aggregate: {'|'.join(AGGREGATES)}, tie: ..., positive: ...}}, "
                               f"got {value!r}")
    for option in value:
        if option not in _KEYS:
            raise ConfigError(f"{key}.{option}", f"unknown key (known: {list(_KEYS)})")
    aggregate, tie, positive = value.get("aggregate"), value.get("tie"), value.get("positive")
    if aggregate not in AGGREGATES:
        raise ConfigError(f"{key}.aggregate", f"required, one of {list(AGGREGATES)}; got {aggregate!r}")
    if tie is not None and (aggregate == "any" or tie not in TIES):
        raise ConfigError(f"{key}.tie", f"one of {list(TIES)} for majority and mean (`any` has no ties); got {tie!r}")
    if positive is not None and (aggregate != "any" or isinstance(positive, bool | list | dict)):
        raise ConfigError(f"{key}.positive", f"the positive label of `any` (a label, not {positive!r})")
    return Aggregation(aggregate, tie or "drop", None if positive is None else category_text(positive))


def _judgement(record: Fields, column: str, position: int, value: Any, names: Sequence[str] | None) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise record.error(column, f"annotator {position}'s label is not a label: {value!r}")
    if names is not None and isinstance(value, int) and 0 <= value < len(names):
        return names[value]  # a `datasets` list of ClassLabel holds indices
    return category_text(value) or None


def judgements(record: Fields, column: str, class_names: Sequence[str] | None = None) -> list[str | None]:
    """One entry per annotator (None where one gave no label) of the record's label cell; a cell that is no list
    of labels, or in which no annotator gave one, raises InputError at its file, row and column."""
    value = record.values.get(column)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise record.error(column, f"not a JSON list of labels ({error.msg}): {value!r}") from None
        else:
            value = [piece.strip() or None for piece in text.split(SEPARATOR)] if text else []
    if isinstance(value, tuple | np.ndarray):
        value = list(value)
    if not isinstance(value, list):
        raise record.error(column, f"expected a list of the annotators' labels, found {value!r}")
    labels = [_judgement(record, column, k, item, class_names) for k, item in enumerate(value, 1)]
    if not any(label is not None for label in labels):
        raise record.error(column, "no annotator's label (an empty list)" if not labels
                           else f"none of the {len(labels)} annotators gave a label")
    return labels


def read_panels(records: Sequence[Fields], column: str) -> dict[int, list[str | None]]:
    """Each record's judgements, keyed by ``id(record)``; a list of another length than the first record's raises
    InputError (list positions are annotators, so a ragged list is a lost or extra entry)."""
    panels: dict[int, list[str | None]] = {}
    for record in records:
        class_names = getattr(record, "class_labels", {}).get(column)  # a `datasets` list of ClassLabel
        panel = panels[id(record)] = judgements(record, column, class_names)
        if len(panel) != len(panels[id(records[0])]):
            raise record.error(column, f"{len(panel)} annotators' labels where row {records[0].row} has "
                                       f"{len(panels[id(records[0])])} (the i-th entry is the i-th annotator's "
                                       f"label: mark a missing one with null or an empty entry)")
    return panels


def check_labels(record: Fields, column: str, panel: Sequence[str | None], label_names: Sequence[str]) -> None:
    """Every judgement must be one of the task's labels."""
    for position, label in enumerate(panel, 1):
        if label is not None and label not in label_names:
            raise record.error(column, f"annotator {position}'s label {label!r} is not one of {list(label_names)}")


def _numbers(record: Fields, column: str, label_names: Sequence[str]) -> list[float]:
    try:
        return [float(name) for name in label_names]
    except ValueError:
        raise record.error(column, f"`mean` needs numeric labels; the labels are {list(label_names)}") from None


def positive_label(key: str, rule: Aggregation, label_names: Sequence[str]) -> str:
    """The label ``any`` gives where one annotator does; only two labels make "any" mean something."""
    if len(label_names) != 2:
        raise ConfigError(f"{key}.aggregate", f"`any` needs two labels (one positive), the task has "
                                              f"{list(label_names)}")
    positive = rule.positive or ("1" if sorted(label_names) == ["0", "1"] else None)
    if positive is None or positive not in label_names:
        raise ConfigError(f"{key}.positive", f"name the positive label, one of {list(label_names)}; got "
                                             f"{rule.positive!r}")
    return positive


def gold(record: Fields, column: str, rule: Aggregation, panel: Sequence[str | None],
         label_names: Sequence[str], positive: str | None = None) -> int | None:
    """The index of the item's gold label in ``label_names``, or None for a tie the rule drops."""
    given = [label for label in panel if label is not None]
    if rule.aggregate == "any":
        negative = next(name for name in label_names if name != positive)
        return label_names.index(positive if positive in given else negative)
    if rule.aggregate == "majority":
        counts = Counter(given)
        top = max(counts.values())
        tied = [label for label in counts if counts[label] == top]  # in order of first appearance
        if len(tied) > 1 and rule.tie == "drop":
            return None
        chosen = tied[0] if rule.tie == "first" else min(tied, key=label_names.index)
        return label_names.index(chosen)
    values = _numbers(record, column, label_names)
    mean = float(np.mean([values[label_names.index(label)] for label in given]))
    distance = [abs(value - mean) for value in values]
    nearest = [i for i, d in enumerate(distance) if math.isclose(d, min(distance), abs_tol=1e-9)]
    if len(nearest) == 1:
        return nearest[0]
    if rule.tie == "drop":
        return None
    if rule.tie == "lowest":
        return min(nearest, key=lambda i: values[i])
    first = values[label_names.index(given[0])]
    return min(nearest, key=lambda i: abs(values[i] - first))


def agreement(panels: Sequence[Sequence[str | None]], label_names: Sequence[str], level: str) -> float | None:
    """Krippendorff's alpha of the judgements (items × annotators); None where it is undefined (no item with two
    judgements, or one label used throughout: nothing to agree or disagree on)."""
    import krippendorff

    if level == "nominal":
        domain = np.arange(len(label_names), dtype=float)
        code = {name: float(i) for i, name in enumerate(label_names)}
    else:
        code = {name: float(name) for name in label_names}
        domain = np.array(sorted(set(code.values())))
    counts = np.zeros((len(panels), len(domain)))
    column_of = {value: i for i, value in enumerate(domain.tolist())}
    for unit, panel in enumerate(panels):
        for label in panel:
            if label is not None:
                counts[unit, column_of[code[label]]] += 1
    if len(domain) < 2 or not (counts.sum(axis=1) >= 2).any():
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = krippendorff.alpha(value_counts=counts, value_domain=domain, level_of_measurement=level)
    return None if not math.isfinite(alpha) else float(alpha)


class Vote:
    """Gold labels of a table's records from their panels, counting the ties the rule drops.

    Every record's judgements are checked against ``label_names`` up front, so agreement (over all of them) and the
    gold labels (of the items used) see the same valid labels.
    """

    def __init__(self, key: str, rule: Aggregation, column: str, label_names: Sequence[str],
                 records: Sequence[Fields], panels: Mapping[int, list[str | None]]):
        self.rule, self.column, self.label_names, self.panels = rule, column, list(label_names), panels
        for record in records:
            check_labels(record, column, panels[id(record)], self.label_names)
        if rule.aggregate == "mean" and records:
            _numbers(records[0], column, self.label_names)
        self.positive = positive_label(key, rule, self.label_names) if rule.aggregate == "any" else None
        self.dropped = 0

    def __call__(self, record: Fields) -> int | None:
        label = gold(record, self.column, self.rule, self.panels[id(record)], self.label_names, self.positive)
        self.dropped += label is None
        return label

    def summary(self) -> dict[str, Any]:
        """What a task records of its annotations: the rule, the panel, missing judgements, ties dropped, agreement
        (over every published item, tied or not hydrated ones too: leaving out the disagreements would flatter it)."""
        panels, rule = list(self.panels.values()), self.rule
        given = sum(label is not None for panel in panels for label in panel)
        return {"aggregate": rule.aggregate, "tie": None if rule.aggregate == "any" else rule.tie,
                "positive": self.positive, "items": len(panels), "annotators": len(panels[0]) if panels else 0,
                "judgements": given, "missing": sum(len(panel) for panel in panels) - given,
                "ties_dropped": self.dropped,
                "agreement": {"measure": "krippendorff_alpha", "level": rule.level,
                              "value": agreement(panels, self.label_names, rule.level)}}


def describe(record: Mapping[str, Any]) -> str:
    """One line for a split's source: how the gold label was made and how far the annotators agreed."""
    alpha, rule = record["agreement"]["value"], record["aggregate"]
    n = record["annotators"]
    made = {"majority": f"the majority label of {n} annotators", "mean": f"the mean label of {n} annotators, rounded",
            "any": f"{record['positive']!r} where any of {n} annotators gives it"}[rule]
    ties = {"first": "; ties: first (annotator order)", "lowest": "; ties: the lowest label",
            "drop": f"; ties dropped ({record['ties_dropped']:,} items in all)", None: ""}[record["tie"]]
    return (f"gold: {made}{ties}; Krippendorff's alpha "
            f"({record['agreement']['level']}) {'undefined' if alpha is None else f'{alpha:.3f}'} over "
            f"{record['items']:,} items")
