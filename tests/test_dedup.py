"""Dedup: exact and near duplicates found, unrelated tweets kept apart, sharded run equal to the in-memory run."""

import numpy as np
import pandas as pd
import pytest

from tweetbert.corpus.dedup import (
    DedupParams,
    compute_signatures,
    deduplicate,
    merge_clusters,
    write_band_links,
    write_signature_shard,
)
from tweetbert.corpus.io import read_corpus, write_corpus
from tweetbert.errors import ConfigError

TEXTS = [
    "新しいカフェに行ってきた。抹茶ラテがとても美味しくて、店員さんも優しかった！また行きたいな",
    "昨日の試合は最後まで目が離せなかった。延長戦で逆転勝ちとか最高すぎる",
    "新しいカフェに行ってきた。抹茶ラテがとても美味しくて、店員さんも優しかった！また行きたいな😊",
    "電車が遅れて会議に間に合わなかった。朝から疲れたけど午後は頑張ろう",
    "昨日の試合は最後まで目が離せなかった。延長戦で逆転勝ちとか最高すぎる",
    "今日のお昼は近所の定食屋で唐揚げ定食。ご飯おかわり無料は嬉しい",
    "[URL]",
    "[URL]",
]


def test_exact_and_near_duplicates_cluster_and_the_first_row_is_kept():
    result = deduplicate(TEXTS, workers=1)
    assert result.cluster_id.tolist() == [0, 1, 0, 3, 1, 5, 6, 6]
    assert result.is_duplicate.tolist() == [False, False, True, False, True, False, False, True]
    assert result.stats["exact_duplicates"] == 2 and result.stats["near_duplicates"] == 1
    assert result.stats["rows_without_shingles"] == 2


def test_texts_without_shingles_are_matched_only_exactly():
    result = deduplicate(["[URL]", "[USER]", "[URL]"], workers=1)
    assert result.cluster_id.tolist() == [0, 1, 0]


def test_unrelated_tweets_sharing_a_few_words_are_not_chained_together():
    rng = np.random.default_rng(0)
    kana = list("あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろ")
    words = ["".join(rng.choice(kana, 3)) + "駅" for _ in range(3000)]
    texts = ["、".join(rng.choice(words, 12)) for _ in range(5000)]
    result = deduplicate(texts, workers=1)
    assert result.stats["largest_cluster"] <= 3
    assert result.stats["duplicates"] < 25


def test_verification_off_keeps_every_lsh_candidate():
    strict = deduplicate(TEXTS, DedupParams(verify=True), workers=1)
    loose = deduplicate(TEXTS, DedupParams(verify=False), workers=1)
    assert loose.is_duplicate.sum() >= strict.is_duplicate.sum()


def test_multi_process_signatures_equal_single_process_ones():
    texts = [f"{text} {i // len(TEXTS)}" for i, text in enumerate(TEXTS * 700)]  # distinct: several batches
    one = deduplicate(texts, workers=1)
    two = deduplicate(texts, workers=2)
    assert np.array_equal(one.cluster_id, two.cluster_id)


def test_repeated_texts_get_the_rows_of_their_first_occurrence():
    texts = [TEXTS[0], TEXTS[1], TEXTS[0], TEXTS[3], TEXTS[1], TEXTS[0]]
    repeated = compute_signatures(texts, DedupParams(), workers=1, progress=False)
    alone = [compute_signatures([text], DedupParams(), workers=1, progress=False) for text in texts]
    assert np.array_equal(repeated.signature, np.concatenate([shard.signature for shard in alone]))
    assert np.array_equal(repeated.text_hash, np.concatenate([shard.text_hash for shard in alone]))
    assert np.array_equal(repeated.n_shingles, np.concatenate([shard.n_shingles for shard in alone]))


def test_sharded_steps_give_the_same_clusters_as_the_in_memory_run(tmp_path):
    texts = TEXTS * 5 + [f"全然違う内容のツイート番号{i}です。今日も一日お疲れさまでした" for i in range(20)]
    corpus = tmp_path / "normalized.parquet"
    write_corpus(pd.DataFrame({"id": [str(i) for i in range(len(texts))], "user_id": "u", "created_at": "",
                               "text": texts}), corpus)
    params = DedupParams()
    shard_dirs = [tmp_path / f"shard-{i}" for i in range(3)]
    for i, directory in enumerate(shard_dirs):
        write_signature_shard(corpus, directory, params, shards=3, shard=i, workers=1)
    links = [tmp_path / f"group-{g}.npy" for g in range(4)]
    for g, path in enumerate(links):
        write_band_links(shard_dirs, path, params, groups=4, group=g)
    stats = merge_clusters(corpus, shard_dirs, links, params, tmp_path / "annotated.parquet")
    frame = read_corpus(tmp_path / "annotated.parquet")
    expected = deduplicate(texts, params, workers=1)
    assert frame["cluster_id"].tolist() == expected.cluster_id.tolist()
    assert frame["is_duplicate"].tolist() == expected.is_duplicate.tolist()
    assert stats == expected.stats


def test_inconsistent_settings_name_the_config_key():
    with pytest.raises(ConfigError, match="dedup.threshold"):
        DedupParams(threshold=1.2)
    with pytest.raises(ConfigError, match="dedup.rows"):
        DedupParams(bands=10)
    with pytest.raises(ConfigError, match="dedup.bands"):
        DedupParams(bands=100, rows=2, num_perm=128)


def pair_precision_recall(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Pair-counting precision and recall of a clustering, from contingency counts (no pair enumeration)."""
    frame = pd.DataFrame({"p": predicted, "t": truth})

    def pairs(sizes):
        return int((sizes * (sizes - 1) // 2).sum())

    both = pairs(frame.groupby(["p", "t"]).size())
    return both / pairs(frame.groupby("p").size()), both / pairs(frame.groupby("t").size())


def test_planted_duplicate_clusters_are_found_with_high_precision_and_recall():
    from tweetbert.corpus.normalize import normalize_texts
    from tweetbert.demo import generate_tweets

    tweets, truth = generate_tweets(8000, seed=3)
    result = deduplicate(normalize_texts(tweets["text"].tolist()), workers=2)
    precision, recall = pair_precision_recall(result.cluster_id, tweets["id"].map(truth.set_index("id")["cluster"]))
    assert precision >= 0.95
    assert recall >= 0.95
