"""Errors that tell the user exactly where their input went wrong."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad input data, located by file, row (1-based line or record number) and column."""

    def __init__(self, path: str | Path, message: str, *, row: int | None = None, column: str | None = None):
        self.path = str(path)
        self.row = row
        self.column = column
        where = self.path
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")


class ConfigError(ValueError):
    """A configuration value that cannot work, named by its key path (e.g. ``dedup.threshold``)."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"config key {key!r}: {message}")


class CheckFailed(RuntimeError):
    """A stage's own check of its output failed (e.g. duplicates leaking across splits)."""
