"""The analyses' settings, defaults from the config schema.

Kept apart from the analyses (torch, transformers, pandas) so the workflow and the CLI read them cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

from tweetbert.settings import mirrors, setting


@dataclass(frozen=True)
@mirrors("probes")
class ProbeSettings:
    """The t-SNE probe's word classes and sets (no default here: the schema's lists are the study's choice)."""

    noun_classes: dict[str, list[str]]
    sets: dict[str, list[str]]
    n_kanji: int = setting()
    n_emoji: int = setting()
    seed: int = setting(key="seed")


@dataclass(frozen=True)
@mirrors("probes")
class TopKSettings:
    top_k: list[int] = setting()
    max_examples: int | None = setting()
    max_length: int = setting()
    seed: int = setting(key="seed")


@dataclass(frozen=True)
@mirrors("selection")
class SelectionSettings:
    target_tasks: list[str] = setting(key="target_tasks")
    rule: str = setting()
    require_beats: list[str] = setting()
    bootstrap: int = setting()
    seed: int = setting(key="seed")


@dataclass(frozen=True)
@mirrors("downstream")
class DownstreamSettings:
    tasks: list[str] = setting()
    controls: list[str] | None = setting()  # None: the controls that are the base model (the workflow resolves them)
    bootstrap: int = setting(key="selection.bootstrap")
    seed: int = setting(key="seed")


@dataclass(frozen=True)
@mirrors("acceptability")
class AcceptabilitySheetSettings:
    """The kit's examples and annotators (filled_sheets are the report's inputs)."""

    ks: list[int] = setting()
    per_k: int = setting()
    min_tokens: int = setting()
    max_tokens: int = setting()
    annotators: list[str] = setting()
    seed: int = setting(key="seed")
