"""Results of the acceptability annotation: how often the adapted model's rank-K replacement of a masked word still
gives an acceptable sentence, per K and annotator, and how well the annotators agree.

Inputs are the kit's ``key.tsv`` (UTF-8, tab-separated: ``item``, ``example_id``, ``k``, ``original``,
``replacement``, ``original_sentence``, ``sentence``) and one or more filled copies of its ``sheet.csv`` (UTF-8 with
BOM, comma-separated: ``item``, ``sentence``, ``replacement``, one ``label_<annotator>`` column per annotator).
Annotators may each fill their own copy (the other label columns stay empty there) or all fill one copy.

Validation is strict, and every failure is an :class:`~tweetbert.errors.InputError` naming the file, the row (the
1-based line where the record starts, header = line 1) and the column:

* a label is ``1`` (acceptable) or ``0`` (not acceptable). Surrounding whitespace, full-width digits (``１``, NFKC) and
  the ``1.0``/``0.0`` a spreadsheet may write for a number are accepted; anything else (``2``, ``0.5``, ``yes``,
  ``○``, ``TRUE``) is an error. A cell of only whitespace is blank;
* a label column with some labels and some blanks is an error at its first blank (a missing label); a label column
  blank in every row means that sheet does not carry that annotator; a sheet that carries no annotator is an error;
* every item of the key has exactly one row in every sheet: a missing item, an item not in the key, a repeated
  item or a non-integer item is an error. Rows whose cells are all blank (a spreadsheet's trailing rows) are skipped;
* where the sheet keeps a ``sentence`` column, it must equal the key's sentence for that item (whitespace aside:
  line ends and line breaks in cells may change), so a sheet of another kit cannot be scored against this key;
* an annotator labelled in two sheets is an error, as is the reserved annotator name ``mean``.

Cohen's kappa (``sklearn.metrics.cohen_kappa_score``, unweighted) is computed for every pair of annotators over all
items. Where it is undefined (both annotators gave one and the same label to every item, so chance agreement is 1)
it is ``null``, and the mean kappa is over the defined pairs only; with one annotator there are no pairs and the
mean is ``null``.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tweetbert.errors import InputError
from tweetbert.reference_results import reference_results
from tweetbert.report_labels import ACCEPTABLE, MEAN, NOT_ACCEPTABLE
from tweetbert.tables import decode_text, delimited_records

PUBLISHED_ACCEPTABILITY: dict[int, float] = reference_results()["acceptability"]["by_k"]
"""Share of acceptable replacements by rank K in the reference study (two annotators)."""
PUBLISHED_ANNOTATORS: int = reference_results()["acceptability"]["annotators"]
PUBLISHED_KAPPA: float = reference_results()["acceptability"]["kappa"]
"""Cohen's kappa between the reference study's two annotators."""

KEY_ENCODING = "utf-8-sig"  # the key has no BOM; reading it this way also tolerates one
SHEET_ENCODING = "utf-8-sig"
LABEL_PREFIX = "label_"
OPEN_MARK, CLOSE_MARK = "【", "】"
"""Around the replacement in the key's (and the sheet's) ``sentence``."""
ITEM, K, SENTENCE = "item", "k", "sentence"
KEY_COLUMNS = (ITEM, K, "original", "replacement")
_LABEL = re.compile(r"([01])(?:\.0*)?")
_DIGITS = 6


@dataclass(frozen=True)
class KeyItem:
    """One row of ``key.tsv``; ``line`` is where it starts in the file."""

    item: int
    k: int
    original: str
    replacement: str
    original_sentence: str | None
    sentence: str | None
    line: int


@dataclass(frozen=True)
class Table:
    """A delimited file read as text: its header and its records, each with the line it starts on."""

    path: Path
    header: list[str]
    records: list[tuple[int, list[str]]]

    def column(self, name: str) -> int:
        try:
            return self.header.index(name)
        except ValueError:
            raise InputError(self.path, f"missing column (the header has {self.header})", row=1,
                             column=name) from None


def read_table(path: Path, *, delimiter: str, encoding: str) -> Table:
    """Reads every record as strings; quoted multi-line fields count from the line they start on."""
    path = Path(path)
    text = decode_text(path, path.read_bytes(), encoding,
                       "; a spreadsheet saved as plain 'CSV' may have written Shift-JIS: save it as 'CSV UTF-8'")
    records = list(delimited_records(path, text, delimiter, quoted=True))
    if not records:
        raise InputError(path, "is empty: expected a header line", row=1)
    (_, header), *body = records
    if len(set(header)) != len(header):
        repeated = sorted({name for name in header if header.count(name) > 1})
        raise InputError(path, "column name repeated in the header", row=1, column=repeated[0])
    rows = []
    for line, fields in body:
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(header):
            raise InputError(path, f"has {len(fields)} fields, the header has {len(header)}", row=line)
        rows.append((line, fields))
    return Table(path, header, rows)


def _positive_int(table: Table, line: int, column: str, value: str) -> int:
    text = unicodedata.normalize("NFKC", value).strip()
    if not re.fullmatch(r"[0-9]+", text) or int(text) < 1:
        raise InputError(table.path, f"must be a positive integer, got {value!r}", row=line, column=column)
    return int(text)


def _same_text(a: str, b: str) -> bool:
    """Equal but for whitespace, which spreadsheets and kit writers may change (line ends, line breaks in cells)."""
    return "".join(a.split()) == "".join(b.split())


def _optional(fields: Sequence[str], at: int | None) -> str | None:
    return None if at is None else fields[at]


def read_key(path: Path) -> dict[int, KeyItem]:
    """``key.tsv`` by item; items and ranks must be positive integers and items unique."""
    table = read_table(path, delimiter="\t", encoding=KEY_ENCODING)
    columns = {name: table.column(name) for name in KEY_COLUMNS}
    optional = {name: table.header.index(name) for name in ("original_sentence", SENTENCE) if name in table.header}
    key: dict[int, KeyItem] = {}
    for line, fields in table.records:
        item = _positive_int(table, line, ITEM, fields[columns[ITEM]])
        if item in key:
            raise InputError(path, f"item {item} repeated (first on line {key[item].line})", row=line, column=ITEM)
        key[item] = KeyItem(item, _positive_int(table, line, K, fields[columns[K]]), fields[columns["original"]],
                            fields[columns["replacement"]],
                            original_sentence=_optional(fields, optional.get("original_sentence")),
                            sentence=_optional(fields, optional.get(SENTENCE)), line=line)
    if not key:
        raise InputError(path, "has no items", row=2)
    return key


def parse_label(value: str) -> int | None:
    """1 or 0 from a cell (see the module docstring for what is accepted); None for a blank cell.

    Raises ValueError for anything else.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    match = _LABEL.fullmatch(text)
    if match is None:
        raise ValueError(f"label must be 1 (acceptable) or 0 (not acceptable), got {value!r}")
    return int(match.group(1))


