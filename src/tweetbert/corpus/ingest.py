"""Ingest: a raw tweet table in the format users have (JSON Lines, CSV/TSV, Parquet) into the corpus Parquet.

The input is read record by record (Parquet by row group) and written batch by batch, so memory does not grow
with the corpus but for 24 bytes per tweet of the duplicate-id check. Every malformed record either stops the
stage with an :class:`~tweetbert.errors.InputError` naming the file, the row and the column, or — with
``on_bad_row="skip"`` — is counted by kind so the stage's stats show it. A file that cannot be read at all
(missing, a folder, a damaged Parquet) or yields no tweet is an InputError too: an empty corpus never goes on to
the next stage. Texts longer than ``max_chars`` are kept but counted (``too_long``).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from tweetbert.corpus import io
from tweetbert.corpus.io import CORPUS_COLUMNS, REQUIRED_COLUMNS, CorpusWriter
from tweetbert.corpus.settings import IngestSettings
from tweetbert.errors import InputError
from tweetbert.tables import SUFFIX_FORMATS, delimited_records

FORMATS = ("jsonl", "csv", "tsv", "parquet")
_SURROGATES = re.compile("[\udc80-\udcff]")
MAX_CHARS: int = IngestSettings.max_chars  # the schema's raw.max_chars
# Two independent 64-bit keyed hashes of an id: a false "duplicate" needs both to collide (odds ~1e-23 at 60M).
_HASH_KEYS = ("tweetbert-ids-01", "tweetbert-ids-02")


@dataclass
class IngestReport:
    """What ingest read, kept and skipped (by kind), for the stage's stats."""

    rows_read: int = 0
    rows_kept: int = 0
    skipped: Counter = field(default_factory=Counter)
    max_chars: int = MAX_CHARS
    too_long: int = 0  # kept texts longer than max_chars
    first_too_long_row: int | None = None

    def as_dict(self) -> dict:
        return {"rows_read": self.rows_read, "rows_kept": self.rows_kept, "skipped": dict(sorted(self.skipped.items())),
                "too_long": {"max_chars": self.max_chars, "rows": self.too_long,
                             "first_row": self.first_too_long_row}}

    def describe_skipped(self) -> str:
        return ", ".join(f"{count} {kind}" for kind, count in sorted(self.skipped.items())) or "none"


def detect_format(path: Path, fmt: str = "auto") -> str:
    if fmt != "auto":
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)} or 'auto'")
        return fmt
    for suffix in reversed(path.suffixes):
        if suffix.lower() in SUFFIX_FORMATS:
            return SUFFIX_FORMATS[suffix.lower()]
    raise InputError(path, "cannot tell the format from the file name; set raw.format to one of " + ", ".join(FORMATS))


Record = tuple[int, dict | None, tuple[str, str] | None]


def _json_records(path: Path) -> Iterator[Record]:
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.removesuffix(b"\n").decode("utf-8", errors="surrogateescape")
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as error:  # msg may end in "at" ("Unterminated string starting at")
                problem = f"malformed JSON: {error.msg.removesuffix(' at')} at character {error.pos + 1}"
                yield number, None, ("malformed", problem)
                continue
            if not isinstance(record, dict):
                yield number, None, ("malformed", "malformed JSON: a line must hold one object")
            else:
                yield number, record, None


def _delimited_records(path: Path, delimiter: str) -> Iterator[Record]:
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        rows = (fields for _, fields in delimited_records(path, handle, delimiter) if fields)
        header = next(rows, None)
        if header is None:
            return
        for number, fields in enumerate(rows, start=1):
            if len(fields) > len(header):
                yield number, None, ("ragged", f"{len(fields) - len(header)} more field(s) than the header has")
            elif len(fields) < len(header):
                yield number, None, ("ragged", "fewer fields than the header has")
            else:
                yield number, dict(zip(header, fields)), None


def _parquet_records(path: Path) -> Iterator[Record]:
    try:
        parquet = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering keeps every row group read
        batches = parquet.iter_batches(batch_size=io.BATCH_ROWS)
        number = 0
        for batch in batches:
            for record in batch.to_pylist():
                number += 1
                yield number, record, None
    except (pa.ArrowException, OSError) as err:
        raise InputError(path, f"not a readable Parquet file ({err}); is it complete?") from None


