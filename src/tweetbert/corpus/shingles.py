"""Word n-gram shingles of MeCab tokens, as 64-bit hashes in CSR form.

Generic dedup tools split Japanese on ``\\W``, which turns whole runs of kana and kanji into one "word"; shingling
MeCab tokens is what makes near-duplicate detection meaningful for Japanese. Placeholders (``[URL]``,
``[USER]``) are left out, otherwise unrelated tweets that both carry a link would share shingles.

Hashes are computed with numpy over a whole batch: the batch's MeCab output is one array of code points, a token's
hash a mixed sum of its (code point, position) hashes, and an n-gram's a position-weighted sum of token hashes,
so no per-token or per-shingle Python work is done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tweetbert.corpus.normalize import PLACEHOLDERS

# Whether a code point is one str.split() splits on; all of those lie below U+3001, so every code point from
# U+3001 on is looked up at the table's last entry (U+3001, not whitespace).
_WHITESPACE = np.array([chr(code).isspace() for code in range(0x3002)], dtype=bool)
_CHAR_POSITION_STEP = np.uint64(0xD1B54A32D192ED03)
_TOKEN_LENGTH_STEP = np.uint64(0x8CB92BA72F3D8DD7)
# Odd 64-bit constants weighting each position of an n-gram (so token order matters).
_POSITION_WEIGHTS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
     0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9,
     0x2545F4914F6CDD1D, 0x9FB21C651E98DF25],
    dtype=np.uint64,
)
MAX_NGRAM = len(_POSITION_WEIGHTS)
_BATCH_SEPARATOR = "\x00"


def _mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the bits of a weighted sum over the whole word."""
    with np.errstate(over="ignore"):
        values = values ^ (values >> np.uint64(30))
        values = values * np.uint64(0xBF58476D1CE4E5B9)
        values = values ^ (values >> np.uint64(27))
        values = values * np.uint64(0x94D049BB133111EB)
        return values ^ (values >> np.uint64(31))


class MecabWords:
    """MeCab words for shingling; placeholders are blanked, not kept as words, so links shared by unrelated tweets
    make no shingles (see the module docstring)."""

    def __init__(self) -> None:
        from tweetbert.mecab import mecab_tagger

        self._parse = mecab_tagger().parse

    def parse(self, text: str) -> str:
        """MeCab's space-separated words of the text, placeholders left out."""
        for placeholder in PLACEHOLDERS:
            text = text.replace(placeholder, " ")
        return self._parse(text)

    def parse_all(self, texts: Sequence[str]) -> list[str]:
        """:meth:`parse` of each text; the placeholders are blanked in one pass over the batch joined by NUL (no
        placeholder contains one), and text by text only in a batch whose texts contain NUL themselves."""
        joined = _BATCH_SEPARATOR.join(texts)
        for placeholder in PLACEHOLDERS:
            joined = joined.replace(placeholder, " ")
        cleaned = joined.split(_BATCH_SEPARATOR) if texts else []
        if len(cleaned) != len(texts):
            return [self.parse(text) for text in texts]
        return list(map(self._parse, cleaned))

    def words(self, text: str) -> list[str]:
        return self.parse(text).split()


def token_hashes(parsed: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic 64-bit hashes of the whitespace-separated tokens of each text (as ``str.split()`` cuts them),
    in order, and each text's token count; the same in every process and run, unlike ``hash()``."""
    text_chars = np.fromiter(map(len, parsed), dtype=np.int64, count=len(parsed))
    codes = np.frombuffer(" ".join(parsed).encode("utf-32-le"), dtype=np.uint32)
    in_token = ~_WHITESPACE[np.minimum(codes, len(_WHITESPACE) - 1)]
    starts = in_token.copy()
    starts[1:] &= ~in_token[:-1]
    chars = np.flatnonzero(in_token)
    first_char = np.flatnonzero(starts[chars])  # index into chars of each token's first character
    token_lengths = np.diff(first_char, append=len(chars))
    position = np.arange(len(chars), dtype=np.int64) - np.repeat(first_char, token_lengths)
    with np.errstate(over="ignore"):
        char_hashes = _mix64(codes[chars].astype(np.uint64) + position.astype(np.uint64) * _CHAR_POSITION_STEP)
        sums = np.add.reduceat(char_hashes, first_char) if len(chars) else np.empty(0, np.uint64)
        hashes = _mix64(sums + token_lengths.astype(np.uint64) * _TOKEN_LENGTH_STEP)
    # The separator after text i (or the end of the joined string) is at code point text_end[i].
    text_end = np.cumsum(text_chars + 1) - 1
    text_of_token = np.searchsorted(text_end, chars[first_char], side="right")
    return hashes, np.bincount(text_of_token, minlength=len(parsed)).astype(np.int64)


@dataclass
class ShingleBatch:
    """Shingle hashes of a batch of documents in CSR form: document ``d`` owns ``hashes[offsets[d]:offsets[d+1]]``."""

    hashes: np.ndarray
    offsets: np.ndarray

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)


