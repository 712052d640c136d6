"""The dedup stage's per-row arrays on disk (exact-text hash, shingle count, MinHash signature) and reading them.

Signatures are 512 bytes per tweet (128 permutations): 30 GB for the study's 60M tweets. Jobs never map them
whole: :class:`SignatureReader` reads the columns of a band group block by block, or single rows by ``pread``,
so a job's memory is what it asked for, not the files it touched (mapped pages would count in its RSS and, on
SLURM, in its cgroup).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_BLOCK_ROWS = 65_536


@dataclass
class SignatureShard:
    """One shard's per-row data: exact-text hash, shingle count and MinHash signature (in memory once computed)."""

    row_start: int
    text_hash: np.ndarray
    n_shingles: np.ndarray
    signature: np.ndarray

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "text_hash.npy", self.text_hash)
        np.save(directory / "n_shingles.npy", self.n_shingles)
        np.save(directory / "signature.npy", self.signature)
        (directory / "shard.json").write_text(json.dumps({"row_start": self.row_start, "rows": len(self.text_hash)}))


@dataclass
class _SignatureFile:
    path: Path
    row_start: int
    rows: int
    offset: int  # of the first row in the .npy file
    width: int  # values per row
    dtype: np.dtype

    @classmethod
    def open(cls, path: Path, row_start: int) -> _SignatureFile:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(handle)
            if fortran or len(shape) != 2:
                raise ValueError(f"{path}: expected a C-ordered 2-d signature array, found shape {shape}")
            return cls(path, row_start, shape[0], handle.tell(), shape[1], np.dtype(dtype))

    @property
    def row_bytes(self) -> int:
        return self.width * self.dtype.itemsize


class SignatureReader:
    """Signatures of every shard, addressed by corpus row, read from the files on demand."""

    def __init__(self, files: Sequence[_SignatureFile]):
        self._files = sorted(files, key=lambda f: f.row_start)
        self._starts = np.array([f.row_start for f in self._files], dtype=np.int64)
        self.width = self._files[0].width if self._files else 0
        self.dtype = self._files[0].dtype if self._files else np.dtype(np.uint32)

    def __len__(self) -> int:
        return sum(f.rows for f in self._files)

    def _shard_of(self, rows: np.ndarray) -> np.ndarray:
        return np.searchsorted(self._starts, rows, side="right") - 1

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        """Whole signatures of a few rows (any order), one ``pread`` each: for verifying candidate pairs."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), self.width), dtype=self.dtype)
        which = self._shard_of(rows)
        for index, file in enumerate(self._files):
            positions = np.flatnonzero(which == index)
            if not len(positions):
                continue
            with open(file.path, "rb") as handle:
                descriptor = handle.fileno()
                size = file.row_bytes
                for position, local in zip(positions.tolist(), (rows[positions] - file.row_start).tolist()):
                    out[position] = np.frombuffer(os.pread(descriptor, size, file.offset + local * size), self.dtype)
        return out

    def columns(self, columns: slice, rows: np.ndarray | None = None) -> np.ndarray:
        """``columns`` of every row (or of ``rows``, ascending), read block by block: one band group's keys."""
        width = len(range(*columns.indices(self.width)))
        total = len(self) if rows is None else len(rows)
        out = np.empty((total, width), dtype=self.dtype)
        done = 0
        for file in self._files:
            if rows is None:
                wanted = np.arange(file.rows, dtype=np.int64)
            else:
                lo, hi = np.searchsorted(rows, [file.row_start, file.row_start + file.rows])
                wanted = rows[lo:hi] - file.row_start
            with open(file.path, "rb") as handle:
                for start in range(0, file.rows, _BLOCK_ROWS):
                    lo, hi = np.searchsorted(wanted, [start, start + _BLOCK_ROWS])
                    if lo == hi:
                        continue
                    stop = int(wanted[hi - 1]) + 1
                    data = os.pread(handle.fileno(), (stop - start) * file.row_bytes, file.offset + start * file.row_bytes)
                    block = np.frombuffer(data, self.dtype).reshape(stop - start, file.width)
                    out[done:done + hi - lo] = block[wanted[lo:hi] - start, columns]
                    done += hi - lo
        return out


@dataclass
class SignatureShards:
    """Every shard's small per-row arrays in memory, and a reader for their signatures."""

    text_hash: np.ndarray
    n_shingles: np.ndarray
    signatures: SignatureReader


def load_shards(shard_dirs: Sequence[Path], *, text_hash: bool = True) -> SignatureShards:
    """The shards in row order, checked to tile the corpus without gaps; signatures stay on disk.

    ``text_hash=False`` leaves the exact-text hashes out (8 bytes per row), for jobs that only band signatures.
    """
    if not shard_dirs:
        raise ValueError("no signature shards given")
    metas = sorted(((json.loads((Path(d) / "shard.json").read_text()), Path(d)) for d in shard_dirs),
                   key=lambda item: item[0]["row_start"])
    expected = 0
    for meta, _ in metas:
        if meta["row_start"] != expected:
            raise ValueError(f"signature shards do not tile the corpus: expected a shard at row {expected}, "
                             f"found one at {meta['row_start']}")
        expected += meta["rows"]
    files = [_SignatureFile.open(d / "signature.npy", meta["row_start"]) for meta, d in metas]
    return SignatureShards(
        text_hash=np.concatenate([np.load(d / "text_hash.npy", allow_pickle=False) for _, d in metas]) if text_hash
        else np.empty(0, np.uint64),
        n_shingles=np.concatenate([np.load(d / "n_shingles.npy", allow_pickle=False) for _, d in metas]),
        signatures=SignatureReader(files),
    )
