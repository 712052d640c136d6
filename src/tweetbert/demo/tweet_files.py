"""The demo's raw corpus as data frames (small corpora, tests) or as the files a user would supply (any size)."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Sequence
from json.encoder import encode_basestring as json_string
from pathlib import Path

import numpy as np
import pandas as pd

from tweetbert.demo.tweets import tweet_batches


def generate_tweets(n_tweets: int, seed: int, planted: Sequence[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The raw corpus (id, user_id, created_at, text) and its truth (id, cluster), both in time order.

    Every tweet has a truth cluster; tweets that duplicate nothing have a cluster of their own. The frames hold
    the whole corpus in memory; ``write_tweets`` streams it to files instead.
    """
    with tempfile.TemporaryFile() as scratch:
        columns = [list(itertools.chain.from_iterable(parts)) for parts in zip(*tweet_batches(n_tweets, seed, scratch, planted))]
    tweets = pd.DataFrame(dict(zip(("id", "user_id", "created_at", "text"), columns)))
    return tweets, pd.DataFrame({"id": columns[0], "cluster": np.array(columns[4], dtype=np.int64)})


def write_tweets(out_dir: Path, seed: int = 0, n_tweets: int = 20_000, planted: Sequence[str] = ()
                 ) -> dict[str, Path]:
    """Writes ``tweets.jsonl`` (the raw corpus as a user would supply it) and ``duplicate_clusters.tsv``;
    ``planted`` texts replace as many one-off tweets.

    Rows are written a batch at a time, each line as ``json.dumps(row, ensure_ascii=False)`` writes it. The
    scratch file of texts, as large as they are, lies next to the outputs (a temporary directory may be in
    memory) and is gone when done.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tweets_path, truth_path = out_dir / "tweets.jsonl", out_dir / "duplicate_clusters.tsv"
    with tempfile.TemporaryFile(dir=out_dir) as scratch:
        batches = tweet_batches(n_tweets, seed, scratch, planted)
        with (tweets_path.open("w", encoding="utf-8", newline="\n") as out,
              truth_path.open("w", encoding="utf-8", newline="\n") as truth):
            truth.write("id\tcluster\n")
            for ids, users, created, texts, clusters in batches:
                out.write("".join(f'{{"id": "{i}", "user_id": "{u}", "created_at": "{c}", "text": {json_string(t)}}}\n'
                                  for i, u, c, t in zip(ids, users, created, texts)))
                truth.write("".join(f"{i}\t{k}\n" for i, k in zip(ids, clusters)))
    return {"tweets": tweets_path, "duplicate_clusters": truth_path}
