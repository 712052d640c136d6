"""Balancing caps users with a seeded choice; splits keep duplicate groups together and check for leakage."""

import numpy as np
import pandas as pd
import pytest

from tweetbert.corpus.balance import balance_users
from tweetbert.corpus.dedup import DedupParams, compute_signatures
from tweetbert.corpus.split import (
    DEFAULT_RATIOS,
    DuplicateIndex,
    assign_splits,
    check_ratios,
    leakage,
    require_every_split,
    split_corpus,
)
from tweetbert.errors import ConfigError, InputError


def corpus(n_users=5, per_user=(1, 3, 50, 200, 7)):
    rows = [(f"{u}-{i}", f"u{u}") for u in range(n_users) for i in range(per_user[u])]
    return pd.DataFrame({"id": [r[0] for r in rows], "user_id": [r[1] for r in rows], "text": "x"})


def test_no_user_keeps_more_than_the_cap_and_small_users_keep_everything():
    balanced = balance_users(corpus(), max_per_user=10, seed=0)
    counts = balanced["user_id"].value_counts().to_dict()
    assert counts == {"u0": 1, "u1": 3, "u2": 10, "u3": 10, "u4": 7}


def test_the_choice_is_seeded_and_independent_of_row_order():
    frame = corpus()
    kept = set(balance_users(frame, 10, seed=1)["id"])
    shuffled = frame.sample(frac=1.0, random_state=3)
    assert set(balance_users(shuffled, 10, seed=1)["id"]) == kept
    assert set(balance_users(frame, 10, seed=2)["id"]) != kept


def test_balanced_rows_keep_their_input_order():
    balanced = balance_users(corpus(), 10, seed=0)
    positions = corpus().reset_index().set_index("id").loc[balanced["id"], "index"]
    assert positions.is_monotonic_increasing


def test_splits_follow_the_ratios_and_the_seed():
    group = np.arange(10000)
    ratios = {"train": 0.75, "validation": 0.05, "dev": 0.10, "test": 0.10}
    split = assign_splits(group, ratios, seed=0)
    shares = pd.Series(split).value_counts(normalize=True)
    for name, share in ratios.items():
        assert shares[name] == pytest.approx(share, abs=0.002)
    assert (assign_splits(group, ratios, seed=0) == split).all()
    assert (assign_splits(group, ratios, seed=1) != split).any()


def test_every_member_of_a_group_lands_in_one_split():
    group = np.repeat(np.arange(300), 7)
    split = assign_splits(group, {"train": 0.5, "test": 0.5}, seed=0)
    per_group = pd.DataFrame({"g": group, "s": split}).groupby("g")["s"].nunique()
    assert (per_group == 1).all()


def test_ratios_that_do_not_sum_to_one_name_the_key():
    with pytest.raises(ConfigError, match="split.ratios"):
        check_ratios({"train": 0.8, "test": 0.3})


TEXTS = [
    "新しいカフェに行ってきた。抹茶ラテがとても美味しくて、店員さんも優しかった！また行きたいな",
    "新しいカフェに行ってきた。抹茶ラテがとても美味しくて、店員さんも優しかった！また行きたいな😊",
    "昨日の試合は最後まで目が離せなかった。延長戦で逆転勝ちとか最高すぎる",
    "昨日の試合は最後まで目が離せなかった。延長戦で逆転勝ちとか最高すぎる",
] + [f"まったく別の話題その{i}について長めに書いてみることにします、よろしく" for i in range(40)]


def index_of(texts):
    shard = compute_signatures(texts, DedupParams(), workers=1, progress=False)
    return DuplicateIndex(shard.text_hash, shard.n_shingles, shard.signature)


def test_near_duplicates_kept_in_the_corpus_are_grouped_into_one_split():
    # Rows kept as separate clusters (as if the dedup pass had not linked them) must still share a split.
    frame = pd.DataFrame({"id": [str(i) for i in range(len(TEXTS))], "user_id": "u", "text": TEXTS,
                          "cluster_id": np.arange(len(TEXTS))})
    for seed in range(5):
        out, stats = split_corpus(frame, index_of(TEXTS), DedupParams(), {"train": 0.5, "test": 0.5}, seed)
        assert out["split"].iloc[0] == out["split"].iloc[1]
        assert out["split"].iloc[2] == out["split"].iloc[3]
        assert set(stats["leakage"].values()) == {0}


def test_the_leakage_check_counts_duplicates_that_cross_splits():
    index = index_of(TEXTS)
    near = index.near_links(DedupParams())
    split = np.array(["train", "test", "train", "test"] + ["train"] * 40)
    counts = leakage(split, np.arange(len(TEXTS)), index.text_hash, near)
    assert counts["exact_duplicate_pairs_across_splits"] == 1
    assert counts["near_duplicate_pairs_across_splits"] >= 2
    clusters = np.array([0, 0, 2, 3] + list(range(4, 44)))
    assert leakage(split, clusters, index.text_hash, near)["cluster_pairs_across_splits"] == 1


def test_a_corpus_too_small_for_every_split_stops_naming_the_empty_ones():
    # 200 copies of one tweet (or 200 URL-only tweets, all "[URL]" once normalised) leave one tweet after dedup.
    texts = [TEXTS[0], TEXTS[2]]
    frame = pd.DataFrame({"id": ["1", "2"], "user_id": "u", "text": texts, "cluster_id": [0, 1]})
    _, stats = split_corpus(frame, index_of(texts), DedupParams(), DEFAULT_RATIOS, seed=0)
    with pytest.raises(InputError, match=r"2 tweet\(s\) left after dedup, in 2 group\(s\).* would be empty.*"
                                         r"split.ratios") as raised:
        require_every_split(stats, DEFAULT_RATIOS, "dedup.parquet")
    assert raised.value.path == "dedup.parquet"
    empty = [name for name, count in stats["splits"].items() if count == 0]
    assert f"; {'/'.join(empty)} would be empty" in str(raised.value)
    shares = {"train": 1.0, "validation": 0.0}  # a split without a share needs no tweet
    require_every_split({"rows": 2, "groups": 2, "splits": {"train": 2, "validation": 0}}, shares, "dedup.parquet")
