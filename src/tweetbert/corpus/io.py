"""Corpus Parquet files, streamed: every stage reads and writes them batch by batch, so memory is one batch.

Corpus files share one schema per column (:data:`COLUMN_TYPES`) and are written in row groups of
:data:`BATCH_ROWS` rows, so equal rows always give byte-identical files. Columns that stages compute on (ids,
user ids, flags) may be read whole; the text never is, except for samples and small held-out splits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Self

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tweetbert.errors import InputError

CORPUS_COLUMNS = ("id", "user_id", "created_at", "text")
REQUIRED_COLUMNS = ("id", "user_id", "text")
BATCH_ROWS = 65_536  # rows per streamed batch and per written row group: a few MB of text whatever the corpus size

# Every corpus file has this schema for the columns it holds, so equal rows give byte-identical files.
COLUMN_TYPES = {"id": pa.large_string(), "user_id": pa.large_string(), "created_at": pa.large_string(),
                "text": pa.large_string(), "cluster_id": pa.int64(), "is_duplicate": pa.bool_(),
                "split": pa.large_string()}


def corpus_schema(columns: Sequence[str]) -> pa.Schema:
    return pa.schema([(name, COLUMN_TYPES.get(name, pa.large_string())) for name in columns])


class CorpusWriter:
    """Writes a corpus Parquet batch by batch (one row group per ``BATCH_ROWS`` rows), with a fixed schema.

    The file appears under its name only when the writer closes without an error, so a killed job never leaves a
    truncated corpus that looks complete.
    """

    def __init__(self, path: str | Path, columns: Sequence[str]):
        self.path = Path(path)
        self.schema = corpus_schema(columns)
        self.rows = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._writer = pq.ParquetWriter(self._partial, self.schema, compression="zstd", write_statistics=False)
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0

    def write(self, data: pa.RecordBatch | pa.Table | Mapping[str, Sequence]) -> None:
        """Appends rows: a record batch, a table, or a mapping of column name to values."""
        if isinstance(data, Mapping):
            data = pa.table({name: pa.array(data[name], type=field.type) for name, field in
                             zip(self.schema.names, self.schema)}, schema=self.schema)
        table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
        table = table.select(self.schema.names).cast(self.schema)
        for batch in table.to_batches():
            self._pending.append(batch)
            self._pending_rows += batch.num_rows
        while self._pending_rows >= BATCH_ROWS:
            self._flush(BATCH_ROWS)

    def _flush(self, rows: int) -> None:
        table = pa.Table.from_batches(self._pending, schema=self.schema)
        self._writer.write_table(table.slice(0, rows), row_group_size=BATCH_ROWS)
        self.rows += min(rows, table.num_rows)
        rest = table.slice(rows)
        self._pending = rest.to_batches() if rest.num_rows else []
        self._pending_rows = rest.num_rows

    def close(self) -> None:
        if self._pending_rows:
            self._flush(self._pending_rows)
        self._writer.close()
        self._partial.replace(self.path)

    def abort(self) -> None:
        self._writer.close()
        self._partial.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def write_corpus(frame: pd.DataFrame, path: str | Path) -> None:
    """Writes a small in-memory corpus (tests, samples) exactly as :class:`CorpusWriter` writes a streamed one."""
    with CorpusWriter(path, list(frame.columns)) as writer:
        writer.write(pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False))


def _corpus_file(path: str | Path, columns: Sequence[str] | None) -> pq.ParquetFile:
    """The opened Parquet file, checked to hold the wanted columns before anything is read."""
    path = Path(path)
    try:
        # pre_buffer (pyarrow's default) keeps every row group read so far: memory would grow with the file.
        parquet = pq.ParquetFile(path, pre_buffer=False)
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except (pa.ArrowException, OSError) as err:
        raise InputError(path, f"not a readable Parquet file ({err}); is it complete?") from None
    present = set(parquet.schema_arrow.names)
    for column in columns or REQUIRED_COLUMNS:
        if column not in present:
            raise InputError(path, "missing column", column=column)
    return parquet


def corpus_rows(path: str | Path) -> int:
    """Number of rows of a corpus Parquet, from its footer."""
    return _corpus_file(path, []).metadata.num_rows


def corpus_batches(path: str | Path, columns: Sequence[str], batch_size: int | None = None
                   ) -> Iterator[pa.RecordBatch]:
    """The corpus's ``columns`` batch by batch (``BATCH_ROWS`` rows by default), in row order: memory is one batch
    whatever the corpus size."""
    yield from _corpus_file(path, columns).iter_batches(batch_size=batch_size or BATCH_ROWS, columns=list(columns))


def corpus_row_range(path: str | Path, columns: Sequence[str], start: int, stop: int) -> Iterator[pa.RecordBatch]:
    """The corpus's ``columns`` of rows [start, stop), batch by batch: row groups wholly outside the range are
    never read, so each of a stage's shard jobs decodes its own rows, not the file up to them."""
    parquet = _corpus_file(path, columns)
    groups, first = [], 0
    for index in range(parquet.metadata.num_row_groups):
        rows = parquet.metadata.row_group(index).num_rows
        if first < stop and first + rows > start:
            groups.append(index)
        first += rows
    position = sum(parquet.metadata.row_group(index).num_rows for index in range(groups[0])) if groups else stop
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=list(columns), row_groups=groups):
        low, high = max(start - position, 0), min(stop - position, batch.num_rows)
        if high > low:
            yield batch.slice(low, high - low)
        position += batch.num_rows


def corpus_column(path: str | Path, column: str) -> pa.ChunkedArray:
    """One whole column (ids, user ids, flags: the columns a stage computes on; never the text)."""
    return _corpus_file(path, [column]).read(columns=[column]).column(column)


def read_corpus(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A whole corpus (or some of its columns) as a DataFrame: for samples, task files and tests, not corpora."""
    return _corpus_file(path, columns).read(columns=columns).to_pandas()


def split_batches(path: str | Path, split: str | None, columns: Sequence[str], batch_size: int | None = None
                  ) -> Iterator[pa.RecordBatch]:
    """Batches of one split's rows (every row when ``split`` is None); a split without a row is an input error."""
    wanted = list(columns) if split is None else [*columns, "split"]
    found = False
    for batch in corpus_batches(path, wanted, batch_size):
        if split is not None:
            batch = batch.filter(pc.equal(batch.column("split"), split)).select(list(columns))
        if batch.num_rows:
            found = True
            yield batch
    if not found:
        raise InputError(path, "no tweets" + (f" with split {split!r}" if split is not None else ""),
                         column="split" if split is not None else columns[0])


def split_text_batches(path: str | Path, split: str | None, batch_size: int | None = None) -> Iterator[list[str]]:
    """Texts of one split, a list per batch: what tokenizer training, coverage and length counts stream over."""
    for batch in split_batches(path, split, ["text"], batch_size):
        yield batch.column(0).to_pylist()


def read_split(path: str | Path, split: str | None, columns: list[str]) -> pd.DataFrame:
    """``columns`` of one split of a corpus as a DataFrame (for held-out samples, not whole training splits)."""
    batches = list(split_batches(path, split, columns))
    return pa.Table.from_batches(batches).to_pandas()


def read_split_texts(path: str | Path, split: str | None) -> list[str]:
    """Texts of one split as a list: for the small held-out splits; stream training splits with split_text_batches."""
    return [text for batch in split_text_batches(path, split) for text in batch]
