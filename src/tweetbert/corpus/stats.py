"""Corpus statistics that show what deduplication and per-user balancing did to the corpus.

Three questions decide whether the refined corpora are worth pre-training on: where the duplicates came
from (a few hyperactive accounts or everyone), how much of each corpus a handful of users write, and
whether the lexicon got poorer or richer. Diversity is measured on equal-size seeded samples because
entropy and type counts grow with corpus size; comparing unequal corpora would only measure their size.

The corpora hold tens of millions of tweets, so no text column is read whole: the counts stream ids and user ids
into integer arrays (a few bytes per tweet), and only the sampled tweets' texts are kept.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import fugashi
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from tweetbert.corpus.io import BATCH_ROWS, corpus_batches, corpus_column
from tweetbert.errors import InputError
from tweetbert.mecab import mecab_tagger
from tweetbert.plots.corpus import plot_diversity, plot_duplicates_by_activity, plot_user_contribution

log = logging.getLogger(__name__)

CORPORA = ("raw", "dedup", "balanced")
# Lower edges of the activity segments: 1, 2-9, 10-99, 100-999, >=1000 tweets per user.
ACTIVITY_EDGES = (1, 2, 10, 100, 1000)
PLACEHOLDER = re.compile(r"\[(?:URL|USER)\]")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
# Twitter's rules, simplified: a tag needs one non-digit, and may not start inside a word (or `&#39;`).
_HASHTAG = re.compile(r"(?<![\w&])[#＃](\w*[^\W\d]\w*)")
# Screen names are ASCII only, so `@abcさん` is the mention `abc`; `a@b.com` is an e-mail, not a mention.
_MENTION = re.compile(r"(?<![A-Za-z0-9_!#$%&*@＠])[@＠]([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_])")
_FLOAT_FORMAT = "%.6f"


def activity_segment_labels(edges: Sequence[int] = ACTIVITY_EDGES) -> list[str]:
    """Human-readable labels of the segments, lowest activity first."""
    labels = []
    for low, high in zip(edges, [*edges[1:], None]):
        if high is None:
            labels.append(f">={low}")
        elif high - low == 1:
            labels.append(str(low))
        else:
            labels.append(f"{low}-{high - 1}")
    return labels


def activity_segments(tweets_per_user: pd.Series, edges: Sequence[int] = ACTIVITY_EDGES) -> pd.Series:
    """Log-scale segment of each user's tweet count, as an ordered categorical so groupbys sort by activity."""
    bins = [*edges, math.inf]
    return pd.cut(tweets_per_user, bins=bins, right=False, labels=activity_segment_labels(edges))


def duplicates_by_activity(tweets: np.ndarray, duplicates: np.ndarray,
                           edges: Sequence[int] = ACTIVITY_EDGES) -> pd.DataFrame:
    """Users, tweets and duplicates per activity segment, only non-empty segments.

    ``tweets`` and ``duplicates`` are per raw user (:meth:`CorpusRows.per_user`): the segment is the raw tweet count.
    """
    users = pd.DataFrame({"segment": activity_segments(pd.Series(tweets), edges), "tweets": tweets,
                          "duplicates": duplicates})
    table = users.groupby("segment", observed=True).agg(
        users=("tweets", "size"), tweets=("tweets", "sum"), duplicates=("duplicates", "sum")).reset_index()
    table["segment"] = table["segment"].astype(str)
    table["duplicate_ratio"] = table["duplicates"] / table["tweets"]
    return table


def _active(tweets: np.ndarray) -> np.ndarray:
    """Tweet counts of the users who have a tweet in the corpus (per-user arrays count 0 for the others)."""
    return tweets[tweets > 0]


