"""Probes of the selected model: masked-word choice, top-K accuracy, t-SNE probes and the acceptability kit."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from tweetbert.analysis.acceptability_sheet import OPEN_MARK, build_key, token_spans, write_kit
from tweetbert.analysis.masked_words import (
    MaskedLM, gold_ranks, is_word_token, pick, shared_targets, whole_word_positions,
)
from tweetbert.analysis.probe_words import HIRAGANA, KATAKANA, probe_items
from tweetbert.analysis.probes import write_probes
from tweetbert.analysis.topk import accuracy_table, build_examples, model_ranks, write_topk
from tweetbert.demo import generate_general_text

SPECIAL = frozenset({"[CLS]", "[SEP]", "[UNK]", "[URL]", "\n"})


@pytest.fixture(scope="module")
def texts():
    return generate_general_text(400, seed=3)


@pytest.fixture(scope="module")
def tiny_lm(tiny_base_model):
    return MaskedLM.load("tiny", tiny_base_model)


def test_word_tokens_exclude_specials_pieces_and_punctuation():
    assert is_word_token("猫", SPECIAL) and is_word_token("2024", SPECIAL)
    assert not any(is_word_token(token, SPECIAL) for token in ("[URL]", "##ね", "。", "😂", "!!", "\n"))


def test_whole_words_are_not_followed_by_a_piece():
    tokens = ["今日", "は", "ラー", "##メン", "[URL]", "。", "猫"]
    assert whole_word_positions(tokens, SPECIAL) == [0, 1, 6]


def test_shared_targets_pair_the_same_occurrence_of_a_word_in_both_tokenizations():
    base = ["猫", "と", "猫", "##又", "と", "猫"]        # whole words: 猫(0) と(1) と(4) 猫(5)
    adapted = ["猫", "と", "猫又", "と", "猫"]           # whole words: 猫(0) と(1) 猫又(2) と(3) 猫(4)
    targets = shared_targets([base, adapted], [SPECIAL, SPECIAL])
    assert [(t.word, t.occurrence, t.positions) for t in targets] == [
        ("猫", 0, (0, 0)), ("と", 0, (1, 1)), ("と", 1, (4, 3)), ("猫", 1, (5, 4))]


def test_the_pick_depends_only_on_seed_and_example():
    targets = shared_targets([["a", "b", "c", "d"]], [SPECIAL])
    assert pick(targets, 0, 7) == pick(targets[:], 0, 7)
    assert len({pick(targets, 0, example).word for example in range(40)}) > 1


def test_gold_rank_counts_strictly_better_tokens():
    logits = torch.tensor([[0.1, 0.9, 0.5, 0.9], [3.0, 1.0, 2.0, 0.0]])
    assert gold_ranks(logits, [1, 3]).tolist() == [0, 3]
    assert gold_ranks(logits, [2, 0]).tolist() == [2, 0]


def test_every_example_masks_a_word_both_models_hold_as_one_token(tiny_lm, texts):
    examples, counts = build_examples(texts, [tiny_lm, tiny_lm], max_examples=50, max_length=64, seed=0)
    assert len(examples) == 50 and counts["looked_at"] == 50 + counts["no_shared_word"]
    for example in examples:
        for tokens, position in zip(example.tokens, example.target.positions):
            assert tokens[position] == example.target.word
            assert position + 1 == len(tokens) or not tokens[position + 1].startswith("##")


def test_the_same_model_twice_scores_the_same_and_accuracy_grows_with_k(tiny_lm, texts):
    examples, _ = build_examples(texts, [tiny_lm, tiny_lm], max_examples=60, max_length=64, seed=0)
    first, second = model_ranks(tiny_lm, 0, examples), model_ranks(tiny_lm, 1, examples)
    assert np.array_equal(first, second)
    table = accuracy_table({"a": first}, [1, 5, 100], published=None)
    assert table["accuracy"].is_monotonic_increasing
    assert table["accuracy"].iloc[-1] <= 1.0 and (table["n"] == 60).all()


def test_published_top_k_rows_cover_only_the_asked_ks():
    table = accuracy_table({"m": np.array([0, 2, 50])}, [1, 3, 7])
    published = table[table["source"] == "published"]
    assert set(published["k"]) == {1, 3} and published["n"].isna().all()
    assert table.loc[(table["model"] == "m") & (table["k"] == 3), "accuracy"].item() == pytest.approx(2 / 3)


def files_in(directory, names):
    """Output files in one folder, named as the workflow's rule names them (name -> file name)."""
    return {name: directory / file for name, file in names.items()}


TOPK_FILES = {"table": "topk.tsv", "examples": "examples.tsv", "stats": "topk.json", "plot": "topk.png"}
PROBE_FILES = {"coordinates": "tsne_coordinates.tsv", "scores": "separation.tsv", "summary": "probes.json",
               "plot": "tsne.png"}
KIT_FILES = {"key": "key.tsv", "sheet": "sheet.csv", "html": "sheet.html", "stats": "kit.json"}


