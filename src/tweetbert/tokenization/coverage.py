"""Character coverage: which characters earn a place in the WordPiece alphabet.

Every alphabet character costs a vocabulary slot and an embedding row, and Twitter text has a long tail of
characters seen once (rare kanji, exotic emoji, other scripts). Ranking characters by how many tweets use them,
rather than by raw counts, keeps one user's repeated spam characters from buying a slot; the cut-off is the
smallest prefix of that ranking covering a given share of all character occurrences, so what falls outside
becomes ``[UNK]`` on a known, small share of the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from tweetbert.corpus.io import BATCH_ROWS, split_text_batches
from tweetbert.corpus.normalize import PLACEHOLDERS

FAMILIES = ("hiragana", "katakana", "kanji", "romaji", "digit", "pictograph", "other script",
            "punctuation/symbol")
SPECIAL_FAMILY = "special"
_PLACEHOLDER = re.compile("|".join(re.escape(token) for token in PLACEHOLDERS))


# Bracketed ASCII names are the special tokens of BERT vocabularies ([UNK], [CLS], [URL], [unused0]…):
# MeCab always splits a bracket from the word after it, so no ordinary vocabulary entry looks like this.
SPECIAL_TOKEN = re.compile(r"\[[A-Za-z][A-Za-z0-9_]*\]")
_FLOAT_FORMAT = "%.6f"

# Emoji and the symbol blocks emoji are drawn from, plus the invisible parts of emoji sequences
# (zero-width joiner, variation selectors, keycap, tag characters), which never occur on their own.
_PICTOGRAPH_RANGES = (
    (0x1F000, 0x1FAFF),  # mahjong/cards, enclosed supplement, flags, pictographs, emoticons, transport, …
    (0x2600, 0x27BF),  # miscellaneous symbols, dingbats
    (0x2B00, 0x2BFF),  # miscellaneous symbols and arrows (⭐, ⭕, ⬛)
    (0x200D, 0x200D),  # zero-width joiner
    (0x20E3, 0x20E3),  # combining enclosing keycap
    (0xFE00, 0xFE0F),  # variation selectors
    (0xE0000, 0xE007F),  # tags (subdivision flags)
    (0xE0100, 0xE01EF),  # variation selectors supplement
)
_KANJI_RANGES = (
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3400, 0x4DBF),  # extension A
    (0x4E00, 0x9FFF),  # unified ideographs
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x20000, 0x3FFFF),  # extensions B and later
)
_KATAKANA_RANGES = ((0x30A0, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))
_HIRAGANA_RANGES = ((0x3040, 0x309F),)


def _in(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= code <= high for low, high in ranges)


@lru_cache(maxsize=65_536)
def char_family(char: str) -> str:
    """Family of one character (or ``special`` for a bracketed special token such as ``[UNK]``).

    Kana punctuation (``・``, ``゠``) counts as punctuation, the prolonged sound mark ``ー`` as katakana. Only ASCII
    letters are ``romaji``: accented Latin letters, like Hangul or Cyrillic, are ``other script`` since a
    Japanese vocabulary treats them as foreign characters too.
    """
    if len(char) != 1:
        if SPECIAL_TOKEN.fullmatch(char):
            return SPECIAL_FAMILY
        raise ValueError(f"expected one character or a special token, got {char!r}")
    code = ord(char)
    category = unicodedata.category(char)
    if _in(code, _PICTOGRAPH_RANGES):
        return "pictograph"
    if _in(code, _HIRAGANA_RANGES) and not category.startswith("P"):
        return "hiragana"
    if _in(code, _KATAKANA_RANGES) and not category.startswith("P"):
        return "katakana"
    if _in(code, _KANJI_RANGES):
        return "kanji"
    if char.isascii() and char.isalpha():
        return "romaji"
    if category == "Nd":
        return "digit"
    if category[0] in "LM":
        return "other script"
    return "punctuation/symbol"


def codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


@dataclass
class CharCounts:
    """Tweets containing each character and its occurrences: all the ranking needs, however many tweets stream by.

    Texts are NFKC-normalised as the tokenizer does before MeCab, so the alphabet holds the characters the
    WordPiece model will actually see; placeholders are blanked since they are whole tokens, never spelt out.
    """

    tweets: Counter = field(default_factory=Counter)
    occurrences: Counter = field(default_factory=Counter)
    texts: int = 0

    def add(self, texts: Iterable[str]) -> None:
        normalized = [unicodedata.normalize("NFKC", _PLACEHOLDER.sub(" ", text)) for text in texts]
        self.occurrences.update("".join(normalized))
        self.tweets.update(chain.from_iterable(set(text) for text in normalized))
        self.texts += len(normalized)


def corpus_char_counts(corpus: Path, split: str | None = "train", batch_size: int = BATCH_ROWS) -> CharCounts:
    """Character counts of one split, read batch by batch: memory is one batch and the counters."""
    counts = CharCounts()
    with tqdm(desc="characters", unit="tweet", mininterval=2.0, delay=2.0) as bar:
        for texts in split_text_batches(corpus, split, batch_size):
            counts.add(texts)
            bar.update(len(texts))
    return counts


def char_coverage(texts: Iterable[str], coverage: float = 0.99) -> tuple[pd.DataFrame, list[str]]:
    """:func:`rank_chars` of a list of texts (small samples, tests)."""
    counts = CharCounts()
    counts.add(texts)
    return rank_chars(counts, coverage)


def rank_chars(counts: CharCounts, coverage: float = 0.99) -> tuple[pd.DataFrame, list[str]]:
    """Characters ranked by tweets containing them, and the smallest prefix covering ``coverage`` of occurrences.

    Ties are broken by occurrences, then code point, for a reproducible order whatever order the texts came in.
    The table also carries ``rank`` (1-based) and ``selected`` so the figure can be redrawn from the TSV alone.
    """
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage must be in (0, 1], not {coverage}")
    tweets, occurrences = counts.tweets, counts.occurrences
    chars = sorted((char for char in tweets if not char.isspace()),
                   key=lambda char: (-tweets[char], -occurrences[char], ord(char)))
    table = pd.DataFrame({
        "rank": pd.Series(range(1, len(chars) + 1), dtype="int64"),
        "char": pd.Series(chars, dtype="object"),
        "codepoint": pd.Series([codepoint(char) for char in chars], dtype="object"),
        "family": pd.Series([char_family(char) for char in chars], dtype="object"),
        "tweets": pd.Series([tweets[char] for char in chars], dtype="int64"),
        "occurrences": pd.Series([occurrences[char] for char in chars], dtype="int64"),
    })
    total = int(table["occurrences"].sum())
    table["cumulative_share"] = table["occurrences"].cumsum() / total if total else pd.Series(dtype="float64")
    # Smallest prefix reaching the target: every row before the first one at or above it, plus that row.
    n_selected = int((table["cumulative_share"] < coverage).sum()) + 1 if total else 0
    table["selected"] = table["rank"] <= n_selected
    return table, chars[:n_selected]


def write_char_coverage(corpus: Path, table: Path, chars: Path, plot: Path, *, coverage: float = 0.99,
                        split: str | None = "train") -> dict:
    """Writes the ranking (TSV), the selected alphabet (one character per line, rank order) and its figure.

    Only the ``split`` rows count by default: characters seen only in held-out tweets must not shape the
    alphabet, or the held-out unknown-token rate would be flattered.
    """
    counts = corpus_char_counts(corpus, split)
    ranking, selected = rank_chars(counts, coverage)
    for path in (table, chars, plot):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    ranking.to_csv(table, sep="\t", index=False, float_format=_FLOAT_FORMAT, lineterminator="\n")
    Path(chars).write_text("".join(f"{char}\n" for char in selected), encoding="utf-8")
    from tweetbert.plots.tokenizer import plot_char_coverage  # matplotlib only where a figure is drawn

    plot_char_coverage(ranking, coverage, plot)
    covered = float(ranking["cumulative_share"].iloc[len(selected) - 1]) if selected else 0.0
    return {"tweets": counts.texts, "n_chars_total": len(ranking), "n_selected": len(selected),
            "coverage": coverage, "covered_share": covered}
