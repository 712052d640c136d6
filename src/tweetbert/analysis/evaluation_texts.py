"""The texts the masked-token probes read: a held-out split of a corpus, or one column of a published table."""

from __future__ import annotations

from pathlib import Path

from tweetbert.corpus.io import read_split
from tweetbert.errors import InputError
from tweetbert.tables import read_texts


def read_evaluation_texts(path: str | Path, *, split: str | None = None, column: str = "text"
                          ) -> tuple[list[str], list[str]]:
    """(ids, texts). A corpus (Parquet with ``split``) gives its ``split`` rows and tweet ids; a table gives the
    column ``column`` with row numbers as ids."""
    path = Path(path)
    if split is not None:
        frame = read_split(path, split, ["id", "text"])
        return frame["id"].astype(str).tolist(), frame["text"].astype(str).tolist()
    texts = read_texts(path, column)
    if not texts:
        raise InputError(path, "no rows", column=column)
    return [str(row) for row in range(1, len(texts) + 1)], texts