def test_write_topk_is_byte_identical_on_a_rerun(tiny_base_model, texts, tmp_path):
    models = {"base": tiny_base_model, "adapted": tiny_base_model}
    for run in ("a", "b"):
        write_topk(texts, models, files_in(tmp_path / run, TOPK_FILES), ks=[1, 10], max_examples=40, max_length=64,
                   seed=1)
    for name in ("topk.tsv", "examples.tsv", "topk.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    stats = json.loads((tmp_path / "a" / "topk.json").read_text())
    assert stats["examples"] == 40 and stats["accuracy"]["base"] == stats["accuracy"]["adapted"]
    assert (tmp_path / "a" / "topk.png").stat().st_size > 0


def test_probe_items_hold_every_kana_and_seeded_samples():
    items = probe_items({"animals": ["犬", "猫"]}, n_kanji=10, n_emoji=12, seed=0)
    classes = pd.Series([label for label, _ in items]).value_counts()
    assert classes["hiragana"] == len(HIRAGANA) and classes["katakana"] == len(KATAKANA)
    assert classes["romaji"] == 26 and classes["kanji"] == 10 and classes["emoji"] == 12
    assert items == probe_items({"animals": ["犬", "猫"]}, n_kanji=10, n_emoji=12, seed=0)
    assert items != probe_items({"animals": ["犬", "猫"]}, n_kanji=10, n_emoji=12, seed=1)


def test_an_item_in_two_classes_is_refused():
    with pytest.raises(ValueError, match="two classes"):
        probe_items({"animals": ["犬"], "pets": ["犬"]}, n_kanji=2, n_emoji=2)


def test_probes_score_each_model_and_mark_unknown_items(tiny_base_model, tmp_path):
    items = [(label, word) for label, words in {
        "hiragana": "あいうえおかきくけこ", "katakana": "アイウエオカキクケコ", "romaji": "abcdefghij"}.items()
        for word in words] + [("emoji", "🦩"), ("emoji", "🪼")]
    models = {"base": tiny_base_model, "again": tiny_base_model}
    paths = write_probes(models, items, files_in(tmp_path, PROBE_FILES), seed=0)
    scores = pd.read_csv(paths["scores"], sep="\t")
    assert len(scores) == 4
    by_model = scores.set_index(["model", "representation"])["silhouette"]
    assert by_model["base"].tolist() == by_model["again"].tolist()
    coordinates = pd.read_csv(paths["coordinates"], sep="\t")
    assert len(coordinates) == 4 * len(items)
    unknown = coordinates[coordinates["item"].isin(["🦩", "🪼"])]["unknown"]
    assert unknown.all(), "emoji outside the tiny vocabulary must be marked [UNK]"
    assert (scores["scored_items"] < len(items)).all()
    again = write_probes(models, items, files_in(tmp_path / "again", PROBE_FILES), seed=0)
    for name in ("coordinates", "scores", "summary"):
        assert paths[name].read_bytes() == again[name].read_bytes()


def test_token_spans_follow_pieces_whitespace_and_refuse_a_mismatch():
    text = "今日は ラーメン\n[URL]"
    spans = token_spans(text, ["今日", "は", "ラー", "##メン", "\n", "[URL]"])
    assert [text[s:e] if s is not None else None for s, e in (span or (None, None) for span in spans)] == [
        "今日", "は", "ラー", "メン", None, "[URL]"]
    assert token_spans(text, ["今日", "[UNK]", "ラーメン", "[URL]"]) is None
    assert token_spans(text, ["今日", "は"]) is None


def test_the_kit_has_one_group_per_k_and_hides_k_from_annotators(tiny_base_model, texts, tmp_path):
    paths = write_kit([f"t{i}" for i in range(len(texts))], texts, tiny_base_model, files_in(tmp_path, KIT_FILES),
                      ks=[1, 3, 10], per_k=4, min_tokens=5, max_tokens=40, annotators=["ann1", "ann2"], seed=0)
    key = pd.read_csv(paths["key"], sep="\t", dtype={"example_id": str})
    assert key["k"].value_counts().to_dict() == {1: 4, 3: 4, 10: 4}
    assert key["item"].tolist() == list(range(1, 13))
    for row in key.itertuples():
        assert row.sentence.count(OPEN_MARK) == 1 and f"{OPEN_MARK}{row.replacement}】" in row.sentence
        assert row.sentence.replace(f"{OPEN_MARK}{row.replacement}】", row.original) == row.original_sentence
        assert is_word_token(row.replacement, SPECIAL)
    assert paths["sheet"].read_bytes().startswith("\ufeff".encode())
    sheet = pd.read_csv(paths["sheet"], encoding="utf-8-sig")
    assert list(sheet.columns) == ["item", "sentence", "replacement", "label_ann1", "label_ann2"]
    assert sheet[["label_ann1", "label_ann2"]].isna().all().all()
    assert "<mark>" in paths["html"].read_text(encoding="utf-8")
    again = write_kit([f"t{i}" for i in range(len(texts))], texts, tiny_base_model,
                      files_in(tmp_path / "again", KIT_FILES), ks=[1, 3, 10], per_k=4, min_tokens=5, max_tokens=40,
                      annotators=["ann1", "ann2"], seed=0)
    assert all(paths[name].read_bytes() == again[name].read_bytes() for name in ("key", "sheet", "html", "stats"))


def test_the_kit_says_how_many_examples_it_could_not_find(tiny_lm, texts):
    with pytest.raises(ValueError, match="only .* of 300 examples"):
        build_key([str(i) for i in range(len(texts))], texts, tiny_lm, ks=[1, 3, 5], per_k=100, min_tokens=30,
                  max_tokens=40, seed=0)


def test_rank_k_replacements_differ_between_ranks(tiny_lm, texts):
    key, _ = build_key([str(i) for i in range(len(texts))], texts, tiny_lm, ks=[1, 100], per_k=10, min_tokens=5,
                       max_tokens=40, seed=0)
    kept = key[key["k"] == 1]
    assert (kept["replacement"] == kept["original"]).mean() >= (key[key["k"] == 100]["replacement"]
                                                                 == key[key["k"] == 100]["original"]).mean()