def tweets_per_user_distribution(per_user: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """How many users wrote exactly k tweets, per corpus: the histogram behind the log-log plot."""
    parts = []
    for name, tweets in per_user.items():
        counts, users = np.unique(_active(tweets), return_counts=True)
        parts.append(pd.DataFrame({"corpus": name, "tweets_per_user": counts.astype("int64"),
                                   "users": users.astype("int64")}))
    return pd.concat(parts, ignore_index=True)


def top_user_share(per_user: Mapping[str, np.ndarray], fraction: float = 0.01) -> pd.DataFrame:
    """Share of all tweets written by the most active ``fraction`` of users (at least one user)."""
    rows = []
    for name, tweets in per_user.items():
        counts = np.sort(_active(tweets))[::-1]
        top = max(1, math.ceil(fraction * len(counts))) if len(counts) else 0
        top_tweets = int(counts[:top].sum())
        rows.append({"corpus": name, "users": len(counts), "top_users": top, "tweets": int(counts.sum()),
                     "top_tweets": top_tweets, "top_share": top_tweets / counts.sum() if len(counts) else math.nan})
    return pd.DataFrame(rows)


def summary(per_user: Mapping[str, np.ndarray], duplicates: int) -> pd.DataFrame:
    """One row per corpus; the duplicate ratio only makes sense for the raw corpus, so the others leave it empty."""
    rows = []
    for name, tweets in per_user.items():
        counts = _active(tweets)
        rows.append({
            "corpus": name,
            "tweets": int(counts.sum()),
            "users": len(counts),
            "duplicate_ratio": duplicates / counts.sum() if name == "raw" else math.nan,
            "mean_tweets_per_user": counts.mean() if len(counts) else math.nan,
            "median_tweets_per_user": np.median(counts) if len(counts) else math.nan,
        })
    return pd.DataFrame(rows)


def shannon_entropy(counts: Iterable[int]) -> float:
    """Entropy in bits of the distribution given by type counts; 0 for an empty or one-type distribution."""
    values = np.fromiter(counts, dtype=np.float64)
    values = values[values > 0]
    if values.size == 0:
        return 0.0
    p = values / values.sum()
    return float(-(p * np.log2(p)).sum()) + 0.0  # + 0.0 turns -0.0 into 0.0


def extract_hashtags(raw_text: str) -> list[str]:
    """Hashtags, case-folded and without `#`; URLs are removed first so `…/#anchor` is not a tag."""
    return [tag.casefold() for tag in _HASHTAG.findall(_URL.sub(" ", raw_text))]


def extract_mentions(raw_text: str) -> list[str]:
    """Mentioned screen names, lower-cased (Twitter treats them case-insensitively), without `@`."""
    return [name.lower() for name in _MENTION.findall(_URL.sub(" ", raw_text))]


def word_segments(text: str, tagger: fugashi.GenericTagger) -> list[list[str]]:
    """MeCab words of a normalised text, split at placeholders so no n-gram spans a removed URL or user (the diversity
    measure counts n-grams within segments, unlike the shingles and the tokenizer)."""
    return [tokens for chunk in PLACEHOLDER.split(text) if (tokens := tagger.parse(chunk).split())]


def ngrams(segments: Iterable[Sequence[str]], n: int) -> Iterator[str]:
    """Word n-grams within each segment, joined by spaces (MeCab surfaces never contain spaces)."""
    for tokens in segments:
        for start in range(len(tokens) - n + 1):
            yield " ".join(tokens[start:start + n])


def id_order(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Row numbers sorted by id: what makes the samples independent of the files' row order."""
    return pc.sort_indices(ids).to_numpy().view(np.int64)


def equal_size_samples(order: np.ndarray, members: Mapping[str, np.ndarray], sample_size: int | None,
                       seed: int) -> dict[str, np.ndarray]:
    """Same-size random samples of every corpus, independent of the files' row order.

    ``order`` is the rows sorted by id (:func:`id_order`) and each corpus a boolean mask over those rows; a sample
    is row numbers in id order. Only ids are sorted, so no text is read to draw it. The size is ``sample_size``
    capped at the smallest corpus: a larger one could not be drawn from every corpus, and unequal sizes would
    defeat the comparison. The size used is in the diversity table.
    """
    if sample_size is not None and sample_size < 1:
        raise ValueError(f"sample_size must be a positive number of tweets, not {sample_size}")
    smallest = min(int(mask.sum()) for mask in members.values())
    size = smallest if sample_size is None else min(sample_size, smallest)
    if sample_size is not None and size < sample_size:
        log.info("sample size %d exceeds the smallest corpus; using %d tweets per corpus", sample_size, size)
    samples = {}
    for name, mask in members.items():
        ordered = order[mask[order]]
        rows = np.sort(np.random.default_rng(seed).choice(len(ordered), size=size, replace=False))
        samples[name] = ordered[rows]
    return samples


def diversity(samples: Mapping[str, pd.DataFrame], raw_text: Mapping[str, str], ngram_sizes: Sequence[int] = (1, 2, 3),
              tagger: fugashi.GenericTagger | None = None) -> pd.DataFrame:
    """Entropy and distinct types of word n-grams, hashtags and mentions per corpus sample.

    Words come from the normalised ``text``; hashtags and mentions from ``raw_text`` (by id), because
    normalisation replaced the mentions. Each distinct id is tokenised once, as the samples overlap.
    """
    if tagger is None:
        tagger = mecab_tagger()
    features = [f"{n}-gram" for n in ngram_sizes] + ["hashtag", "mention"]
    counters = {(name, feature): Counter() for name in samples for feature in features}
    members: dict[str, list[str]] = {}
    texts: dict[str, str] = {}
    for name, frame in samples.items():
        for tweet_id, text in zip(frame["id"], frame["text"]):
            members.setdefault(tweet_id, []).append(name)
            texts[tweet_id] = text
    for tweet_id in tqdm(sorted(members), desc="MeCab", unit="tweet", delay=2):
        segments = word_segments(texts[tweet_id], tagger)
        found = {f"{n}-gram": Counter(ngrams(segments, n)) for n in ngram_sizes}
        found["hashtag"] = Counter(extract_hashtags(raw_text[tweet_id]))
        found["mention"] = Counter(extract_mentions(raw_text[tweet_id]))
        for name in members[tweet_id]:
            for feature, counts in found.items():
                counters[name, feature].update(counts)
    rows = []
    for feature in features:
        for name, frame in samples.items():
            counts = counters[name, feature]
            rows.append({"feature": feature, "corpus": name, "sample_size": len(frame),
                         "tokens": sum(counts.values()), "types": len(counts),
                         "entropy_bits": shannon_entropy(counts.values())})
    return pd.DataFrame(rows)


def _numbered(batches: Iterable[pa.RecordBatch], drop: str | None = None
              ) -> Iterator[tuple[pa.RecordBatch, np.ndarray]]:
    """Batches with each row's 0-based row number in the file, leaving out rows whose flag column ``drop`` is set."""
    start = 0
    for batch in batches:
        rows = np.arange(start, start + batch.num_rows)
        start += batch.num_rows
        if drop is not None:
            keep = pc.invert(batch.column(drop))
            batch, rows = batch.filter(keep), rows[keep.to_numpy(zero_copy_only=False)]
        yield batch, rows


def _increasing_run(hits: np.ndarray) -> int:
    """Length of the leading run of found (non-negative), strictly increasing window positions."""
    stops = (hits < 0) | (np.diff(hits, prepend=-1) <= 0)
    return int(np.argmax(stops)) if stops.any() else len(hits)


def _ordered_rows(subset: Iterable[pa.RecordBatch], superset: Iterator[tuple[pa.RecordBatch, np.ndarray]],
                  path: Path, of: str) -> np.ndarray:
    """Row of ``superset`` holding each row of ``subset`` (same id and user id); stops on a row it lacks.

    A row the other corpus lacks means the files come from different runs. The stages keep the row order
    (normalize and dedup keep every row, balance an ordered subset), so one forward pass checks the subset with
    no set of all ids: each run of subset rows is looked up in a window of one superset batch, which is dropped
    once the next subset row is not in it. A row out of that order is reported as missing.
    """
    found, window, rows, offset = [], None, np.empty(0, np.int64), 0
    for batch in tqdm(subset, desc=f"check {path.name}", unit="batch", delay=2):
        ids, start = batch.column("id"), 0
        while start < batch.num_rows:
            if window is None or not window.num_rows:
                window, rows = next(superset, (None, rows))
                if window is None:
                    raise InputError(path, f"id {ids[start].as_py()!r} is not in the {of} corpus (in its row order)",
                                     row=offset + start + 1, column="id")
                continue
            hits = pc.index_in(ids.slice(start, window.num_rows), value_set=window.column("id"))
            hits = hits.fill_null(-1).to_numpy()
            run = _increasing_run(hits)
            if not run:
                window = None
                continue
            matched = hits[:run]
            same = pc.equal(batch.column("user_id").slice(start, run), window.column("user_id").take(matched))
            if not pc.all(same).as_py():
                row = start + int(np.argmin(same.to_numpy(zero_copy_only=False)))
                raise InputError(path, f"user id differs from the {of} corpus's for id {ids[row].as_py()!r}",
                                 row=offset + row + 1, column="user_id")
            found.append(rows[matched])
            window, rows = window.slice(matched[-1] + 1), rows[matched[-1] + 1:]
            start += run
        offset += batch.num_rows
    return np.concatenate(found) if found else np.empty(0, np.int64)


@dataclass(frozen=True)
class CorpusRows:
    """The three corpora as integer arrays only, a few bytes per tweet: all that the counts and the sampling need."""

    users: np.ndarray  # user code of each raw row: its index among the raw corpus's distinct user ids
    user_count: int  # distinct user ids in the raw corpus
    dedup_rows: np.ndarray  # raw row of each dedup-annotated row
    duplicate: np.ndarray  # is_duplicate of each dedup-annotated row
    balanced_rows: np.ndarray  # dedup-annotated row of each balanced row

    @classmethod
    def read(cls, raw: Path, dedup: Path, balanced: Path, batch_size: int = BATCH_ROWS) -> CorpusRows:
        """Streams the files (text never read), checking that dedup holds raw rows and balanced non-duplicate ones."""
        users = pc.dictionary_encode(corpus_column(raw, "user_id")).combine_chunks()
        dedup_rows = _ordered_rows(corpus_batches(dedup, ["id", "user_id"], batch_size),
                                   _numbered(corpus_batches(raw, ["id", "user_id"], batch_size)), dedup, "raw")
        duplicate = corpus_column(dedup, "is_duplicate").to_numpy().astype(bool)
        kept = _numbered(corpus_batches(dedup, ["id", "user_id", "is_duplicate"], batch_size), drop="is_duplicate")
        balanced_rows = _ordered_rows(corpus_batches(balanced, ["id", "user_id"], batch_size), kept, balanced,
                                      "dedup (non-duplicate rows)")
        return cls(users.indices.to_numpy(), len(users.dictionary), dedup_rows, duplicate, balanced_rows)

    def members(self) -> dict[str, np.ndarray]:
        """Each corpus as a mask over the dedup-annotated rows, whose normalised text the diversity measures use."""
        balanced = np.zeros(len(self.duplicate), dtype=bool)
        balanced[self.balanced_rows] = True
        return {"raw": np.ones(len(self.duplicate), dtype=bool), "dedup": ~self.duplicate, "balanced": balanced}

    def per_user(self) -> dict[str, np.ndarray]:
        """Tweets of each raw user (by code) in each corpus, 0 where the user has none there."""
        users, n = self.users[self.dedup_rows], self.user_count
        return {"raw": np.bincount(self.users, minlength=n), "dedup": np.bincount(users[~self.duplicate], minlength=n),
                "balanced": np.bincount(users[self.balanced_rows], minlength=n)}

    def duplicates_per_user(self) -> np.ndarray:
        """Duplicates of each raw user (by code), counted by the user of the dedup-annotated row."""
        return np.bincount(self.users[self.dedup_rows[self.duplicate]], minlength=self.user_count)


def _take_rows(path: Path, columns: list[str], rows: np.ndarray, batch_size: int) -> pa.Table:
    """The given rows (0-based, ascending) of a corpus, read batch by batch so that only they stay in memory."""
    parts, start, schema = [], 0, None
    for batch in tqdm(corpus_batches(path, columns, batch_size), desc=f"sample {path.name}", unit="batch", delay=2):
        low, high = np.searchsorted(rows, [start, start + batch.num_rows])
        parts.append(batch.take(pa.array(rows[low:high] - start)))
        start, schema = start + batch.num_rows, batch.schema
    return pa.Table.from_batches(parts, schema=schema)


def sample_texts(raw: Path, dedup: Path, corpus: CorpusRows, samples: Mapping[str, np.ndarray],
                 batch_size: int = BATCH_ROWS) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The samples' ids and normalised texts, and the raw texts of their ids: the only texts the statistics read.

    Every sample's normalised text comes from the dedup-annotated file, which holds each balanced row's text too.
    """
    wanted = np.unique(np.concatenate(list(samples.values())))
    normalised = _take_rows(dedup, ["id", "text"], wanted, batch_size)
    raw_text = _take_rows(raw, ["text"], corpus.dedup_rows[wanted], batch_size).column("text").to_pylist()
    found = normalised.to_pandas()
    frames = {name: found.iloc[np.searchsorted(wanted, rows)].reset_index(drop=True) for name, rows in samples.items()}
    return frames, dict(zip(found["id"], raw_text))


def _write_tsv(table: pd.DataFrame, path: Path) -> Path:
    table.to_csv(path, sep="\t", index=False, float_format=_FLOAT_FORMAT, na_rep="", lineterminator="\n")
    return path


CORPUS_STATS_OUTPUTS = {
    "summary": "TSV of tweets, users and duplicates per corpus",
    "duplicates_by_activity": "TSV of duplicates by user activity segment",
    "duplicates_by_activity_plot": "PNG of duplicates by user activity segment",
    "user_contribution": "TSV of the tweets-per-user distribution per corpus",
    "user_contribution_plot": "PNG of the tweets-per-user distribution",
    "top_user_share": "TSV of the share of tweets from the most active 1 % of users",
    "diversity": "TSV of n-gram, hashtag and mention diversity on equal-size samples",
    "diversity_plot": "PNG of the diversity measures",
}


def write_corpus_stats(raw: Path, dedup: Path, balanced: Path, paths: Mapping[str, Path], *, seed: int = 0,
                       sample_size: int | None = 20_000, ngram_sizes: Sequence[int] = (1, 2, 3),
                       batch_size: int = BATCH_ROWS) -> dict[str, Path]:
    """Writes every corpus-statistics table and figure at ``paths`` (:data:`CORPUS_STATS_OUTPUTS`); returns them.

    ``dedup`` is the dedup-annotated corpus (all rows, ``is_duplicate`` marked): its full rows are the raw
    corpus in normalised form, which the word statistics need. The counts stream the id and user-id columns
    ``batch_size`` rows at a time; only the sampled rows' texts are kept.
    """
    raw, dedup, balanced = Path(raw), Path(dedup), Path(balanced)
    paths = {name: Path(paths[name]) for name in CORPUS_STATS_OUTPUTS}
    corpus = CorpusRows.read(raw, dedup, balanced, batch_size)
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)

    def table(name: str, frame: pd.DataFrame, plot=None) -> None:
        _write_tsv(frame, paths[name])
        if plot is not None:
            plot(frame, paths[f"{name}_plot"])

    per_user = corpus.per_user()
    table("summary", summary(per_user, int(corpus.duplicate.sum())))
    table("duplicates_by_activity", duplicates_by_activity(per_user["raw"], corpus.duplicates_per_user()),
          plot_duplicates_by_activity)
    table("user_contribution", tweets_per_user_distribution(per_user), plot_user_contribution)
    table("top_user_share", top_user_share(per_user))

    samples = equal_size_samples(id_order(corpus_column(dedup, "id")), corpus.members(), sample_size, seed)
    table("diversity", diversity(*sample_texts(raw, dedup, corpus, samples, batch_size), ngram_sizes), plot_diversity)
    return paths