def label_columns(header: Sequence[str]) -> list[str]:
    """The ``label_<annotator>`` columns of a sheet's header, in header order."""
    return [name for name in header if name.startswith(LABEL_PREFIX)]


def annotator_of(column: str) -> str:
    return column.removeprefix(LABEL_PREFIX)


def read_sheet_table(path: Path, key: Mapping[int, KeyItem]) -> tuple[Table, dict[int, int]]:
    """A sheet whose items are exactly the key's, once each; returns it and the record index of each item."""
    table = read_table(path, delimiter=",", encoding=SHEET_ENCODING)
    item_at = table.column(ITEM)
    sentence_at = table.header.index(SENTENCE) if SENTENCE in table.header else None
    columns = label_columns(table.header)
    if not columns:
        raise InputError(path, f"no label column (expected one {LABEL_PREFIX}<annotator> column per annotator)",
                         row=1)
    for column in columns:
        if not annotator_of(column).strip():
            raise InputError(path, "label column without an annotator name", row=1, column=column)
        if annotator_of(column) == MEAN:
            raise InputError(path, f"the annotator name {MEAN!r} is reserved for the mean over annotators", row=1,
                             column=column)
    index: dict[int, int] = {}
    for position, (line, fields) in enumerate(table.records):
        item = _positive_int(table, line, ITEM, fields[item_at])
        if item not in key:
            raise InputError(path, f"item {item} is not in the key", row=line, column=ITEM)
        if item in index:
            first = table.records[index[item]][0]
            raise InputError(path, f"item {item} repeated (first on line {first})", row=line, column=ITEM)
        expected = key[item].sentence
        if sentence_at is not None and expected is not None and not _same_text(fields[sentence_at], expected):
            raise InputError(path, f"differs from the key's sentence for item {item} (key line {key[item].line}): "
                                   "is this sheet from another kit?", row=line, column=SENTENCE)
        index[item] = position
    missing = sorted(set(key) - set(index))
    if missing:
        first = key[missing[0]]
        raise InputError(path, f"item {first.item} of the key (key line {first.line}) has no row; "
                               f"{len(missing)} missing in all: {_listed(missing)}", column=ITEM)
    return table, index


