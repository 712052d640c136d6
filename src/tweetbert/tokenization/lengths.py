"""Tweet lengths in tokens, and the ``max_seq_length`` pre-training uses.

Attention cost grows with the padded length, while tweets are short with a long tail; a maximum that covers
99.9 % of training tweets wastes almost no text yet keeps batches small. Lengths count ``[CLS]`` and ``[SEP]``
because the model sees them and they take positions too.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from tweetbert.corpus.io import split_text_batches
from tweetbert.plots.tokenizer import plot_length_histogram
from tweetbert.tokenization.fast import FastTokenizer, chunks, wordpiece_model
from tweetbert.tokenization.mecab import CORE_SPECIAL_TOKENS, SPECIAL_WORDS

_FLOAT_FORMAT = "%.6f"
_BATCH = 1024  # texts per call of a tokenizer loaded by AutoTokenizer
_CORPUS_BATCH = 4096  # tweets per streamed batch: a few dozen in flight stay well under 100 MB


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
        return [ids for batch in self.encode_batches(chunks(texts, _BATCH)) for ids in batch]

    def encode_batches(self, batches: Iterable[Sequence[str]]) -> Iterator[list[list[int]]]:
        """:meth:`encode` of each batch, batch by batch in input order: a corpus streams through."""
        if self._fast is not None:
            return self._fast.encode_batches(batches)
        return (self.tokenizer(list(batch), add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
                for batch in batches)

    def lengths(self, batches: Iterable[Sequence[str]]) -> Iterator[list[int]]:
        """Number of ids of each text, batch by batch; the fast path's workers never send the ids back."""
        if self._fast is not None:
            return self._fast.lengths(batches)
        return ([len(ids) for ids in batch] for batch in self.encode_batches(batches))


def corpus_lengths(corpus: Path, tokenizer: str | Path, split: str | None = "train", *, workers: int = 1,
                   batch_size: int = _CORPUS_BATCH) -> Counter:
    """Tweets per token length over one split, streamed: memory is a few batches and this histogram."""
    histogram: Counter = Counter()
    batches = split_text_batches(corpus, split, batch_size)
    with tqdm(desc="lengths", unit="tweet", mininterval=2.0, delay=2.0) as bar:
        for lengths in CorpusEncoder(tokenizer, workers).lengths(batches):
            histogram.update(lengths)
            bar.update(len(lengths))
    return histogram


def length_histogram(lengths: Sequence[int], coverage: float = 0.999) -> tuple[pd.DataFrame, int]:
    """:func:`histogram_table` of a list of lengths."""
    return histogram_table(Counter(int(length) for length in lengths), coverage)


def histogram_table(histogram: Mapping[int, int], coverage: float = 0.999) -> tuple[pd.DataFrame, int]:
    """Tweets per occurring length with the cumulative share, and the smallest length reaching ``coverage``."""
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage must be in (0, 1], not {coverage}")
    values = sorted(length for length, tweets in histogram.items() if tweets)
    if not values:
        raise ValueError("no lengths to summarise")
    counts = np.array([histogram[length] for length in values], dtype=np.int64)
    table = pd.DataFrame({"length": np.array(values, dtype=np.int64), "tweets": counts})
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
    histogram, max_length = histogram_table(corpus_lengths(corpus, tokenizer_dir, split, workers=workers), coverage)
    for path in (table, choice, plot):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    histogram.to_csv(table, sep="\t", index=False, float_format=_FLOAT_FORMAT, lineterminator="\n")
    decision = {"max_seq_length": max_length, "coverage": coverage, **length_summary(histogram)}
    Path(choice).write_text(json.dumps(decision, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    plot_length_histogram(histogram, max_length, coverage, plot)
    return max_length
