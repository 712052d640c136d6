"""User balancing: at most N tweets per user, so prolific accounts and bots cannot dominate pre-training.

The choice works on integer columns (dictionary-encoded user ids, seeded priorities), and the balanced corpus is
written by streaming the dedup-annotated corpus through a row mask, so memory is a few bytes per tweet.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tweetbert.corpus.dedup import text_hashes
from tweetbert.corpus.io import CorpusWriter, corpus_batches, corpus_column
from tweetbert.errors import InputError

BALANCED_COLUMNS = ("id", "user_id", "created_at", "text", "cluster_id", "is_duplicate")


def tweet_priority(ids: Sequence[str], seed: int) -> np.ndarray:
    """A seeded hash of each tweet id: which tweets a capped user keeps, whatever the corpus's row order."""
    return text_hashes([f"{seed}\x00{tweet_id}" for tweet_id in ids])


def keep_per_user(user: np.ndarray, priority: np.ndarray, max_per_user: int) -> np.ndarray:
    """Mask of the ``max_per_user`` rows of lowest priority of each user (``user`` holds integer codes)."""
    if max_per_user < 1:
        raise ValueError(f"max_per_user must be at least 1, not {max_per_user}")
    order = np.lexsort((priority, user))
    grouped = user[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = grouped[1:] != grouped[:-1]
    first_of_group = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - first_of_group
    return rank < max_per_user


def balance_users(frame: pd.DataFrame, max_per_user: int, seed: int) -> pd.DataFrame:
    """Keeps at most ``max_per_user`` rows per ``user_id`` of an in-memory corpus, in input order."""
    user = pd.factorize(frame["user_id"].astype(str))[0]
    keep = keep_per_user(user, tweet_priority(frame["id"].astype(str), seed), max_per_user)
    return frame[keep].reset_index(drop=True)


def balance_corpus(annotated: Path, output: Path, max_per_user: int, seed: int) -> dict:
    """Writes the non-duplicate rows of the dedup-annotated corpus, capped per user, in input order; returns stats."""
    flags, priorities = [], [np.empty(0, np.uint64)]
    for batch in corpus_batches(annotated, ["id", "is_duplicate"]):
        flags.append(batch.column(1).to_numpy(zero_copy_only=False))
        priorities.append(tweet_priority(batch.column(0).filter(pa.array(~flags[-1])).to_pylist(), seed))
    duplicate, priority = np.concatenate(flags or [np.empty(0, bool)]), np.concatenate(priorities)
    users = pc.dictionary_encode(corpus_column(annotated, "user_id").filter(pa.array(~duplicate)).combine_chunks())
    user = users.indices.to_numpy()
    if not len(user):
        raise InputError(annotated, "holds no tweet that is not a duplicate: nothing to balance",
                         column="is_duplicate")
    selected = np.zeros(len(duplicate), dtype=bool)
    selected[np.flatnonzero(~duplicate)] = keep_per_user(user, priority, max_per_user)
    with CorpusWriter(output, BALANCED_COLUMNS) as writer:
        start = 0
        for batch in corpus_batches(annotated, BALANCED_COLUMNS):
            writer.write(batch.filter(pa.array(selected[start:start + batch.num_rows])))
            start += batch.num_rows
    per_user = np.bincount(user)
    return {"max_per_user": max_per_user, "input_rows": len(user), "kept": int(selected.sum()),
            "users": len(per_user), "users_capped": int((per_user > max_per_user).sum())}
