"""The word lists the t-SNE probes embed: classes a model should keep apart if its representations mean anything.

Noun classes come from the config (shipped defaults in the schema); the character classes are derived here: every
hiragana and katakana letter, the lower-case Latin letters of romaji, and seeded samples of jōyō kanji and emoji.
Probe sets group classes into the maps the study drew apart (nouns; basic and extended characters, with and without
emoji), so each map shows a handful of classes rather than every class at once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np

from tweetbert.errors import ConfigError
from tweetbert.tokenization.train import joyo_kanji

HIRAGANA = tuple(chr(code) for code in range(0x3041, 0x3097))
KATAKANA = tuple(chr(code) for code in range(0x30A1, 0x30FB))
ROMAJI = tuple("abcdefghijklmnopqrstuvwxyz")
CHARACTER_CLASSES = ("hiragana", "katakana", "romaji", "kanji", "emoji")
NOUNS = "nouns"
"""The probe-set entry that stands for every configured noun class."""
JOINT_SET = "all"
"""The joint map's name in the probes' tables: every class at once (reserved, not a configurable set name)."""
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


def resolve_sets(sets: Mapping[str, Sequence[str]], noun_classes: Mapping[str, Sequence[str]]
                 ) -> dict[str, list[str]]:
    """Each probe set's classes, ``nouns`` expanded to the noun classes; a ConfigError names a key that cannot work."""
    for name in noun_classes:
        if name == NOUNS or name in CHARACTER_CLASSES:
            raise ConfigError(f"probes.noun_classes.{name}", f"{name!r} names a probe class of its own; rename the "
                                                             "noun class")
    known = [NOUNS, *CHARACTER_CLASSES, *noun_classes]
    resolved: dict[str, list[str]] = {}
    for name, classes in sets.items():
        if name == JOINT_SET:
            raise ConfigError(f"probes.sets.{name}", f"{JOINT_SET!r} is the joint map's name; choose another")
        expanded: list[str] = []
        for i, entry in enumerate(classes):
            if entry not in known:
                raise ConfigError(f"probes.sets.{name}[{i}]", f"unknown probe class {entry!r} (known: "
                                                              f"{', '.join(known)})")
            expanded += list(noun_classes) if entry == NOUNS else [entry]
        resolved[name] = list(dict.fromkeys(expanded))
    return resolved
