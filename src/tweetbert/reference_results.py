"""The reference study's published results, kept as data (``data/reference_results.yaml``) with their sources,
so the selection, downstream, top-K and acceptability reports compare against one set of numbers."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def reference_results() -> dict[str, Any]:
    """The whole file: ``target_tasks``, ``downstream``, ``topk_accuracy`` and ``acceptability``."""
    text = resources.files("tweetbert").joinpath("data/reference_results.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)
