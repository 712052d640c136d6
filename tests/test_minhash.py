"""Shingles and MinHash: deterministic hashes, the short-text rule, banding and bucket links."""

import numpy as np
import pytest

from tweetbert.corpus.minhash import (
    LshParams,
    bucket_edges,
    estimated_jaccard,
    hash_coefficients,
    optimal_lsh_params,
    signatures,
    sorted_unique,
)
from tweetbert.corpus.shingles import MecabWords, ShingleBatch, ngram_hashes, shingle_sets, shingle_texts, token_hashes


def as_sets(batch):
    return [set(batch.hashes[a:b].tolist()) for a, b in zip(batch.offsets[:-1], batch.offsets[1:])]


def test_shingle_hashes_match_the_readable_word_ngrams():
    texts = ["今日は渋谷でラーメンを食べた。めっちゃ美味しかった！", "おはよう", "[URL]", "今日は渋谷でラーメンを食べた。"]
    hashed = as_sets(shingle_texts(texts, 3))
    readable = shingle_sets(texts, 3)
    assert [len(h) for h in hashed] == [len(r) for r in readable]
    assert readable[2] == set() and hashed[2] == set()
    assert len(hashed[0] & hashed[3]) == len(readable[0] & readable[3]) > 0


def test_placeholders_are_left_out_of_shingles():
    assert shingle_sets(["[URL] 猫がかわいい [USER]"], 2) == shingle_sets(["猫がかわいい"], 2)


def test_a_batch_is_parsed_as_its_texts_are_one_by_one():
    words = MecabWords()
    batches = [
        ["[URL] 猫がかわいい [USER]", "[UR", "L]今日は晴れ", "", "[USER][URL]"],  # no placeholder across two texts
        ["猫\x00[URL]犬", "[USER]おはよう"],  # a text holding the batch separator itself
        [],
    ]
    for texts in batches:
        assert words.parse_all(texts) == [words.parse(text) for text in texts]


def test_a_text_shorter_than_n_is_one_shingle_of_all_its_words():
    batch = ngram_hashes(np.array([1, 2, 3, 1, 2], dtype=np.uint64), np.array([3, 2]), n=5)
    assert batch.counts.tolist() == [1, 1]
    assert batch.hashes[0] != batch.hashes[1]


def test_word_order_changes_the_shingle_hash():
    batch = ngram_hashes(np.array([1, 2, 2, 1], dtype=np.uint64), np.array([2, 2]), n=2)
    assert batch.hashes[0] != batch.hashes[1]


def test_hashes_are_the_same_in_every_run():
    first = shingle_texts(["同じ文章を二回ハッシュする"], 2).hashes
    assert first.tolist() == shingle_texts(["同じ文章を二回ハッシュする"], 2).hashes.tolist()


def test_tokens_are_cut_where_str_split_cuts_them():
    parsed = ["今日 は\n渋谷", "", "  ", "a\u3000b\x85c\u2028d\x1fe", "渋谷 は 今日", "😀😀 😀"]
    hashes, counts = token_hashes(parsed)
    tokens = [token for text in parsed for token in text.split()]
    assert counts.tolist() == [len(text.split()) for text in parsed]
    by_token = dict(zip(tokens, hashes.tolist()))
    assert [by_token[token] for token in tokens] == hashes.tolist()
    assert len(set(by_token.values())) == len(by_token)


def test_signatures_are_the_per_document_minimum_of_each_multiply_shift_hash():
    rng = np.random.default_rng(2)
    counts = rng.integers(0, 40, 3000)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    batch = ShingleBatch(rng.integers(0, 2**63, counts.sum(), dtype=np.uint64), offsets)
    a, b = hash_coefficients(16, seed=5)
    expected = np.full((len(counts), 16), 0xFFFFFFFF, dtype=np.uint32)
    for doc, (start, stop) in enumerate(zip(batch.offsets[:-1], batch.offsets[1:])):
        if stop > start:
            expected[doc] = ((np.multiply.outer(batch.hashes[start:stop], a) + b) >> np.uint64(32)).min(axis=0)
    assert np.array_equal(signatures(batch, 16, seed=5), expected)


def test_signature_agreement_estimates_jaccard():
    rng = np.random.default_rng(1)
    base = rng.integers(0, 2**63, 200, dtype=np.uint64)
    other = np.concatenate([base[:100], rng.integers(0, 2**63, 100, dtype=np.uint64)])  # Jaccard 100/300
    batch = ShingleBatch(np.concatenate([base, other]), np.array([0, 200, 400]))
    sigs = signatures(batch, 512, seed=0)
    estimate = estimated_jaccard(sigs, np.array([0]), np.array([1]))[0]
    assert estimate == pytest.approx(1 / 3, abs=0.06)


def test_documents_without_shingles_get_the_empty_signature():
    sigs = signatures(ShingleBatch(np.array([5], dtype=np.uint64), np.array([0, 0, 1])), 4, seed=0)
    assert (sigs[0] == 0xFFFFFFFF).all() and not (sigs[1] == 0xFFFFFFFF).all()


def test_optimal_banding_for_the_study_threshold_puts_the_s_curve_around_it():
    params = optimal_lsh_params(0.2, 128)
    assert params.num_hashes <= 128
    assert params.candidate_probability(0.05) < 0.2
    assert params.candidate_probability(0.5) > 0.9


def test_bucket_members_link_to_the_first_and_previous_member_only():
    keys = np.array([7, 7, 7, 3, 7], dtype=np.uint64)
    member, first, previous = bucket_edges(keys, np.arange(5))
    assert member.tolist() == [1, 2, 4]
    assert first.tolist() == [0, 0, 0]
    assert previous.tolist() == [0, 1, 2]


def test_bucket_members_are_taken_in_id_order_whatever_order_the_ids_come_in():
    member, first, previous = bucket_edges(np.array([7, 7, 3, 7], dtype=np.uint64), np.array([5, 2, 9, 0]))
    assert member.tolist() == [2, 5]
    assert first.tolist() == [0, 0]
    assert previous.tolist() == [0, 2]


def test_a_huge_bucket_yields_linear_not_quadratic_links():
    member, _, _ = bucket_edges(np.zeros(13000, dtype=np.uint64), np.arange(13000))
    assert len(member) == 12999


def test_lsh_params_report_their_hash_budget():
    assert LshParams(28, 2).num_hashes == 56


def test_sorted_unique_matches_numpy_unique():
    values = np.random.default_rng(0).integers(0, 50, 1000)
    assert sorted_unique(values).tolist() == np.unique(values).tolist()


def test_signatures_hold_every_hash_of_the_budget_not_only_the_banded_ones():
    from tweetbert.corpus.dedup import DedupParams, compute_signatures

    shard = compute_signatures(["同じような文章がここにあります、よろしくお願いします"], DedupParams(num_perm=128),
                               workers=1, progress=False)
    assert shard.signature.shape == (1, 128)
