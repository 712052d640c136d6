"""The texts the masked-token probes read: a held-out split of a corpus, or one column of a published table,
optionally only the rows of one split (WRIME's ``Train/Dev/Test`` column names each row's split)."""

from __future__ import annotations

from pathlib import Path

from tweetbert.corpus.io import read_split
from tweetbert.errors import InputError
from tweetbert.tables import SUFFIX_FORMATS, read_table


def read_evaluation_texts(path: str | Path, *, split: str | None = None, column: str = "text",
                          split_column: str | None = None) -> tuple[list[str], list[str]]:
    """(ids, texts). A corpus (Parquet with ``split``) gives its ``split`` rows and tweet ids; a table gives the
    column ``column`` with 1-based record numbers as ids, only the records whose ``split_column`` is ``split`` when
    ``split_column`` is given (the ids still number the whole table, so an example leads back to its row)."""
    path = Path(path)
    if split_column is None and split is not None:
        frame = read_split(path, split, ["id", "text"])
        return frame["id"].astype(str).tolist(), frame["text"].astype(str).tolist()
    if split_column is not None and split is None:
        raise ValueError(f"a split column ({split_column!r}) needs the split to read")
    if path.suffix.lower() not in SUFFIX_FORMATS:
        raise InputError(path, f"cannot tell the table format from the suffix (known: {sorted(SUFFIX_FORMATS)})")
    columns, header_row, records = read_table(path, SUFFIX_FORMATS[path.suffix.lower()])
    for needed in filter(None, (column, split_column)):
        if records and needed not in columns:
            raise InputError(path, "missing column", row=header_row, column=needed)
    rows = [(number, record) for number, record in enumerate(records, start=1)
            if split_column is None or record.category(split_column) == split]
    if not rows and split_column is not None and records:
        values = sorted({record.category(split_column) for record in records})
        raise InputError(path, f"no rows of split {split!r} (values found: {', '.join(values)})", column=split_column)
    if not rows:
        raise InputError(path, "no rows", column=column)
    return [str(number) for number, _ in rows], [record.text(column) for _, record in rows]
