"""The report's one palette: every chart takes a model's, a corpus's and a word class's colour from here.

A reader learns a colour once: the adapted model is orange and the base model blue in every chart (a published row
the pastel shade of the model it stands for), each corpus keeps one colour wherever corpora are compared (never the
models' blue or orange, so a tokenizer chart can show the base tokenizer beside the corpora's), and each probe class
keeps one colour on the joint t-SNE map and on every per-set map. Colours are fixed by name, never by the order
things happen to appear in, which is what made the same corpus orange in one chart and blue in another. Black marks
the [UNK] items of a t-SNE map and grey a training loss: no class, corpus or model is drawn in either.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet

import seaborn as sns

BASE = "#1f77b4"  # tab10 blue
ADAPTED = "#ff7f0e"  # tab10 orange
PUBLISHED_SHADE = {BASE: "#a1c9f4", ADAPTED: "#ffb482"}  # seaborn pastel of the same hue
OTHER_MODELS = ("#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")  # tab10, less grey
OTHER_PUBLISHED = ("#8de5a1", "#ff9f9b", "#d0bbff", "#debb9b", "#fab0e4", "#fffea3", "#b9f2f0")  # their pastels

CORPORA = {"dedup": "#1b9e77", "balanced": "#7570b3", "raw": "#a6761d"}  # Dark2: none is a model's colour
OTHER_CORPORA = ("#e7298a", "#66a61e", "#e6ab02")

CHARACTER_CLASSES = {"hiragana": "#d62728", "katakana": "#9467bd", "kanji": "#8c564b", "romaji": "#bcbd22",
                     "emoji": "#e377c2"}
NOUN_CLASSES = ("#2ca02c", "#17becf", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5")
FAMILIES = {**CHARACTER_CLASSES, "pictograph": CHARACTER_CLASSES["emoji"], "digit": "#9edae5",
            "other script": "#dbdb8d", "punctuation/symbol": "#c7c7c7", "mixed": "#f7b6d2", "special": "#7f7f7f"}

UNKNOWN_MARKER = "#000000"  # [UNK] items on a t-SNE map: a black cross in the legend, no class is black
TRAIN_LOSS = "#9e9e9e"  # the noisy training loss behind a run's validation loss
HIGHLIGHT = "crimson"  # the ring around the selected or configured point
CONTROL_MARKER = "#000000"  # the controls among candidates coloured by corpus


def _by_name(name: str, pool: Sequence[str], taken: set[str]) -> str:
    """A colour from ``pool`` fixed by the name's hash (so it does not depend on what else a chart shows), moved on
    to the next free one only where the chart already uses it."""
    start = zlib.crc32(name.encode("utf-8")) % len(pool)
    for step in range(len(pool)):
        colour = pool[(start + step) % len(pool)]
        if colour not in taken:
            return colour
    extra = sns.color_palette("husl", len(taken) + 1).as_hex()
    return next(colour for colour in extra if colour not in taken)


def model_colours(names: Iterable[str], published: AbstractSet[str] = frozenset(),
                  adapted: AbstractSet[str] = frozenset()) -> dict[str, str]:
    """One colour per model in every chart: the adapted model orange, the base model blue, other controls a colour
    fixed by their name; a published row takes the pastel shade of the model it stands for (the study's tweet model
    orange, Japanese BERT blue)."""
    colours: dict[str, str] = {}
    names = list(dict.fromkeys(names))
    for name in names:
        lower = name.lower().removeprefix("published: ")
        if name in published:
            if lower.startswith("tweet model"):
                colours[name] = PUBLISHED_SHADE[ADAPTED]
            elif "japanese bert" in lower:
                colours[name] = PUBLISHED_SHADE[BASE]
        elif name in adapted or lower.startswith("adapted"):
            colours[name] = ADAPTED
        elif lower == "base":
            colours[name] = BASE
    for name in names:
        if name not in colours:
            pool = OTHER_PUBLISHED if name in published else OTHER_MODELS
            colours[name] = _by_name(name, pool, set(colours.values()))
    return {name: colours[name] for name in names}


def corpus_colours(names: Iterable[str]) -> dict[str, str]:
    """Each corpus's own colour (raw, dedup, balanced are fixed; any other is fixed by its name)."""
    names = list(dict.fromkeys(names))  # read twice below: a generator would be empty the second time
    colours = {name: CORPORA[name] for name in names if name in CORPORA}
    for name in names:
        if name not in colours:
            colours[name] = _by_name(name, OTHER_CORPORA, set(colours.values()) | set(CORPORA.values()))
    return colours


def tokenizer_colours(names: Iterable[str], base: str = "base") -> dict[str, str]:
    """A tokenizer takes its model's or its corpus's colour: the base tokenizer blue, each corpus's its corpus's."""
    names = list(dict.fromkeys(names))
    colours = corpus_colours(name for name in names if name != base)
    return {name: BASE if name == base else colours[name] for name in names}


def class_colours(classes: Sequence[str]) -> dict[str, str]:
    """Probe-class colours: the character classes fixed by name, the noun classes by their place in ``classes``
    (pass every class of the probe, not one set's, so a class keeps its colour on every map)."""
    colours = {name: CHARACTER_CLASSES[name] for name in classes if name in CHARACTER_CLASSES}
    nouns = [name for name in dict.fromkeys(classes) if name not in CHARACTER_CLASSES]
    extra = [colour for colour in sns.color_palette("husl", len(nouns)).as_hex() if colour not in colours.values()]
    pool = list(NOUN_CLASSES) + extra
    colours.update(zip(nouns, pool))
    return {name: colours[name] for name in dict.fromkeys(classes)}


def family_colours(families: Iterable[str]) -> dict[str, str]:
    """Character families of a vocabulary: a family named like a probe class takes that class's colour."""
    names = list(dict.fromkeys(families))
    colours = {name: FAMILIES[name] for name in names if name in FAMILIES}
    for name in names:
        if name not in colours:
            colours[name] = _by_name(name, NOUN_CLASSES, set(colours.values()))
    return colours


def ordinal_colours(values: Sequence[object]) -> dict[object, str]:
    """Ordered settings (n-gram sizes): a dark-to-light sequence, so neighbours in the grid look alike."""
    return dict(zip(values, sns.color_palette("viridis", len(values)).as_hex()))
