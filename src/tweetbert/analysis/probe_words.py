"""The word lists the t-SNE probes embed: classes a model should keep apart if its representations mean anything.

Noun classes come from the config (shipped defaults in the schema); the character classes are derived here: every
hiragana and katakana letter, the lower-case Latin letters of romaji, and seeded samples of jōyō kanji and emoji.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np

from tweetbert.tokenization.train import joyo_kanji

HIRAGANA = tuple(chr(code) for code in range(0x3041, 0x3097))
KATAKANA = tuple(chr(code) for code in range(0x30A1, 0x30FB))
ROMAJI = tuple("abcdefghijklmnopqrstuvwxyz")
_EMOJI_BLOCKS = ((0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F900, 0x1F9FF))


def emoji_pool() -> list[str]:
    """Single-code-point pictographs named in this Python's Unicode database (so the pool is stable per version)."""
    return [chr(code) for low, high in _EMOJI_BLOCKS for code in range(low, high + 1)
            if unicodedata.category(chr(code)) == "So" and unicodedata.name(chr(code), "")]


def _sample(pool: Sequence[str], size: int, seed: int, stream: int) -> list[str]:
    if size > len(pool):
        raise ValueError(f"asked for {size} items from a pool of {len(pool)}")
    rng = np.random.default_rng([seed, stream])
    return [pool[i] for i in sorted(rng.choice(len(pool), size=size, replace=False))]


def probe_items(noun_classes: Mapping[str, Sequence[str]], *, n_kanji: int = 50, n_emoji: int = 50,
                seed: int = 0) -> list[tuple[str, str]]:
    """(class, item) pairs: the noun classes, then hiragana, katakana, romaji, kanji and emoji."""
    items = [(name, word) for name, words in noun_classes.items() for word in words]
    items += [("hiragana", char) for char in HIRAGANA]
    items += [("katakana", char) for char in KATAKANA]
    items += [("romaji", char) for char in ROMAJI]
    items += [("kanji", char) for char in _sample(sorted(joyo_kanji()), n_kanji, seed, 1)]
    items += [("emoji", char) for char in _sample(emoji_pool(), n_emoji, seed, 2)]
    seen: dict[str, str] = {}
    for name, item in items:
        if item in seen and seen[item] != name:
            raise ValueError(f"probe item {item!r} is in two classes: {seen[item]} and {name}")
        seen[item] = name
    return list(dict.fromkeys(items))
