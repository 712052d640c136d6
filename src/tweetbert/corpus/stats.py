"""Corpus statistics that show what deduplication and per-user balancing did to the corpus.

Three questions decide whether the refined corpora are worth pre-training on: where the duplicates came
from (a few hyperactive accounts or everyone), how much of each corpus a handful of users write, and
whether the lexicon got poorer or richer. Diversity is measured on equal-size seeded samples because
entropy and type counts grow with corpus size; comparing unequal corpora would only measure their size.
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
from tqdm import tqdm

from tweetbert.corpus.io import read_corpus
from tweetbert.errors import InputError
from tweetbert.mecab import mecab_tagger
from tweetbert.plots.corpus import plot_diversity, plot_duplicates_by_activity, plot_user_contribution
from tweetbert.settings import mirrors, setting

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


@mirrors("stats")
@dataclass(frozen=True)
class CorpusStatsSettings:
    sample_size: int | None = None  # None: the smallest corpus's size
    ngram_sizes: list[int] = setting([1, 2, 3])
    seed: int = setting(0, key="seed")


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


def duplicates_by_activity(raw: pd.DataFrame, annotated: pd.DataFrame,
                           edges: Sequence[int] = ACTIVITY_EDGES) -> pd.DataFrame:
    """Users, tweets and duplicates per activity segment (by raw tweet count), only non-empty segments."""
    tweets = raw.groupby("user_id", sort=True).size()
    duplicates = (annotated.loc[annotated["is_duplicate"].astype(bool), "user_id"]
                  .value_counts().reindex(tweets.index, fill_value=0))
    users = pd.DataFrame({"segment": activity_segments(tweets, edges), "tweets": tweets, "duplicates": duplicates})
    table = users.groupby("segment", observed=True).agg(
        users=("tweets", "size"), tweets=("tweets", "sum"), duplicates=("duplicates", "sum")).reset_index()
    table["segment"] = table["segment"].astype(str)
    table["duplicate_ratio"] = table["duplicates"] / table["tweets"]
    return table


def tweets_per_user_distribution(corpora: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """How many users wrote exactly k tweets, per corpus: the histogram behind the log-log plot."""
    parts = []
    for name, frame in corpora.items():
        counts = frame.groupby("user_id").size().value_counts().sort_index()
        parts.append(pd.DataFrame({"corpus": name, "tweets_per_user": counts.index.astype("int64"),
                                   "users": counts.to_numpy(dtype="int64")}))
    return pd.concat(parts, ignore_index=True)


def top_user_share(corpora: Mapping[str, pd.DataFrame], fraction: float = 0.01) -> pd.DataFrame:
    """Share of all tweets written by the most active ``fraction`` of users (at least one user)."""
    rows = []
    for name, frame in corpora.items():
        counts = np.sort(frame.groupby("user_id").size().to_numpy())[::-1]
        top = max(1, math.ceil(fraction * len(counts))) if len(counts) else 0
        top_tweets = int(counts[:top].sum())
        rows.append({"corpus": name, "users": len(counts), "top_users": top, "tweets": int(counts.sum()),
                     "top_tweets": top_tweets, "top_share": top_tweets / counts.sum() if len(counts) else math.nan})
    return pd.DataFrame(rows)


def summary(corpora: Mapping[str, pd.DataFrame], annotated: pd.DataFrame) -> pd.DataFrame:
    """One row per corpus; the duplicate ratio only makes sense for the raw corpus, so the others leave it empty."""
    rows = []
    for name, frame in corpora.items():
        per_user = frame.groupby("user_id").size()
        rows.append({
            "corpus": name,
            "tweets": len(frame),
            "users": len(per_user),
            "duplicate_ratio": annotated["is_duplicate"].astype(bool).sum() / len(frame) if name == "raw" else math.nan,
            "mean_tweets_per_user": per_user.mean(),
            "median_tweets_per_user": per_user.median(),
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


def equal_size_samples(corpora: Mapping[str, pd.DataFrame], sample_size: int | None,
                       seed: int) -> dict[str, pd.DataFrame]:
    """Same-size random samples of every corpus, independent of the files' row order.

    The size is ``sample_size`` capped at the smallest corpus: a larger one could not be drawn from every
    corpus, and unequal sizes would defeat the comparison. The size used is in the diversity table.
    """
    if sample_size is not None and sample_size < 1:
        raise ValueError(f"sample_size must be a positive number of tweets, not {sample_size}")
    smallest = min(len(frame) for frame in corpora.values())
    size = smallest if sample_size is None else min(sample_size, smallest)
    if sample_size is not None and size < sample_size:
        log.warning("sample size %d exceeds the smallest corpus; using %d tweets per corpus", sample_size, size)
    samples = {}
    for name, frame in corpora.items():
        ordered = frame.sort_values("id", kind="stable", ignore_index=True)
        rows = np.sort(np.random.default_rng(seed).choice(len(ordered), size=size, replace=False))
        samples[name] = ordered.iloc[rows].reset_index(drop=True)
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


def _require_subset(ids: pd.Series, known: pd.Series, path: Path, of: str) -> None:
    """Stops on rows the other corpus lacks: they would mean the three files come from different runs."""
    missing = ~ids.isin(known)
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0])
        raise InputError(path, f"id {ids.iloc[row]!r} is not in the {of} corpus", row=row + 1, column="id")


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
                       sample_size: int | None = None, ngram_sizes: Sequence[int] = (1, 2, 3)) -> dict[str, Path]:
    """Writes every corpus-statistics table and figure at ``paths`` (:data:`CORPUS_STATS_OUTPUTS`); returns them.

    ``dedup`` is the dedup-annotated corpus (all rows, ``is_duplicate`` marked): its full rows are the raw
    corpus in normalised form, which the word statistics need.
    """
    raw, dedup, balanced = Path(raw), Path(dedup), Path(balanced)
    paths = {name: Path(paths[name]) for name in CORPUS_STATS_OUTPUTS}
    raw_frame = read_corpus(raw, columns=["id", "user_id", "text"])
    annotated = read_corpus(dedup, columns=["id", "user_id", "text", "is_duplicate"])
    balanced_frame = read_corpus(balanced, columns=["id", "user_id", "text"])
    _require_subset(annotated["id"], raw_frame["id"], dedup, "raw")
    kept = annotated.loc[~annotated["is_duplicate"].astype(bool)]
    _require_subset(balanced_frame["id"], kept["id"], balanced, "dedup (non-duplicate rows)")

    counted = {"raw": raw_frame, "dedup": kept, "balanced": balanced_frame}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)

    def table(name: str, frame: pd.DataFrame, plot=None) -> None:
        _write_tsv(frame, paths[name])
        if plot is not None:
            plot(frame, paths[f"{name}_plot"])

    table("summary", summary(counted, annotated))
    table("duplicates_by_activity", duplicates_by_activity(raw_frame, annotated), plot_duplicates_by_activity)
    table("user_contribution", tweets_per_user_distribution(counted), plot_user_contribution)
    table("top_user_share", top_user_share(counted))

    normalised = {"raw": annotated, "dedup": kept, "balanced": balanced_frame}
    samples = equal_size_samples(normalised, sample_size, seed)
    raw_text = dict(zip(raw_frame["id"], raw_frame["text"]))
    table("diversity", diversity(samples, raw_text, ngram_sizes), plot_diversity)
    return paths
