"""Reading raw tweet tables in the formats users have (JSON Lines, CSV/TSV, Parquet) without losing a row unreported.

Every malformed record either stops the stage with an :class:`~tweetbert.errors.InputError` naming the file,
the row and the column, or — with ``on_bad_row="skip"`` — is counted by kind so the stage's stats show it. A file
that cannot be read at all (missing, a folder, a damaged Parquet) or yields no tweet is an InputError too: an
empty corpus never goes on to the next stage. Texts longer than ``max_chars`` are kept but counted (``too_long``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from tweetbert.errors import InputError
from tweetbert.tables import SUFFIX_FORMATS, delimited_records, json_lines, parquet_records
from tweetbert.settings import mirrors, setting

CORPUS_COLUMNS = ("id", "user_id", "created_at", "text")
REQUIRED_COLUMNS = ("id", "user_id", "text")
FORMATS = ("jsonl", "csv", "tsv", "parquet")
_SURROGATES = re.compile("[\udc80-\udcff]")
MAX_CHARS = 25_000  # the longest post X allows (premium); anything longer is not one tweet


@mirrors("raw")
@dataclass(frozen=True)
class IngestSettings:
    """How ingest reads the raw table (``raw.path`` itself is the rule's input)."""

    format: str = "auto"
    columns: dict[str, str] = setting({})
    on_bad_row: str = "error"
    max_chars: int = MAX_CHARS


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


def _records(path: Path, fmt: str) -> Iterator[tuple[int, dict | None, tuple[str, str] | None]]:
    """Yields (row number, record or None, (kind, problem) or None) in file order; rows are 1-based data rows.

    Bytes that are not UTF-8 are kept as lone surrogates, so a bad row can be skipped instead of the file refused.
    """
    if fmt == "parquet":
        for number, record in enumerate(parquet_records(path)[1], start=1):
            yield number, record, None
        return
    text = path.read_bytes().decode("utf-8-sig" if fmt != "jsonl" else "utf-8", errors="surrogateescape")
    if fmt == "jsonl":
        for number, record, problem in json_lines(text):
            if problem is not None:
                yield number, None, ("malformed", f"malformed JSON: {problem}")
            elif not isinstance(record, dict):
                yield number, None, ("malformed", "malformed JSON: a line must hold one object")
            else:
                yield number, record, None
        return
    rows = (fields for _, fields in delimited_records(path, text, "," if fmt == "csv" else "\t") if fields)
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


def _undecodable_column(record: dict) -> str | None:
    """Names the first field holding bytes that were not UTF-8 (kept as lone surrogates while parsing)."""
    for key, value in record.items():
        if isinstance(value, str) and _SURROGATES.search(value):
            return key
    return None


def read_tweets(
    path: str | Path,
    *,
    fmt: str = "auto",
    columns: Mapping[str, str] | None = None,
    on_bad_row: str = "error",
    max_chars: int = MAX_CHARS,
    source_key: str = "raw.path",
) -> tuple[pd.DataFrame, IngestReport]:
    """Reads a raw tweet table into the corpus contract (``id``, ``user_id``, ``created_at``, ``text``; all str).

    ``columns`` maps our names to the file's column names. ``on_bad_row`` is ``"error"`` (stop at the first
    bad row) or ``"skip"`` (count it by kind in the report). A file without a single usable row is an error;
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
    fmt = detect_format(path, fmt)
    report = IngestReport(max_chars=max_chars)
    kept: dict[str, list[str]] = {name: [] for name in CORPUS_COLUMNS}
    seen_ids: dict[str, int] = {}
    has_created_at: bool | None = None

    def bad(row: int, kind: str, message: str, column: str | None = None) -> None:
        if on_bad_row == "error":
            raise InputError(path, message, row=row, column=column)
        report.skipped[kind] += 1

    rows = tqdm(_records(path, fmt), desc=f"ingest {path.name}", unit="row", mininterval=2.0, delay=2.0)
    for number, record, problem in rows:
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
            value = record.get(names[name])
            if name == "created_at" and not has_created_at:
                value = ""
            if value is None:
                value = ""
            if not isinstance(value, str):
                value = str(value) if name != "text" else value
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
        if values["id"] in seen_ids:
            bad(number, "duplicate_id", f"id {values['id']!r} already used on row {seen_ids[values['id']]}",
                column=names["id"])
            continue
        seen_ids[values["id"]] = number
        if len(text) > max_chars:
            report.too_long += 1
            report.first_too_long_row = report.first_too_long_row or number
        for name in CORPUS_COLUMNS:
            kept[name].append(values[name])
    report.rows_kept = len(kept["id"])
    if not report.rows_read:
        raise InputError(path, f"holds no rows of tweets: nothing to ingest ({source_key})")
    if not report.rows_kept:
        raise InputError(path, f"none of its {report.rows_read} rows is usable (skipped: "
                               f"{report.describe_skipped()}); check raw.columns and raw.format")
    frame = pd.DataFrame({name: pd.array(kept[name], dtype="string") for name in CORPUS_COLUMNS})
    return frame, report


def write_corpus(frame: pd.DataFrame, path: str | Path) -> None:
    """Writes a corpus as Parquet with a fixed schema, so equal inputs give byte-identical files."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    table = table.replace_schema_metadata(None)
    pq.write_table(table, path, compression="zstd", write_statistics=False)


def read_corpus(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Reads a corpus Parquet written by :func:`write_corpus`, checking the wanted columns are there first."""
    path = Path(path)
    try:
        present = set(pq.read_schema(path).names)
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except (pa.ArrowException, OSError) as err:
        raise InputError(path, f"not a readable Parquet file ({err}); is it complete?") from None
    for column in columns or REQUIRED_COLUMNS:
        if column not in present:
            raise InputError(path, "missing column", column=column)
    return pq.read_table(path, columns=columns).to_pandas()


def read_split(path: str | Path, split: str | None, columns: list[str]) -> pd.DataFrame:
    """``columns`` of one split of a corpus (every row when ``split`` is None); an empty selection is an input error."""
    frame = read_corpus(path, columns if split is None else [*columns, "split"])
    if split is not None:
        frame = frame[frame["split"] == split]
    if frame.empty:
        raise InputError(path, "no tweets" + (f" with split {split!r}" if split is not None else ""),
                         column="split" if split is not None else columns[0])
    return frame[columns]


def read_split_texts(path: str | Path, split: str | None) -> list[str]:
    """Texts of one split of a corpus: what tokenizer stats, length histograms, FOCUS and pre-training read."""
    return read_split(path, split, ["text"])["text"].astype(str).tolist()
