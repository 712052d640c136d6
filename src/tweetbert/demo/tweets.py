"""Synthetic raw tweet corpus with a ground truth of duplicate clusters.

The corpus exists to exercise the corpus stages (normalisation, MinHash dedup, per-user capping) on data whose
right answer is known. The truth is defined by the dedup measure itself: Jaccard similarity of word 5-gram
shingles of MeCab tokens after NFKC with URLs and mentions removed. Generation is designed so that measure
separates clusters cleanly:

* natural tweets are compositions of several sentence frames whose slots are drawn from pools of words that
  MeCab splits into at most three tokens, joined by single-word glue, so every 5-gram holds several
  independent draws and unrelated tweets rarely share one;
* near-duplicates are small edits of a long seed tweet, never edits of edits, so any two members stay close;
* template bots (``bots``) have a long fixed text and short slots kept next to each other at one end;
* very short stock phrases and URL-only / mention-only tweets are exact duplicates of each other (the last two
  have no tokens at all, so only exact matching of the normalised text can group them).

Everything random is drawn from one ``numpy.random.Generator``; per-tweet compositions consume a fixed-size row
of pre-drawn integers, so the loop stays cheap and the output depends on nothing but the seed and the size.

Tens of millions of tweets fit in a few GB: texts go to a scratch file as they are made, memory keeps integers
only (``_TextStore``) and the rows are written in time order by reading each text back.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import pandas as pd
from tqdm import tqdm

from tweetbert.demo import vocabulary as V
from tweetbert.demo.bots import AREA_NAMES, BOTS, DRAW_HIGH, fill_bot, tco

# Shares of the corpus; natural one-off tweets fill the rest.
_BOT_SHARE = 0.08
_NEAR_DUP_SHARE = 0.13
_STOCK_SHARE = 0.04
_URL_ONLY_SHARE = 0.006
_MENTION_ONLY_SHARE = 0.004

# Pre-drawn integers per composition, with a margin: a natural tweet uses at most ~45, a near-duplicate seed ~60.
_ROW = 64
_SEED_ROW = 128
_CHUNK = 20_000
_BATCH = 8192  # texts per scratch-file write and rows per output write
_START = np.datetime64("2020-01-01T00:00:00", "s")
_SPAN_S = 3 * 365 * 24 * 3600
_TWITTER_EPOCH_MS = 1_288_834_974_657

_ENDINGS = V.PUNCTUATION * 3 + V.EMOJI + V.KAOMOJI
_SEPARATORS = (" ", " ", "\n", "")
_POOLS: dict[str, tuple[str, ...]] = {
    "time": V.TIMES, "people": V.PEOPLE, "area": AREA_NAMES, "venue": V.VENUES, "food": V.FOODS,
    "thing": V.THINGS, "daily": V.DAILY, "adj": V.ADJECTIVES, "verb": V.VERBS, "eat": V.EAT, "go": V.GO,
    "interj": V.INTERJECTIONS, "adv": V.ADVERBS, "english": V.ENGLISH, "romaji": V.ROMAJI,
    "emoji": V.EMOJI, "kaomoji": V.KAOMOJI, "end": _ENDINGS,
}
# Sentence frames: literal glue is a single word between slots, so every 5-gram spans several draws.
_FRAME_TEXTS = (
    "{time}は{area}の{venue}で{food}を{eat}{end}", "{people}と{area}に{go}{end}", "{interj}、{adv}{adj}{end}",
    "{daily}が{adj}{end}", "{thing}の{daily}を{verb}{end}", "{time}の{thing}、{adv}{adj}{end}",
    "{english} {emoji}", "{adv}{thing}を{verb}けど{adj}{end}", "{people}が{food}を{eat}{end}",
    "{area}の{venue}、{adj}{end}", "{daily}も{daily}も{adj}{end}", "{time}から{thing}を{verb}{end}",
    "{romaji}{end}", "{adv}{area}の{venue}まで{go}{end}", "{interj}{people}に{thing}を{verb}{end}",
    "{thing}って{adv}{adj}よ{end}", "{food}と{food}、{adv}{adj}{end}", "{english}! {daily}が{adj}{end}",
    "{daily}で{thing}が{adj}{end}", "{food}{eat}{kaomoji}", "{time}{people}と{food}{end}",
    "{thing}{verb}{emoji}", "{area}は{daily}が{adj}{end}", "{interj}{time}の{daily}{adj}{end}",
    "{people}の{thing}、{adv}{adj}{end}", "{time}も{venue}で{thing}{end}", "{people}から{thing}を{verb}{end}",
    "{time}こそ{thing}を{verb}{end}", "{venue}の{food}、{adj}{end}", "{emoji}{people}と{thing}{end}",
)
_SLOT = re.compile(r"\{(\w+)\}")


def _compile(frame: str) -> tuple[str | tuple[str, ...], ...]:
    """A frame as literal strings and pool tuples, so rendering is a plain loop."""
    items: list[str | tuple[str, ...]] = []
    for i, piece in enumerate(_SLOT.split(frame)):
        if i % 2:
            items.append(_POOLS[piece])
        elif piece:
            items.append(piece)
    return tuple(items)


_FRAMES = tuple(_compile(frame) for frame in _FRAME_TEXTS)


def _make_handles(rng: np.random.Generator, n: int) -> tuple[str, ...]:
    """Screen names that the mention pattern ``@[A-Za-z0-9_]{1,15}`` matches in full."""
    syllables = V.ROMAJI_SYLLABLES
    draws = rng.integers(0, DRAW_HIGH, size=(n, 6)).tolist()
    handles = []
    for d in draws:
        name = "".join(syllables[x % len(syllables)] for x in d[: 2 + d[0] % 3])
        style = d[4] % 3
        if style == 1:
            name = f"{name}_{d[5] % 1000}"
        elif style == 2:
            name = f"{name}{d[5] % 100:02d}"
        handles.append(name[:15])
    return tuple(handles)


# Full-width / half-width variants that NFKC folds back, as Twitter users produce them.
_FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


def _half_width_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for code in range(0xFF66, 0xFFA0):
        half = chr(code)
        table.setdefault(unicodedata.normalize("NFKC", half), half)
        for mark in ("\uff9e", "\uff9f"):
            full = unicodedata.normalize("NFKC", half + mark)
            if len(full) == 1 and full != half:
                table.setdefault(full, half + mark)
    return dict(sorted(table.items()))


_HALF_WIDTH = str.maketrans(_half_width_table())


@dataclass
class _Draft:
    """A composed tweet kept in pieces, so near-duplicates can edit one piece of the seed."""

    prefix: list[str]
    body: list[str]
    slots: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(self.prefix) + "".join(self.body) + "".join(self.tail)


def _compose(d: Iterator[int], handles: tuple[str, ...], sentences: tuple[int, int], min_slots: int) -> _Draft:
    """A natural tweet: optional reply mention, sentence frames, optional hashtags and link.

    Sentences are added beyond the drawn number until ``min_slots`` slots are filled: a tweet with few draws
    would share a large fraction of its few shingles with others by chance.
    """
    prefix = ["@" + handles[next(d) % len(handles)] + " "] if next(d) % 100 < 12 else []
    body: list[str] = []
    slots: list[tuple[int, tuple[str, ...]]] = []
    low, high = sentences
    n_sentences = low + next(d) % (high - low + 1)
    s = 0
    while s < n_sentences or len(slots) < min_slots:
        if s:
            body.append(_SEPARATORS[next(d) % len(_SEPARATORS)])
        for item in _FRAMES[next(d) % len(_FRAMES)]:
            if item.__class__ is str:
                body.append(item)
            else:
                slots.append((len(body), item))
                body.append(item[next(d) % len(item)])
        s += 1
    tail: list[str] = []
    if next(d) % 100 < 25:
        for _ in range(1 + next(d) % 3):
            tail.append(" #" + V.HASHTAGS[next(d) % len(V.HASHTAGS)])
    if next(d) % 100 < 12:
        tail.append(("\n" if next(d) % 3 == 0 else " ") + tco(next(d)))
    return _Draft(prefix, body, slots, tail)


def _edit(seed: _Draft, d: Iterator[int], handles: tuple[str, ...], copy_only: bool) -> str:
    """One cluster member: the seed with at most one edit of its words plus at most one cosmetic change.

    Limiting every member to one word edit of the seed keeps any two members of a cluster close; copy-pasta
    clusters get cosmetic changes only (retweet prefix, reply mention, link, width variant).
    """
    prefix, body, tail = list(seed.prefix), list(seed.body), list(seed.tail)
    if not copy_only and next(d) % 10 < 7:
        op = next(d) % 5
        if op == 0:
            tail.append(V.EMOJI[next(d) % len(V.EMOJI)])
        elif op == 1:
            tail.append(" #" + V.HASHTAGS[next(d) % len(V.HASHTAGS)])
        elif op == 2 and tail:
            tail.pop()
        elif op == 3:
            body.insert(0, V.ADVERBS[next(d) % len(V.ADVERBS)])
        else:
            position, pool = seed.slots[next(d) % len(seed.slots)]
            body[position] = pool[next(d) % len(pool)]
    op = next(d) % 6
    if op == 1:
        prefix.insert(0, f"RT @{handles[next(d) % len(handles)]}: ")
    elif op == 2:
        tail.append(" " + tco(next(d)))
    elif op == 3:
        prefix.insert(0, f"@{handles[next(d) % len(handles)]} ")
    elif op == 4:
        table = _FULL_WIDTH if next(d) % 2 else _HALF_WIDTH
        body = [piece.translate(table) for piece in body]
    return "".join(prefix) + "".join(body) + "".join(tail)


def _draw_rows(rng: np.random.Generator, n: int, width: int = _ROW) -> Iterator[Iterator[int]]:
    """One iterator of pre-drawn integers per composed tweet, drawn in chunks to bound memory."""
    for start in range(0, n, _CHUNK):
        for row in rng.integers(0, DRAW_HIGH, size=(min(_CHUNK, n - start), width)):
            yield iter(row.tolist())


def _shares(n_tweets: int) -> dict[str, int]:
    counts = {name: round(n_tweets * share) for name, share in (
        ("bot", _BOT_SHARE), ("near_dup", _NEAR_DUP_SHARE), ("stock", _STOCK_SHARE),
        ("url_only", _URL_ONLY_SHARE), ("mention_only", _MENTION_ONLY_SHARE))}
    counts["natural"] = n_tweets - sum(counts.values())
    return counts


def _near_dup_sizes(rng: np.random.Generator, total: int, n_tweets: int) -> list[int]:
    """Heavy-tailed cluster sizes: mostly pairs and triples, a few viral copy-pastas."""
    cap = max(30, n_tweets // 400)
    sizes: list[int] = []
    remaining = total
    while remaining >= 2:
        size = min(1 + int(rng.zipf(1.8)), cap, remaining)
        if remaining - size == 1:
            size += 1
        sizes.append(size)
        remaining -= size
    return sizes


_URL_KEY = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]+", re.IGNORECASE)
_MENTION_KEY = re.compile(r"(?<![A-Za-z0-9_@])@[A-Za-z0-9_]{1,15}\b")


def _key_hash(text: str) -> bytes:
    """What exact-duplicate detection compares (NFKC, placeholders for links and mentions, no whitespace) as a
    64-bit stable hash (odds of any collision among 10M tweets: 3e-6); each step runs only where it can match."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    if "://" in text or "w." in text or "W." in text:
        text = _URL_KEY.sub("[URL]", text)
    if "@" in text:
        text = _MENTION_KEY.sub("[USER]", text)
    return hashlib.blake2b("".join(text.split()).encode(), digest_size=8).digest()


