"""The tokenizer stages' settings (config section ``tokenizer``), defaults from the config schema.

Kept apart from the stages (tokenizers, MeCab, transformers) so the workflow and the CLI read them cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

from tweetbert.settings import mirrors, setting


@dataclass(frozen=True)
@mirrors("tokenizer")
class CharCoverageSettings:
    char_coverage: float = setting()  # share of character occurrences the alphabet covers


@dataclass(frozen=True)
@mirrors("tokenizer")
class TokenizerTrainSettings:
    vocab_size: int = setting()
    min_frequency: int = setting()  # fewest occurrences of a merged piece


@dataclass(frozen=True)
@mirrors("tokenizer")
class LengthHistogramSettings:
    length_coverage: float = setting()  # share of tweets max_seq_length must fit


@dataclass(frozen=True)
@mirrors("tokenizer")
class TaskVocabularySettings:
    task_texts: int | None = setting()  # texts per task, sampled over its splits; None: all
    seed: int = setting(key="seed")
