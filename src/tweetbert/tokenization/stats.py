"""How the Twitter tokenizers differ from the base model's, on held-out tweets.

A new vocabulary is only worth its cost (embeddings migrated or learnt afresh) if it splits tweets into fewer
pieces, loses less text to ``[UNK]`` and spends its slots on what tweets contain (emoji, kana slang); its overlap
with the base vocabulary says how many embeddings can be carried over from the base model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tweetbert.corpus.io import read_split_texts
from tweetbert.plots.tokenizer import plot_length_distributions, plot_overlap, plot_vocab_composition
from tweetbert.tokenization.coverage import FAMILIES, SPECIAL_FAMILY, SPECIAL_TOKEN, char_family
from tweetbert.tokenization.lengths import CorpusEncoder, length_histogram, quantile_length
from tweetbert.tokenization.mecab import JapaneseWords

MIXED_FAMILY = "mixed"
TOKEN_FAMILIES = (*FAMILIES, MIXED_FAMILY, SPECIAL_FAMILY)
_FLOAT_FORMAT = "%.6f"


def token_family(token: str, special_tokens: set[str]) -> str:
    """Family of a vocabulary entry: that of all its characters (``##`` stripped), ``mixed`` if they differ."""
    if token in special_tokens:
        return SPECIAL_FAMILY
    body = token[2:] if token.startswith("##") and len(token) > 2 else token
    families = {char_family(char) for char in body}
    return families.pop() if len(families) == 1 else MIXED_FAMILY


def _vocabulary(encoder: CorpusEncoder) -> tuple[dict[str, int], set[str]]:
    """Token → id over every id the model embeds (added tokens included), and its special tokens.

    Bracketed names count as special even where the tokenizer does not declare them (``[URL]`` in a vocabulary
    saved without it as an added token), so every table leaves out the same entries.
    """
    vocab = encoder.tokenizer.get_vocab()
    bracketed = {token for token in vocab if SPECIAL_TOKEN.fullmatch(token)}
    return vocab, set(encoder.tokenizer.all_special_tokens) | bracketed


def tokenizer_stats(texts: Sequence[str], tokenizers: Mapping[str, Path | str], base: str,
                    workers: int = 1) -> dict[str, pd.DataFrame]:
    """Summary, vocabulary composition and length distribution of each tokenizer on the same texts.

    ``base`` names the entry of ``tokenizers`` the others are compared with (it gets a row of its own, overlap 1).
    Rates count ``[UNK]`` among all non-special tokens; ``tokens_per_word`` divides the tokens of a text (without
    ``[CLS]``/``[SEP]``) by its MeCab words, placeholders and newlines counting as one word each, so a tokenizer
    that shreds ``[URL]`` pays for it.
    """
    if base not in tokenizers:
        raise ValueError(f"base {base!r} is not one of the tokenizers ({', '.join(tokenizers)})")
    if len(texts) == 0:
        raise ValueError("no texts to tokenize")
    n_words = sum(len(words) for words in map(JapaneseWords().words, texts))
    encoders = {name: CorpusEncoder(path, workers) for name, path in tokenizers.items()}
    base_vocab, base_special = _vocabulary(encoders[base])
    base_regular = set(base_vocab) - base_special
    summary, composition, lengths = [], [], []
    for name, encoder in encoders.items():
        vocab, special = _vocabulary(encoder)
        regular = set(vocab) - special
        special_ids = {vocab[token] for token in special if token in vocab}
        unk_id = encoder.tokenizer.unk_token_id
        encoded = encoder.encode(texts)
        counts: Counter = Counter()
        for ids in encoded:
            counts.update(ids)
        n_regular = sum(count for token_id, count in counts.items() if token_id not in special_ids)
        n_unk = counts.get(unk_id, 0)
        used = sum(1 for token_id in counts if token_id not in special_ids)
        histogram, _ = length_histogram([len(ids) for ids in encoded], 1.0)
        n_added = encoder.tokenizer.num_special_tokens_to_add(pair=False)
        n_tokens = sum(len(ids) for ids in encoded) - n_added * len(encoded)
        summary.append({
            "tokenizer": name,
            "vocab_size": len(vocab),
            "unk_rate": n_unk / (n_regular + n_unk) if n_regular + n_unk else 0.0,
            "mean_length": float(np.average(histogram["length"], weights=histogram["tweets"])),
            "p50_length": quantile_length(histogram, 0.5),
            "p90_length": quantile_length(histogram, 0.9),
            "p99_length": quantile_length(histogram, 0.99),
            "vocab_used": used / len(regular) if regular else 0.0,
            "overlap_with_base": len(regular & base_regular) / len(regular) if regular else 0.0,
            "tokens_per_word": n_tokens / n_words if n_words else 0.0,
        })
        families = Counter(token_family(token, special) for token in vocab)
        for family in TOKEN_FAMILIES:
            composition.append({"tokenizer": name, "family": family, "entries": families[family],
                                "share": families[family] / len(vocab)})
        lengths.append(histogram.assign(tokenizer=name)[["tokenizer", "length", "tweets", "cumulative_share"]])
    return {"summary": pd.DataFrame(summary), "composition": pd.DataFrame(composition),
            "lengths": pd.concat(lengths, ignore_index=True)}


TOKENIZER_STATS_OUTPUTS = {
    "summary": "TSV per tokenizer: unknown rate, lengths, vocabulary use and overlap with the base",
    "composition": "TSV of each vocabulary's composition by script",
    "lengths": "TSV of the tokenized length distributions",
    "composition_plot": "PNG of the vocabulary composition",
    "overlap_plot": "PNG of the overlap with the base and the unknown rate",
    "lengths_plot": "PNG of the length distributions",
}


def write_tokenizer_stats(corpus: Path, tokenizers: Mapping[str, Path | str], base: str, paths: Mapping[str, Path],
                          *, split: str = "validation", workers: int = 1) -> dict[str, Path]:
    """Writes the tables and their figures at ``paths`` (:data:`TOKENIZER_STATS_OUTPUTS`); returns them.

    Held-out tweets by default: on the training split the new tokenizers would look better than they are.
    """
    paths = {name: Path(paths[name]) for name in TOKENIZER_STATS_OUTPUTS}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    tables = tokenizer_stats(read_split_texts(corpus, split), tokenizers, base, workers)
    for name, table in tables.items():
        table.to_csv(paths[name], sep="\t", index=False, float_format=_FLOAT_FORMAT, lineterminator="\n")
    plot_vocab_composition(tables["composition"], paths["composition_plot"])
    plot_overlap(tables["summary"], base, paths["overlap_plot"])
    plot_length_distributions(tables["lengths"], paths["lengths_plot"])
    return paths