def _merge_exact(labels: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Unites clusters that share an exact key (any dense integer id per key), by label propagation.

    Only minima over rows are taken, so neither the row order nor the numbering of the keys changes the result.
    """
    big = np.iinfo(np.int64).max
    while True:
        per_key = np.full(keys.max() + 1, big)
        np.minimum.at(per_key, keys, labels)
        per_label = np.full(labels.max() + 1, big)
        np.minimum.at(per_label, labels, per_key[keys])
        merged = per_label[labels]
        if np.array_equal(merged, labels):
            return labels
        labels = merged


def _assign_users(rng: np.random.Generator, bot_of_row: np.ndarray) -> np.ndarray:
    """Zipf-like activity for humans (most post once, a few thousands of times); each bot is one user."""
    humans = bot_of_row < 0
    n_humans = max(10, int(humans.sum()))
    weights = (np.arange(n_humans) + 1.0) ** -0.85
    weights /= weights.sum()
    ids = rng.choice(10**12, size=n_humans + len(BOTS), replace=False) + 10**9
    user = np.where(humans, 0, n_humans + bot_of_row.astype(np.int64))
    user[humans] = rng.choice(n_humans, size=int(humans.sum()), p=weights)
    return ids[user]


class _TextStore:
    """Texts appended as UTF-8 to a scratch file a batch at a time; memory keeps 25 bytes a tweet: where each
    text ends in the file, the hash of its exact key, its planted cluster and its bot (-1 for humans)."""

    def __init__(self, scratch: BinaryIO, capacity: int) -> None:
        self.scratch, self.n, self.pending = scratch, 0, []
        self.ends, self.key_hash = np.zeros(capacity + 1, np.int64), np.zeros(capacity, np.uint64)
        self.cluster, self.bot = np.zeros(capacity, np.int64), np.zeros(capacity, np.int8)
        self.progress = tqdm(total=capacity, desc="demo tweets", unit="tweet", mininterval=2.0, delay=2.0)

    def add(self, texts: list[str], cluster: int, bot: int = -1) -> None:
        end = self.n + len(texts)
        self.cluster[self.n : end], self.bot[self.n : end], self.n = cluster, bot, end
        self.pending += texts
        if len(self.pending) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        data, start = [text.encode() for text in self.pending], self.n - len(self.pending)
        self.ends[start + 1 : self.n + 1] = self.ends[start] + np.cumsum([len(x) for x in data], dtype=np.int64)
        self.key_hash[start : self.n] = np.frombuffer(b"".join(map(_key_hash, self.pending)), np.uint64)
        self.scratch.write(b"".join(data))
        self.scratch.flush()
        self.progress.update(len(data))
        self.pending = []


def _generate_texts(rng: np.random.Generator, n_tweets: int, scratch: BinaryIO, planted: Sequence[str] = (),
                    ) -> tuple[np.ndarray, ...]:
    """Writes every text to ``scratch`` in generation order; (ends, key_hash, cluster, bot) as ``_TextStore``.
    ``planted`` texts (copies of task texts) take the place of as many natural one-off tweets, a cluster each."""
    store = _TextStore(scratch, n_tweets)
    handles = _make_handles(rng, 4000)
    counts = _shares(n_tweets)
    counts["natural"] -= len(planted)
    weights = np.array([bot.weight for bot in BOTS])
    bot_sizes = np.floor(counts["bot"] * weights / weights.sum()).astype(int)
    bot_sizes[0] += counts["bot"] - bot_sizes.sum()
    for b, (bot, size) in enumerate(zip(BOTS, bot_sizes.tolist())):
        store.add(fill_bot(bot, rng, size), cluster=b, bot=b)
    next_cluster = len(BOTS)

    n_stock = len(V.STOCK_PHRASES)
    stock_weights = 1.0 / (np.arange(n_stock) + 2.0)
    picks = rng.choice(n_stock, size=counts["stock"], p=stock_weights / stock_weights.sum()).tolist()
    replies = (rng.integers(0, 100, size=counts["stock"]) < 20).tolist()
    reply_to = rng.integers(0, len(handles), size=counts["stock"]).tolist()
    for phrase, is_reply, to in zip(picks, replies, reply_to):
        text = V.STOCK_PHRASES[phrase]
        store.add([f"@{handles[to]} {text}" if is_reply else text], cluster=next_cluster + phrase)
    next_cluster += n_stock

    store.add([tco(x) for x in rng.integers(0, DRAW_HIGH, size=counts["url_only"]).tolist()], next_cluster)
    store.add(["@" + handles[i] for i in rng.integers(0, len(handles), size=counts["mention_only"]).tolist()],
              next_cluster + 1)
    next_cluster += 2

    sizes = _near_dup_sizes(rng, counts["near_dup"], n_tweets)
    copy_only = (rng.integers(0, 5, size=len(sizes)) < 2).tolist()
    seed_rows = _draw_rows(rng, len(sizes), width=_SEED_ROW)
    rows = _draw_rows(rng, counts["near_dup"] - len(sizes) + counts["natural"])
    for size, copies in zip(sizes, copy_only):
        seed_draft = _compose(next(seed_rows), handles, sentences=(4, 6), min_slots=22)
        store.add([seed_draft.text()] + [_edit(seed_draft, next(rows), handles, copies) for _ in range(size - 1)],
                  next_cluster)
        next_cluster += 1
    for _ in range(counts["natural"]):
        store.add([_compose(next(rows), handles, sentences=(2, 4), min_slots=10).text()], next_cluster)
        next_cluster += 1
    for text in planted:
        store.add([text], next_cluster)
        next_cluster += 1
    store.flush()
    store.progress.close()
    return store.ends[: store.n + 1], store.key_hash[: store.n], store.cluster[: store.n], store.bot[: store.n]


def _rows(scratch: BinaryIO, ends: np.ndarray, order: np.ndarray, seconds: np.ndarray, millis: np.ndarray,
          user_ids: np.ndarray, cluster: np.ndarray) -> Iterator[tuple[list, ...]]:
    """Batches of rows as lists (id, user_id, created_at, text, truth cluster), in time order; ``order`` maps it
    to the generation order in which ``ends`` locates the texts in ``scratch``."""
    fd = scratch.fileno()
    with tqdm(total=len(order), desc="demo tweets, time order", unit="tweet", mininterval=2.0, delay=2.0) as bar:
        for start in range(0, len(order), _BATCH):
            rows, part = order[start : start + _BATCH], slice(start, start + _BATCH)
            stamp_ms = (_START.astype(np.int64) + seconds[part]) * 1000 + millis[part] - _TWITTER_EPOCH_MS
            # Snowflake-like ids: time in the high bits, the rank in the low 22 bits (unique below 4.19M tweets).
            ids = [str(x) for x in ((stamp_ms << 22) | (np.arange(start, start + len(rows)) & 0x3FFFFF)).tolist()]
            created = np.datetime_as_string(_START + seconds[part].astype("timedelta64[s]"), unit="s").tolist()
            begins, stops = ends[rows].tolist(), ends[rows + 1].tolist()
            texts = [os.pread(fd, stop - begin, begin).decode() for begin, stop in zip(begins, stops)]
            users = [str(u) for u in user_ids[part].tolist()]
            yield ids, users, [f"{c}Z" for c in created], texts, cluster[part].tolist()
            bar.update(len(rows))


def tweet_batches(n_tweets: int, seed: int, scratch: BinaryIO, planted: Sequence[str] = ()
                  ) -> Iterator[tuple[list, ...]]:
    """Generates the corpus now and returns its rows as ``_rows`` batches; the texts wait in ``scratch`` (a binary
    file open for reading and writing) and memory holds integer arrays only, each dropped once used."""
    if n_tweets < 100:
        raise ValueError(f"n_tweets must be at least 100, not {n_tweets}")
    if len(planted) > _shares(n_tweets)["natural"]:
        raise ValueError(f"{len(planted)} planted texts exceed the {_shares(n_tweets)['natural']} one-off tweets")
    rng = np.random.default_rng(seed)
    ends, key_hash, cluster, bot = _generate_texts(rng, n_tweets, scratch, planted)
    labels = _merge_exact(cluster, pd.factorize(key_hash)[0])
    del key_hash, cluster
    user_ids = _assign_users(rng, bot)
    del bot
    seconds = rng.integers(0, _SPAN_S, size=len(labels))
    millis = rng.integers(0, 1000, size=len(labels))
    order = np.lexsort((millis, seconds))
    labels = labels[order]
    truth = pd.factorize(labels)[0]
    del labels
    return _rows(scratch, ends, order, seconds[order], millis[order], user_ids[order], truth)
