"""Probes of the selected model: masked-word choice, top-K accuracy, t-SNE probes and the acceptability kit."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from tweetbert.analysis.acceptability_sheet import (
    ANNOTATION_CRITERIA,
    OPEN_MARK,
    build_key,
    sheet_html,
    token_spans,
    write_kit,
)
from tweetbert.analysis.evaluation_texts import read_evaluation_texts
from tweetbert.analysis.masked_words import (
    MaskedLM,
    gold_ranks,
    is_word_token,
    pick,
    shared_targets,
    whole_word_positions,
)
from tweetbert.analysis.probe_words import HIRAGANA, KATAKANA, probe_items, resolve_sets
from tweetbert.analysis.probes import write_probes
from tweetbert.analysis.topk import accuracy_table, build_examples, model_ranks, write_topk
from tweetbert.demo import generate_general_text
from tweetbert.errors import ConfigError, InputError

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


def test_without_a_sample_size_every_text_is_looked_at(tiny_lm, texts):
    examples, counts = build_examples(texts[:30], [tiny_lm], max_examples=None, max_length=64, seed=0)
    assert counts["looked_at"] == 30 and len(examples) == 30 - counts["no_shared_word"]


def test_a_split_column_selects_the_rows_of_one_split_numbered_as_in_the_table(tmp_path):
    table = tmp_path / "wrime.tsv"
    table.write_text("Sentence\tTrain/Dev/Test\n一つ目\ttrain\n二つ目\ttest\n三つ目\tdev\n四つ目\ttest\n",
                     encoding="utf-8")
    assert read_evaluation_texts(table, column="Sentence", split_column="Train/Dev/Test", split="test") == (
        ["2", "4"], ["二つ目", "四つ目"])
    assert read_evaluation_texts(table, column="Sentence")[1] == ["一つ目", "二つ目", "三つ目", "四つ目"]
    with pytest.raises(InputError, match=r"no rows of split 'validation' \(values found: dev, test, train\)"):
        read_evaluation_texts(table, column="Sentence", split_column="Train/Dev/Test", split="validation")
    with pytest.raises(InputError, match=r"row 1, column 'split': missing column"):
        read_evaluation_texts(table, column="Sentence", split_column="split", split="test")


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


PROBE_ITEMS = [(label, word) for label, words in {
    "hiragana": "あいうえおかきくけこ", "katakana": "アイウエオカキクケコ", "romaji": "abcdefghij"}.items()
    for word in words] + [("emoji", "🦩"), ("emoji", "🪼")]
PROBE_SETS = {"basic": ["hiragana", "katakana"], "hiragana": ["hiragana"], "with_emoji": ["romaji", "emoji"]}


def test_probes_score_each_model_and_mark_unknown_items(tiny_base_model, tmp_path):
    items = PROBE_ITEMS
    models = {"base": tiny_base_model, "again": tiny_base_model}
    set_plots = {name: tmp_path / f"tsne_{name}.png" for name in PROBE_SETS}
    paths = write_probes(models, items, PROBE_SETS, files_in(tmp_path, PROBE_FILES), set_plots, seed=0)
    scores = pd.read_csv(paths["scores"], sep="\t")
    joint = scores[scores["set"] == "all"]
    assert len(joint) == 4
    by_model = joint.set_index(["model", "representation"])["silhouette"]
    assert by_model["base"].tolist() == by_model["again"].tolist()
    coordinates = pd.read_csv(paths["coordinates"], sep="\t")
    assert len(coordinates[coordinates["set"] == "all"]) == 4 * len(items)
    unknown = coordinates[coordinates["item"].isin(["🦩", "🪼"])]["unknown"]
    assert unknown.all(), "emoji outside the tiny vocabulary must be marked [UNK]"
    assert (joint["scored_items"] < len(items)).all()
    again = write_probes(models, items, PROBE_SETS, files_in(tmp_path / "again", PROBE_FILES),
                         {name: tmp_path / "again" / f"tsne_{name}.png" for name in PROBE_SETS}, seed=0)
    for name in ("coordinates", "scores", "summary"):
        assert paths[name].read_bytes() == again[name].read_bytes()


def test_each_probe_set_gets_its_own_map_and_silhouette_over_its_own_items(tiny_base_model, tmp_path):
    from sklearn.metrics import silhouette_score

    from tweetbert.analysis.masked_words import MaskedLM
    from tweetbert.analysis.probes import INPUT_EMBEDDING, encode_items

    set_plots = {name: tmp_path / f"tsne_{name}.png" for name in PROBE_SETS}
    paths = write_probes({"base": tiny_base_model}, PROBE_ITEMS, PROBE_SETS, files_in(tmp_path, PROBE_FILES),
                         set_plots, seed=0)
    scores = pd.read_csv(paths["scores"], sep="\t").set_index(["set", "representation"])
    assert scores.loc[("basic", INPUT_EMBEDDING), "items"] == 20
    assert scores.loc[("with_emoji", INPUT_EMBEDDING), "items"] == 12
    vectors, unknown = encode_items(MaskedLM.load("base", tiny_base_model), [word for _, word in PROBE_ITEMS])
    kana = np.arange(len(PROBE_ITEMS)) < 20
    known_kana = kana & ~unknown
    expected = silhouette_score(vectors[INPUT_EMBEDDING][known_kana],
                                [label for (label, _), keep in zip(PROBE_ITEMS, known_kana) if keep], metric="cosine")
    assert scores.loc[("basic", INPUT_EMBEDDING), "silhouette"] == pytest.approx(expected, abs=1e-6)
    assert pd.isna(scores.loc[("hiragana", INPUT_EMBEDDING), "silhouette"]), "one class: nothing to separate"
    assert not pd.isna(scores.loc[("all", INPUT_EMBEDDING), "silhouette"])
    coordinates = pd.read_csv(paths["coordinates"], sep="\t")
    own, joint = (coordinates[(coordinates["set"] == name) & (coordinates["representation"] == INPUT_EMBEDDING)
                              & coordinates["class"].isin(["hiragana", "katakana"])] for name in ("basic", "all"))
    assert own["item"].tolist() == joint["item"].tolist() and not np.allclose(own[["x", "y"]], joint[["x", "y"]])
    assert set(coordinates.loc[coordinates["set"] == "with_emoji", "class"]) == {"romaji", "emoji"}
    all_unknown = coordinates[coordinates["set"] == "with_emoji"]
    assert all_unknown["unknown"].all() and (all_unknown[["x", "y"]] == 0).all().all(), \
        "a set the model maps wholly to [UNK] is one point, not a crash"
    assert pd.isna(scores.loc[("with_emoji", INPUT_EMBEDDING), "silhouette"]), "no item is scored"
    assert all(path.stat().st_size > 0 for path in set_plots.values())
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    assert summary["sets"] == PROBE_SETS and set(summary["silhouette"]) == {"all", *PROBE_SETS}


def test_a_probe_set_without_its_figure_is_refused(tiny_base_model, tmp_path):
    with pytest.raises(ValueError, match="one figure per probe set"):
        write_probes({"base": tiny_base_model}, PROBE_ITEMS, PROBE_SETS, files_in(tmp_path, PROBE_FILES),
                     {"basic": tmp_path / "basic.png"}, seed=0)


def test_a_probe_set_too_small_for_a_tsne_map_names_its_key_before_any_model_loads(tmp_path):
    items = PROBE_ITEMS + [("pets", "犬"), ("pets", "猫")]
    with pytest.raises(ConfigError) as raised:
        write_probes({"base": tmp_path / "no-model"}, items, {"pets": ["pets"]}, files_in(tmp_path, PROBE_FILES),
                     {"pets": tmp_path / "pets.png"}, seed=0)
    assert raised.value.key == "probes.sets.pets" and "2 item(s)" in str(raised.value)


def test_nouns_stands_for_every_noun_class_and_an_unknown_class_names_its_key():
    nouns = {"food": ["寿司", "パン"], "animals": ["犬", "猫"]}
    assert resolve_sets({"n": ["nouns"], "mixed": ["animals", "kanji", "nouns"]}, nouns) == {
        "n": ["food", "animals"], "mixed": ["animals", "kanji", "food"]}
    with pytest.raises(ConfigError) as raised:
        resolve_sets({"basic": ["hiragana", "hiragena"]}, nouns)
    assert raised.value.key == "probes.sets.basic[1]"
    with pytest.raises(ConfigError) as raised:
        resolve_sets({"all": ["hiragana"]}, nouns)
    assert raised.value.key == "probes.sets.all"
    with pytest.raises(ConfigError) as raised:
        resolve_sets({"basic": ["hiragana"]}, {"emoji": ["😀", "😂"]})
    assert raised.value.key == "probes.noun_classes.emoji"


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


def test_the_printable_sheet_states_the_studys_criteria():
    key = pd.DataFrame({"item": [1], "sentence": [f"今日は{OPEN_MARK}猫】を見た"]})
    page = sheet_html(key, ["a1"])
    assert len(ANNOTATION_CRITERIA) == 3 and all(criterion in page for criterion in ANNOTATION_CRITERIA)
    assert "highlighted token" in page and "marked" in page and "irrelevant" in page


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



def test_a_set_one_model_reads_wholly_as_unknown_keeps_the_other_models_own_silhouette(tiny_base_model, tmp_path):
    from tweetbert.analysis.probes import INPUT_EMBEDDING, _score_note

    set_plots = {name: tmp_path / f"tsne_{name}.png" for name in PROBE_SETS}
    paths = write_probes({"base": tiny_base_model}, PROBE_ITEMS, PROBE_SETS, files_in(tmp_path, PROBE_FILES),
                         set_plots, seed=0)
    scores = pd.read_csv(paths["scores"], sep="\t").set_index(["set", "representation"])
    basic, with_emoji = scores.loc[("basic", INPUT_EMBEDDING)], scores.loc[("with_emoji", INPUT_EMBEDDING)]
    assert basic["own_silhouette"] == pytest.approx(basic["silhouette"]), "one model: its own items are everyone's"
    assert pd.isna(with_emoji["own_silhouette"]) and with_emoji["note"] == "base reads all 12 items as [UNK]"
    labels = np.array(["romaji", "romaji", "emoji"])
    assert _score_note(None, 0.4, "adapted", ["base"], labels, 26) == "base reads all 26 items as [UNK]"
    assert _score_note(None, None, "base", ["base"], labels, 26) == "base reads all 26 items as [UNK]"
    assert _score_note(None, None, "adapted", [], np.array(["romaji"] * 3), 3) == "one class: nothing to separate"
    assert _score_note(0.2, 0.3, "adapted", [], labels, 26) == ""