def _records(path: Path, fmt: str) -> Iterator[Record]:
    """Yields (row number, record or None, (kind, problem) or None) in file order; rows are 1-based data rows.

    Bytes that are not UTF-8 are kept as lone surrogates, so a bad row can be skipped instead of the file refused.
    """
    if fmt == "parquet":
        return _parquet_records(path)
    if fmt == "jsonl":
        return _json_records(path)
    return _delimited_records(path, "," if fmt == "csv" else "\t")


def _undecodable_column(record: dict) -> str | None:
    """Names the first field holding bytes that were not UTF-8 (kept as lone surrogates while parsing)."""
    for key, value in record.items():
        if isinstance(value, str) and _SURROGATES.search(value):
            return key
    return None


def _id_hashes(ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(ids, dtype=object)
    return tuple(pd.util.hash_array(values, hash_key=key, categorize=False) for key in _HASH_KEYS)


class SeenIds:
    """Which ids came before, in 24 bytes per id: sorted runs of two 64-bit hashes and the row of each.

    Runs are merged when a newer one grows as large as the one before it (as in a log-structured merge tree), so
    looking up a batch costs a binary search in a handful of runs and adding all ids costs O(n log n).
    """

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def first_rows(self, ids: list[str], rows: np.ndarray) -> np.ndarray:
        """For each id of a batch: the row that used it first (before or in this batch), else 0; records them."""
        high, low = _id_hashes(ids)
        earlier = np.zeros(len(ids), dtype=np.int64)
        for run_high, run_low, run_rows in self._runs:
            at = np.minimum(np.searchsorted(run_high, high), len(run_high) - 1)
            hit = (run_high[at] == high) & (run_low[at] == low)
            earlier[hit] = run_rows[at[hit]]
        order = np.lexsort((rows, low, high))
        same = (high[order][1:] == high[order][:-1]) & (low[order][1:] == low[order][:-1])
        first = order.copy()
        for position in np.flatnonzero(same):  # repeats inside the batch take the first occurrence's row
            first[position + 1] = first[position]
        inside = (first != order) & (earlier[order] == 0)
        earlier[order[inside]] = rows[first[inside]]
        new = earlier == 0
        self._add(high[new], low[new], rows[new])
        return earlier

    def _add(self, high: np.ndarray, low: np.ndarray, rows: np.ndarray) -> None:
        if not len(high):
            return
        order = np.lexsort((low, high))
        self._runs.append((high[order], low[order], rows[order]))
        while len(self._runs) > 1 and len(self._runs[-1][0]) >= len(self._runs[-2][0]):
            newer, older = self._runs.pop(), self._runs.pop()
            merged = [np.concatenate([a, b]) for a, b in zip(older, newer)]
            order = np.lexsort((merged[1], merged[0]))
            self._runs.append(tuple(part[order] for part in merged))


class _Batch:
    """Checked rows waiting to be written, with their row numbers."""

    def __init__(self) -> None:
        self.values: dict[str, list[str]] = {name: [] for name in CORPUS_COLUMNS}
        self.rows: list[int] = []


def checked_batches(path: str | Path, *, fmt: str = "auto", columns: Mapping[str, str] | None = None,
                    on_bad_row: str = "error", max_chars: int = MAX_CHARS, source_key: str = "raw.path",
                    report: IngestReport | None = None) -> Iterator[dict[str, list[str]]]:
    """The raw table's usable rows in the corpus contract (all str), a dict of column lists per batch.

    ``columns`` maps our names to the file's column names. ``on_bad_row`` is ``"error"`` (stop at the first
    bad row) or ``"skip"`` (count it by kind in ``report``). A file without a single usable row is an error;
    messages name ``source_key``, the config key that gave the path.
    """
    if on_bad_row not in ("error", "skip"):
        raise ValueError(f"on_bad_row must be 'error' or 'skip', not {on_bad_row!r}")
    path = Path(path)
    if path.is_dir():
        raise InputError(path, f"is a directory, not a file of tweets ({source_key})")
    if not path.is_file():
        raise InputError(path, f"no such file ({source_key})")
    names = {name: name for name in CORPUS_COLUMNS}
    names.update(columns or {})
    report = report if report is not None else IngestReport(max_chars=max_chars)
    report.max_chars = max_chars
    seen = SeenIds()

    def bad(row: int, kind: str, message: str, column: str | None = None) -> None:
        if on_bad_row == "error":
            raise InputError(path, message, row=row, column=column)
        report.skipped[kind] += 1

    def finish(batch: _Batch) -> dict[str, list[str]]:
        rows = np.asarray(batch.rows, dtype=np.int64)
        earlier = seen.first_rows(batch.values["id"], rows)
        keep = np.ones(len(rows), dtype=bool)
        for position in np.flatnonzero(earlier):
            keep[position] = False
            bad(int(rows[position]), "duplicate_id",
                f"id {batch.values['id'][position]!r} already used on row {earlier[position]}", column=names["id"])
        values = {name: [v for v, k in zip(column, keep.tolist()) if k] for name, column in batch.values.items()}
        long_rows = [row for row, text in zip(rows[keep].tolist(), values["text"]) if len(text) > max_chars]
        report.too_long += len(long_rows)
        report.first_too_long_row = report.first_too_long_row or (long_rows[0] if long_rows else None)
        report.rows_kept += len(values["id"])
        return values

    has_created_at: bool | None = None
    batch = _Batch()
    records = _records(path, detect_format(path, fmt))
    for number, record, problem in tqdm(records, desc=f"ingest {path.name}", unit="row", mininterval=2.0, delay=2.0):
        report.rows_read += 1
        if problem is not None:
            bad(number, *problem)
            continue
        undecodable = _undecodable_column(record)
        if undecodable is not None:
            bad(number, "undecodable", "undecodable bytes (not UTF-8)", column=undecodable)
            continue
        missing = [names[c] for c in REQUIRED_COLUMNS if names[c] not in record]
        if missing:
            bad(number, "missing_column", "missing column", column=missing[0])
            continue
        if has_created_at is None:
            has_created_at = names["created_at"] in record
        values = {}
        for name in CORPUS_COLUMNS:
            value = record.get(names[name]) if name != "created_at" or has_created_at else ""
            if value is None:
                value = ""
            if not isinstance(value, str) and name != "text":
                value = str(value)
            values[name] = value
        text = values["text"]
        if not isinstance(text, str):
            bad(number, "malformed", f"text must be a string, got {type(text).__name__}", column=names["text"])
            continue
        if not text.strip():
            bad(number, "empty_text", "empty or whitespace-only text", column=names["text"])
            continue
        if not values["id"]:
            bad(number, "missing_id", "empty id", column=names["id"])
            continue
        if not values["user_id"]:
            bad(number, "missing_user_id", "empty user id", column=names["user_id"])
            continue
        for name in CORPUS_COLUMNS:
            batch.values[name].append(values[name])
        batch.rows.append(number)
        if len(batch.rows) == io.BATCH_ROWS:
            yield finish(batch)
            batch = _Batch()
    if batch.rows:
        yield finish(batch)
    if not report.rows_read:
        raise InputError(path, f"holds no rows of tweets: nothing to ingest ({source_key})")
    if not report.rows_kept:
        raise InputError(path, f"none of its {report.rows_read} rows is usable (skipped: "
                               f"{report.describe_skipped()}); check raw.columns and raw.format")


def ingest_tweets(path: str | Path, output: str | Path, **options) -> IngestReport:
    """Streams the raw table into the corpus Parquet ``output``; ``options`` as for :func:`checked_batches`."""
    report = IngestReport(max_chars=options.get("max_chars", MAX_CHARS))
    with CorpusWriter(output, CORPUS_COLUMNS) as writer:
        for values in checked_batches(path, report=report, **options):
            writer.write(values)
    return report


def read_tweets(path: str | Path, **options) -> tuple[pd.DataFrame, IngestReport]:
    """A small raw table (calibration sets, tests) as a DataFrame in the corpus contract, and the report."""
    report = IngestReport(max_chars=options.get("max_chars", MAX_CHARS))
    columns: dict[str, list[str]] = {name: [] for name in CORPUS_COLUMNS}
    for values in checked_batches(path, report=report, **options):
        for name in CORPUS_COLUMNS:
            columns[name].extend(values[name])
    frame = pd.DataFrame({name: pd.array(columns[name], dtype="string") for name in CORPUS_COLUMNS})
    return frame, report