def _listed(values: Sequence[Any], limit: int = 10) -> str:
    shown = ", ".join(str(value) for value in values[:limit])
    return shown + (f", … ({len(values) - limit} more)" if len(values) > limit else "")


def read_sheet(path: Path, key: Mapping[int, KeyItem]) -> dict[str, dict[int, int]]:
    """The annotators a filled sheet carries (its label columns with any label), each as item -> label."""
    table, index = read_sheet_table(path, key)
    carried: dict[str, dict[int, int]] = {}
    for column in label_columns(table.header):
        at = table.header.index(column)
        labels: dict[int, int] = {}
        blank: list[int] = []
        for item, position in sorted(index.items(), key=lambda pair: pair[1]):
            line, fields = table.records[position]
            try:
                label = parse_label(fields[at])
            except ValueError as error:
                raise InputError(path, str(error), row=line, column=column) from None
            if label is None:
                blank.append(line)
            else:
                labels[item] = label
        if labels and blank:
            raise InputError(path, f"missing label: the column has {len(labels)} labels and {len(blank)} blank "
                                   f"cells (lines {_listed(blank)})", row=blank[0], column=column)
        if labels:
            carried[annotator_of(column)] = labels
    if not carried:
        raise InputError(path, f"carries no annotator: every label column ({', '.join(label_columns(table.header))}) "
                               "is empty", row=1)
    return carried


def collect_labels(key_path: Path, sheets: Sequence[Path]) -> tuple[dict[int, KeyItem], pd.DataFrame, dict[str, str]]:
    """The key, every label as a row (``annotator``, ``item``, ``k``, ``label``; sorted) and each annotator's sheet."""
    if not sheets:
        raise ValueError("no sheet given: pass at least one filled sheet.csv")
    key = read_key(key_path)
    source: dict[str, Path] = {}
    rows = []
    for sheet in sheets:
        carried = read_sheet(sheet, key)
        for annotator, labels in carried.items():
            if annotator in source:
                raise InputError(sheet, f"annotator {annotator!r} is already labelled in {source[annotator]}", row=1,
                                 column=LABEL_PREFIX + annotator)
            source[annotator] = Path(sheet)
            rows.extend((annotator, item, key[item].k, label) for item, label in labels.items())
    labels = pd.DataFrame(rows, columns=["annotator", ITEM, K, "label"]).sort_values(["annotator", ITEM])
    return key, labels.reset_index(drop=True), {name: path.name for name, path in sorted(source.items())}


def cohen_kappa(first: Sequence[int], second: Sequence[int]) -> float | None:
    """Unweighted Cohen's kappa of two 1/0 label sequences; None where it is undefined (both annotators gave one and
    the same label to every item, so chance agreement is 1)."""
    if len(first) != len(second) or not len(first):
        raise ValueError("kappa needs two non-empty label sequences of the same length")
    if len(set(first) | set(second)) == 1:
        return None  # checked here: sklearn would warn and return replace_undefined_by
    from sklearn.metrics import cohen_kappa_score  # a slow import, only when scoring

    return float(cohen_kappa_score(list(first), list(second), labels=[NOT_ACCEPTABLE, ACCEPTABLE]))


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, _DIGITS)


def acceptability_by_k(labels: pd.DataFrame) -> pd.DataFrame:
    """Per K: each annotator's share of acceptable replacements, then the mean over annotators (annotator ``mean``;
    its ``acceptable`` is blank)."""
    per_annotator = (labels.groupby([K, "annotator"], sort=True)["label"]
                     .agg(n_items="size", acceptable="sum").reset_index())
    per_annotator["acceptability"] = per_annotator["acceptable"] / per_annotator["n_items"]
    mean = (per_annotator.groupby(K, sort=True)
            .agg(n_items=("n_items", "max"), acceptability=("acceptability", "mean")).reset_index())
    mean["annotator"] = MEAN
    table = pd.concat([per_annotator, mean], ignore_index=True)
    table["order"] = (table["annotator"] == MEAN).astype(int)
    table = table.sort_values([K, "order", "annotator"]).drop(columns="order").reset_index(drop=True)
    table["acceptable"] = table["acceptable"].astype("Int64")
    return table[[K, "annotator", "n_items", "acceptable", "acceptability"]]


