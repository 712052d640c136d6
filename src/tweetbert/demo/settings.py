"""The demo stages' settings, defaults from the config schema.

Kept apart from the demo's generators (pandas) and its base model (torch, transformers) so the workflow and the
CLI read them cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

from tweetbert.settings import mirrors, setting


@dataclass(frozen=True)
@mirrors("demo")
class DemoDataSettings:
    n_tweets: int = setting()
    planted_task_texts: int = setting()
    seed: int = setting(key="seed")


@dataclass(frozen=True)
@mirrors("demo_base_model")
class DemoBaseModelSettings:
    """Size and training of the tiny demo base model (the keyword arguments of
    :func:`tweetbert.demo.base_model.build_demo_base_model`)."""

    vocab_size: int = setting()
    hidden_size: int = setting()
    num_layers: int = setting()
    num_heads: int = setting()
    intermediate_size: int = setting()
    max_position: int = setting()
    steps: int = setting()
    batch_size: int = setting()
    learning_rate: float = setting()
    seed: int = setting(key="seed")
