"""Tweet lengths in tokens, and the ``max_seq_length`` pre-training uses.

Attention cost grows with the padded length, while tweets are short with a long tail; a maximum that covers
99.9 % of training tweets wastes almost no text yet keeps batches small. Lengths count ``[CLS]`` and ``[SEP]``
because the model sees them and they take positions too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tweetbert.corpus.io import read_split_texts
from tweetbert.plots.tokenizer import plot_length_histogram
from tweetbert.settings import mirrors
from tweetbert.tokenization.fast import FastTokenizer, wordpiece_model
from tweetbert.tokenization.mecab import CORE_SPECIAL_TOKENS, SPECIAL_WORDS

_FLOAT_FORMAT = "%.6f"
_BATCH = 1024


@mirrors("tokenizer")
@dataclass(frozen=True)
class LengthHistogramSettings:
    length_coverage: float = 0.999  # share of tweets max_seq_length must fit


class CorpusEncoder:
    """Token ids of many texts for any tokenizer ``AutoTokenizer`` loads offline (a directory or a hub id).

    Our own MeCab/unidic-lite tokenizers go through :class:`FastTokenizer`; anything else (a hub model, a
    Japanese BERT without the ``[URL]``/``[USER]``/newline tokens) through the tokenizer itself, in batches, since
    only it knows how it splits those.
    """

    def __init__(self, name_or_path: str | Path, workers: int = 1):
        from transformers import AutoTokenizer

        self.name = str(name_or_path)
        self.tokenizer = AutoTokenizer.from_pretrained(self.name)
        self._fast = FastTokenizer(Path(self.name), workers) if self._fast_equivalent() else None

    def _fast_equivalent(self) -> bool:
        """Whether FastTokenizer gives this tokenizer's ids: same word splitter, same added tokens, same ids."""
        if not (Path(self.name) / "vocab.txt").is_file():
            return False
        tokenizer = self.tokenizer
        if (type(tokenizer).__name__ != "BertJapaneseTokenizer"
                or not (tokenizer.do_word_tokenize and tokenizer.word_tokenizer_type == "mecab")
                or not (tokenizer.do_subword_tokenize and tokenizer.subword_tokenizer_type == "wordpiece")
                or (tokenizer.mecab_kwargs or {}) != {"mecab_dic": "unidic_lite"}
                or tokenizer.lower_case or not tokenizer.word_tokenizer.normalize_text
                or set(tokenizer.added_tokens_encoder) != {*CORE_SPECIAL_TOKENS, *SPECIAL_WORDS}):
            return False
        return tokenizer.get_vocab() == wordpiece_model(Path(self.name)).get_vocab(with_added_tokens=True)

    @property
    def uses_fast_path(self) -> bool:
        return self._fast is not None

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids with ``[CLS]``/``[SEP]`` (or the model's own special tokens), never truncated."""
        if self._fast is not None:
            return self._fast.encode(texts)
        out: list[list[int]] = []
        for start in range(0, len(texts), _BATCH):
            batch = list(texts[start:start + _BATCH])
            out.extend(self.tokenizer(batch, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])
        return out


def length_histogram(lengths: Sequence[int], coverage: float = 0.999) -> tuple[pd.DataFrame, int]:
    """Tweets per occurring length with the cumulative share, and the smallest length reaching ``coverage``."""
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage must be in (0, 1], not {coverage}")
    if len(lengths) == 0:
        raise ValueError("no lengths to summarise")
    values, counts = np.unique(np.asarray(lengths, dtype=np.int64), return_counts=True)
    table = pd.DataFrame({"length": values, "tweets": counts.astype(np.int64)})
    table["cumulative_share"] = table["tweets"].cumsum() / int(counts.sum())
    return table, quantile_length(table, coverage)


def quantile_length(table: pd.DataFrame, share: float) -> int:
    """Smallest length whose cumulative share reaches ``share``: a length that occurs, unlike interpolated quantiles."""
    reached = table["cumulative_share"].to_numpy() >= share
    return int(table["length"].iloc[int(np.argmax(reached)) if reached.any() else -1])


def length_summary(table: pd.DataFrame) -> dict[str, float | int]:
    """Mean, median, tail percentiles and maximum of a length histogram."""
    total = int(table["tweets"].sum())
    mean = float((table["length"] * table["tweets"]).sum() / total)
    return {"tweets": total, "mean": round(mean, 4), "p50": quantile_length(table, 0.5),
            "p90": quantile_length(table, 0.9), "p99": quantile_length(table, 0.99),
            "max": int(table["length"].iloc[-1])}


def write_length_histogram(corpus: Path, tokenizer_dir: Path, table: Path, choice: Path, plot: Path, *,
                           coverage: float = 0.999, split: str | None = "train", workers: int = 1) -> int:
    """Writes the length histogram (TSV), the chosen ``max_seq_length`` with summary numbers (JSON) and the figure."""
    texts = read_split_texts(corpus, split)
    lengths = [len(ids) for ids in CorpusEncoder(tokenizer_dir, workers).encode(texts)]
    histogram, max_length = length_histogram(lengths, coverage)
    for path in (table, choice, plot):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    histogram.to_csv(table, sep="\t", index=False, float_format=_FLOAT_FORMAT, lineterminator="\n")
    decision = {"max_seq_length": max_length, "coverage": coverage, **length_summary(histogram)}
    Path(choice).write_text(json.dumps(decision, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    plot_length_histogram(histogram, max_length, coverage, plot)
    return max_length
