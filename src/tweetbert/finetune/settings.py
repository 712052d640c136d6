"""Settings of scoring a kept model (config section ``sweep``), defaults from the config schema.

Kept apart from the fine-tuning code (torch, transformers) so the workflow and the CLI read them cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

from tweetbert.settings import mirrors, setting


@dataclass(frozen=True)
@mirrors("sweep")
class FinetuneSettings:
    """What scoring the kept best model depends on (the rest of the sweep's settings made it)."""

    max_length: int = setting()
    seed: int = setting(key="seed")
