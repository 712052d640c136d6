"""The corpus stages' settings, defaults from the config schema; no numerical code here beyond LSH calibration.

Kept apart from the stages (pandas, pyarrow, MeCab) so the workflow and the CLI read them cheaply, and so stage
modules import their settings from one place instead of from each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from tweetbert.corpus.lsh import LshParams, optimal_lsh_params
from tweetbert.errors import ConfigError
from tweetbert.settings import mirrors, schema_node, setting, shared_schema

# Longest shingle n-gram: the schema's bound, which tweetbert.corpus.shingles has position weights for.
MAX_NGRAM: int = schema_node(shared_schema(), "dedup.ngram")["maximum"]


@dataclass(frozen=True)
@mirrors("raw")
class IngestSettings:
    """How ingest reads the raw table (``raw.path`` itself is the rule's input)."""

    format: str = setting()
    columns: dict[str, str] = setting()
    on_bad_row: str = setting()
    max_chars: int = setting()  # the longest post X allows (premium); anything longer is not one tweet


@dataclass(frozen=True)
@mirrors("normalize")
class NormalizeOptions:
    """Each switch of the normalisation, as in the config's ``normalize`` section."""

    nfkc: bool = setting()
    replace_urls: bool = setting()
    replace_mentions: bool = setting()
    keep_newlines: bool = setting()


@dataclass(frozen=True)
@mirrors("dedup")
class DedupParams:
    """Near-duplicate settings (the config's ``dedup`` section); bands and rows default to the optimum for the threshold."""

    ngram: int = setting()
    threshold: float = setting()
    num_perm: int = setting()
    bands: int | None = setting()
    rows: int | None = setting()
    verify: bool = setting()
    seed: int = setting(key="seed")

    def __post_init__(self) -> None:
        if not 1 <= self.ngram <= MAX_NGRAM:
            raise ConfigError("dedup.ngram", f"must be between 1 and {MAX_NGRAM}, not {self.ngram}")
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError("dedup.threshold", f"must be in (0, 1), not {self.threshold}")
        if (self.bands is None) != (self.rows is None):
            raise ConfigError("dedup.bands" if self.bands is None else "dedup.rows",
                              "set both dedup.bands and dedup.rows, or neither")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ConfigError("dedup.bands", f"bands x rows = {self.bands * self.rows} exceeds num_perm {self.num_perm}")

    @property
    def lsh(self) -> LshParams:
        if self.bands is not None and self.rows is not None:
            return LshParams(self.bands, self.rows)
        return optimal_lsh_params(self.threshold, self.num_perm)


@dataclass(frozen=True)
@mirrors("dedup")
class DedupSignatureSettings:
    """What a MinHash signature depends on, and nothing else: LSH-only changes never recompute signatures."""

    ngram: int = setting()
    num_perm: int = setting()
    seed: int = setting(key="seed")

    @property
    def params(self) -> DedupParams:
        return DedupParams(ngram=self.ngram, num_perm=self.num_perm, seed=self.seed)


@dataclass(frozen=True)
@mirrors("tune_dedup")
class TuneDedupSettings:
    """The grid tried, and the configured dedup setting marked in its plot (target/control are the rule's inputs)."""

    ngram_sizes: list[int] = setting()
    thresholds: list[float] = setting()
    num_perm: int = setting(key="dedup.num_perm")
    ngram: int = setting(key="dedup.ngram")
    threshold: float = setting(key="dedup.threshold")
    seed: int = setting(key="seed")


@dataclass(frozen=True)
@mirrors("balance")
class BalanceSettings:
    max_per_user: int = setting()
    seed: int = setting(key="seed")


@dataclass(frozen=True)
@mirrors("stats")
class CorpusStatsSettings:
    sample_size: int | None = setting()  # tweets per corpus; None: the smallest corpus's size
    ngram_sizes: list[int] = setting()
    seed: int = setting(key="seed")


@dataclass(frozen=True)
@mirrors("split")
class SplitSettings:
    """Shares of the splits (in the order they are filled) and the seed of the group order."""

    ratios: dict[str, float] = setting()
    seed: int = setting(key="seed")


@dataclass(frozen=True)
@mirrors("contamination")
class ContaminationSettings:
    """How many matched examples per task and split the report lists (``remove`` acts in the split stage)."""

    examples: int = setting()
