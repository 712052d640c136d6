"""User balancing: at most N tweets per user, so prolific accounts and bots cannot dominate pre-training."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tweetbert.corpus.dedup import text_hashes
from tweetbert.settings import mirrors, setting


@mirrors("balance")
@dataclass(frozen=True)
class BalanceSettings:
    max_per_user: int = 100
    seed: int = setting(0, key="seed")


def balance_users(frame: pd.DataFrame, max_per_user: int, seed: int) -> pd.DataFrame:
    """Keeps at most ``max_per_user`` rows per ``user_id``, in input order.

    Which rows a user keeps is decided by a seeded hash of the tweet id, not by position, so the choice does
    not depend on how the corpus happens to be ordered or sharded.
    """
    if max_per_user < 1:
        raise ValueError(f"max_per_user must be at least 1, not {max_per_user}")
    priority = text_hashes([f"{seed}\x00{tweet_id}" for tweet_id in frame["id"].astype(str)])
    order = np.lexsort((priority, frame["user_id"].astype(str).to_numpy()))
    rank = np.empty(len(frame), dtype=np.int64)
    rank[order] = frame["user_id"].iloc[order].groupby(frame["user_id"].iloc[order].to_numpy()).cumcount().to_numpy()
    return frame[rank < max_per_user].reset_index(drop=True)
