"""The config schema, shipped as package data: the one place for config keys, defaults and descriptions.

A module of its own, importing nothing of the package, so that both the config checks and the stage settings
(whose CLI help comes from the descriptions) can read it without importing each other.
"""

from __future__ import annotations

import functools
from importlib import resources

import yaml

SCHEMA_RESOURCE = "config.schema.yaml"


@functools.cache
def _schema_text() -> str:
    return resources.files("tweetbert").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")


def load_schema() -> dict:
    """The schema as a fresh dict per call (callers may fill or change it), read via importlib.resources so a
    non-editable install has it too."""
    return yaml.safe_load(_schema_text())
