"""Reading tables (CSV, TSV, JSON Lines, Parquet) so that every failure names the file, the row and the column.

A row is where a record starts: the 1-based line of a text file (a header is line 1) or the 1-based record of a
Parquet table. Raw tweets, the downstream datasets and the acceptability kit are all read through these functions,
so a user sees one kind of location whichever stage stops on their file.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from tweetbert.errors import InputError

SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                  ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def decode_text(path: Path, data: bytes, encoding: str = "utf-8-sig", hint: str = "") -> str:
    """The file's text; undecodable bytes are an error at their line (``hint`` tells the user how to fix it)."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        name = encoding.removesuffix("-sig").upper()
        raise InputError(path, f"not {name} text ({error.reason} at byte {error.start}){hint}",
                         row=data.count(b"\n", 0, error.start) + 1) from None


def delimited_records(path: Path, text: str | TextIO, delimiter: str, *, quoted: bool | None = None
                      ) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, its fields) of a CSV/TSV text or open text file (read as it goes), blank lines
    included as empty records.

    By default TSV is read without quoting: WRIME and the hydrated tweet tables are raw text where a ``"`` is a
    character (``"ありがとう"って``), and a CSV-style reader would drop paired quotes and let an unpaired one
    swallow the rows up to the next quote into one field. CSV keeps its quoting rules (RFC 4180); ``quoted``
    overrides the default for files written with quoting (the acceptability kit's key).
    """
    if quoted is None:
        quoted = delimiter != "\t"
    source = io.StringIO(text, newline="") if isinstance(text, str) else text
    reader = csv.reader(source, delimiter=delimiter,
                        quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE)
    start = 1
    try:
        for fields in reader:
            yield start, fields
            start = reader.line_num + 1
    except csv.Error as error:
        kind = "TSV" if delimiter == "\t" else "CSV"
        raise InputError(path, f"malformed {kind}: {error}", row=start) from None


def json_lines(text: str) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, value, problem) of each non-blank line; ``problem`` says in plain words why a line is no JSON."""
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line), None
        except json.JSONDecodeError as error:  # msg may end in "at" ("Unterminated string starting at")
            yield number, None, f"{error.msg.removesuffix(' at')} at character {error.pos + 1}"


def parquet_records(path: Path) -> tuple[list[str], list[dict]]:
    """Column names and records (Python values, None for nulls) of a Parquet file."""
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        raise InputError(path, f"not a readable Parquet file ({err}); is it complete?") from None
    return [str(name) for name in table.column_names], table.to_pylist()


def category_text(value: float | str) -> str:
    """A label or split value as text, so 1 (JSON), 1.0 (a spreadsheet) and "1" (CSV) name the same class."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class Fields:
    """One input record with typed access to its fields; every failure is located by file, row and field."""

    def __init__(self, values: Any, path: Path, row: int | None, where: str = ""):
        self.path, self.row, self.where = path, row, f"{where}: " if where else ""
        if not isinstance(values, Mapping):
            raise InputError(path, f"{self.where}expected a JSON object, found {type(values).__name__}", row=row)
        self.values = values

    def error(self, column: str, message: str) -> InputError:
        return InputError(self.path, self.where + message, row=self.row, column=column)

    def has(self, key: str) -> bool:
        value = self.values.get(key)
        return value is not None and not (isinstance(value, float) and math.isnan(value))

    def _get(self, key: str) -> Any:
        if not self.has(key):
            raise self.error(key, "missing value")
        return self.values[key]

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise self.error(key, f"expected text, found {type(value).__name__} {value!r}")
        if not value.strip():
            raise self.error(key, "empty text")
        return value

    def number(self, key: str, low: float, high: float) -> float:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.error(key, f"not a number: {value!r}")
        try:
            number = float(value)
        except ValueError:
            raise self.error(key, f"not a number: {value!r}") from None
        if not (math.isfinite(number) and low <= number <= high):
            raise self.error(key, f"{value!r} outside [{low:g}, {high:g}]")
        return number

    def integer(self, key: str, low: int, high: int) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected an integer, found {value!r}")
        if not low <= value <= high:
            raise self.error(key, f"{value} outside [{low}, {high}]")
        return value

    def category(self, key: str) -> str:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.error(key, f"expected a label, found {value!r}")
        text = category_text(value)
        if not text:
            raise self.error(key, "missing value")
        return text

    def choice(self, key: str, allowed: Sequence[str]) -> int:
        """Index of the field's value in ``allowed``."""
        value = self.category(key)
        if value not in allowed:
            raise self.error(key, f"{value!r} is not one of {list(allowed)}")
        return list(allowed).index(value)

    def items(self, key: str) -> list:
        value = self._get(key)
        if not isinstance(value, list):
            raise self.error(key, f"expected a list, found {type(value).__name__}")
        return value


def read_text(path: Path) -> str:
    """A UTF-8 text file (a BOM is dropped) that exists and holds more than whitespace."""
    if not path.is_file():
        raise InputError(path, "file not found")
    data = path.read_bytes()
    if not data.strip():
        raise InputError(path, "empty file")
    return decode_text(path, data)


def read_delimited(path: Path, delimiter: str) -> tuple[list[str], list[Fields]]:
    """Header and records of a CSV/TSV file; blank lines are skipped, a record with another field count is an error."""
    records: list[Fields] = []
    rows = delimited_records(path, read_text(path), delimiter)
    _, header = next(rows)
    for line, values in rows:
        if values:
            if len(values) != len(header):
                raise InputError(path, f"{len(values)} fields where the header has {len(header)}", row=line)
            records.append(Fields(dict(zip(header, values)), path, line))
    return header, records


def read_jsonl(path: Path) -> list[Fields]:
    records = []
    for line, value, problem in json_lines(read_text(path)):
        if problem is not None:
            raise InputError(path, f"invalid JSON: {problem}", row=line)
        records.append(Fields(value, path, line))
    return records


def read_parquet(path: Path) -> tuple[list[str], list[Fields]]:
    if not path.is_file():
        raise InputError(path, "file not found")
    columns, records = parquet_records(path)
    if not records:
        raise InputError(path, "empty file (no rows)")
    return columns, [Fields(record, path, number) for number, record in enumerate(records, 1)]


def read_table(path: Path, format: str) -> tuple[list[str], int | None, list[Fields]]:
    """Columns, the row that declares them (header line, first JSON line, none for Parquet) and the records."""
    if format in ("csv", "tsv"):
        header, records = read_delimited(path, "," if format == "csv" else "\t")
        return header, 1, records
    if format == "parquet":
        columns, records = read_parquet(path)
        return columns, None, records
    records = read_jsonl(path)
    return (list(records[0].values), records[0].row, records) if records else ([], None, [])