def ngram_hashes(token_hashes: np.ndarray, lengths: np.ndarray, n: int) -> ShingleBatch:
    """Hashes every word n-gram of each document; a document shorter than ``n`` words is one shingle of all of them."""
    if not 1 <= n <= MAX_NGRAM:
        raise ValueError(f"n-gram size must be between 1 and {MAX_NGRAM}, not {n}")
    lengths = np.asarray(lengths, dtype=np.int64)
    n_docs = len(lengths)
    starts = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    total = int(starts[-1])
    doc_of_token = np.repeat(np.arange(n_docs), lengths)
    position = np.arange(total, dtype=np.int64) - starts[:-1][doc_of_token]
    x = token_hashes.astype(np.uint64, copy=False)

    long_docs = lengths >= n
    # Full windows: a window starting at token p is valid when it ends inside p's document.
    window_ok = np.zeros(total, dtype=bool)
    if total >= n:
        window_ok[: total - n + 1] = (position[: total - n + 1] + n) <= lengths[doc_of_token[: total - n + 1]]
    window_start = np.flatnonzero(window_ok)
    with np.errstate(over="ignore"):
        acc = np.zeros(len(window_start), dtype=np.uint64)
        for j in range(n):
            acc += x[window_start + j] * _POSITION_WEIGHTS[j]
        acc += np.uint64(n)
    window_hashes = _mix64(acc)
    window_doc = doc_of_token[window_start]

    # Short documents (1 <= length < n): one shingle of all their tokens.
    short = np.flatnonzero((~long_docs) & (lengths > 0))
    if len(short):
        idx = np.flatnonzero(~long_docs[doc_of_token])
        with np.errstate(over="ignore"):
            weighted = x[idx] * _POSITION_WEIGHTS[position[idx]]
        sums = np.add.reduceat(weighted, np.searchsorted(idx, starts[short]))
        with np.errstate(over="ignore"):
            short_hashes = _mix64(sums + lengths[short].astype(np.uint64))
        all_hashes = np.concatenate([window_hashes, short_hashes])
        all_docs = np.concatenate([window_doc, short])
        order = np.argsort(all_docs, kind="stable")
        all_hashes, all_docs = all_hashes[order], all_docs[order]
    else:
        all_hashes, all_docs = window_hashes, window_doc
    counts = np.bincount(all_docs, minlength=n_docs)
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return ShingleBatch(hashes=all_hashes, offsets=offsets)


def shingle_texts(texts: Sequence[str], n: int, words: MecabWords | None = None) -> ShingleBatch:
    """MeCab-tokenises texts and returns their n-gram shingle hashes."""
    hashes, lengths = token_hashes((words or MecabWords()).parse_all(texts))
    return ngram_hashes(hashes, lengths, n)


def shingle_sets(texts: Sequence[str], n: int) -> list[set[tuple[str, ...]]]:
    """Readable shingles (tuples of words) per text, for tests, calibration and peers in benchmarks."""
    words = MecabWords()
    out = []
    for text in texts:
        doc = words.words(text)
        if not doc:
            out.append(set())
        elif len(doc) < n:
            out.append({tuple(doc)})
        else:
            out.append({tuple(doc[i : i + n]) for i in range(len(doc) - n + 1)})
    return out