def kappa_pairs(labels: pd.DataFrame) -> list[dict[str, Any]]:
    """Cohen's kappa for every pair of annotators (sorted), over all items."""
    wide = labels.pivot(index=ITEM, columns="annotator", values="label").sort_index()
    return [{"annotators": [a, b], "n_items": len(wide), "kappa": _round(cohen_kappa(wide[a].tolist(),
                                                                                      wide[b].tolist()))}
            for a, b in itertools.combinations(sorted(wide.columns), 2)]


def label_distribution(labels: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Each annotator's count of acceptable (1) and not acceptable (0) labels, overall and per K."""
    out: dict[str, dict[str, Any]] = {}
    for annotator, group in labels.groupby("annotator", sort=True):
        by_k = [{K: int(k), "acceptable": int((part["label"] == ACCEPTABLE).sum()),
                 "not_acceptable": int((part["label"] == NOT_ACCEPTABLE).sum())}
                for k, part in group.groupby(K, sort=True)]
        out[str(annotator)] = {"acceptable": int((group["label"] == ACCEPTABLE).sum()),
                               "not_acceptable": int((group["label"] == NOT_ACCEPTABLE).sum()), "by_k": by_k}
    return out


def summarize(labels: pd.DataFrame, by_k: pd.DataFrame, sheets: Mapping[str, str],
              published: Mapping[int, float] | None) -> dict[str, Any]:
    """Everything the report quotes, as plain JSON values (K-keyed parts as lists ordered by K)."""
    annotators = sorted(labels["annotator"].unique())
    pairs = kappa_pairs(labels)
    defined = [pair["kappa"] for pair in pairs if pair["kappa"] is not None]
    rows = []
    for k, group in by_k.groupby(K, sort=True):
        mean = group[group["annotator"] == MEAN].iloc[0]
        rows.append({K: int(k), "n_items": int(mean["n_items"]), "mean": _round(float(mean["acceptability"])),
                     "by_annotator": {str(row["annotator"]): _round(float(row["acceptability"]))
                                      for _, row in group[group["annotator"] != MEAN].iterrows()},
                     "published": None if published is None else published.get(int(k))})
    per_annotator = labels.groupby("annotator", sort=True)["label"].mean()
    reference = None
    if published is not None:
        reference = {"acceptability_by_k": [{K: int(k), "acceptability": float(value)}
                                             for k, value in sorted(published.items())]}
        if dict(published) == PUBLISHED_ACCEPTABILITY:
            reference.update(annotators=PUBLISHED_ANNOTATORS, kappa=PUBLISHED_KAPPA)
    return {
        "annotators": annotators,
        "sheets": dict(sheets),
        "items": int(labels[ITEM].nunique()),
        "acceptability_by_k": rows,
        "acceptability_overall": {"mean": _round(float(per_annotator.mean())),
                                  "by_annotator": {str(a): _round(float(v)) for a, v in per_annotator.items()}},
        "kappa": {"pairs": pairs, "mean": _round(math.fsum(defined) / len(defined)) if defined else None},
        "label_distribution": label_distribution(labels),
        "published": reference,
    }


REPORT_OUTPUTS = {
    "by_k": "TSV of acceptability by K",
    "summary": "JSON summary: acceptability by K, Cohen's kappa, label distributions, sources",
    "acceptability_by_k": "PNG of acceptability by K",
    "annotators": "PNG of each annotator's labels",
}


def write_acceptability_report(key: Path, sheets: Sequence[Path], paths: Mapping[str, Path],
                               published: Mapping[int, float] | None = PUBLISHED_ACCEPTABILITY) -> dict[str, Path]:
    """Validates the filled sheets against the key and writes the report's files at ``paths``
    (:data:`REPORT_OUTPUTS`); returns them by name.

    ``published`` is the reference study's acceptability by K, drawn beside ours for the K it has (None: not drawn).
    """
    from tweetbert.plots.acceptability import plot_acceptability_by_k, plot_annotators  # matplotlib only here

    _, labels, sources = collect_labels(key, sheets)
    paths = {name: Path(paths[name]) for name in REPORT_OUTPUTS}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    by_k = acceptability_by_k(labels)
    by_k.to_csv(paths["by_k"], sep="\t", index=False, na_rep="", float_format=f"%.{_DIGITS}f", lineterminator="\n")
    summary = summarize(labels, by_k, sources, published)
    paths["summary"].write_text(json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                                encoding="utf-8")
    plot_acceptability_by_k(by_k, published, paths["acceptability_by_k"], kappa=summary["kappa"]["mean"],
                            published_kappa=PUBLISHED_KAPPA if published is not None else None)
    plot_annotators(labels, paths["annotators"])
    return paths
