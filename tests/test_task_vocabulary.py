"""Vocabulary on the tasks' own text: [UNK] share, tokens per text and word splitting, per task and tokenizer."""

from __future__ import annotations

import pytest

from tweetbert.plots.task_vocabulary import plot_task_vocabulary
from tweetbert.tasks.types import ProblemType, TaskData
from tweetbert.tokenization.lengths import CorpusEncoder
from tweetbert.tokenization.task_vocabulary import example_texts, task_texts, task_vocabulary, vocabulary_on_texts


def test_example_texts_take_every_text_a_model_reads():
    examples = [{"text": "一つ目", "text_pair": "二つ目", "label": 0},
                {"question": "問い", "context": "文脈", "answers": {"text": ["文"], "answer_start": [0]}},
                {"text": "質問", "choices": ["甲", "乙", ""], "label": 1}]
    assert example_texts(examples) == ["一つ目", "二つ目", "問い", "文脈", "質問", "甲", "乙"]


def test_task_texts_sample_is_seeded_and_capped():
    rows = [{"text": f"文{i}", "label": 0} for i in range(50)]
    data = TaskData("t", ProblemType.SINGLE_LABEL, {"train": rows[:30], "validation": rows[30:35],
                                                   "dev": rows[35:40], "test": rows[40:]},
                    {split: "published" for split in ("train", "validation", "dev", "test")}, ["a"])
    assert len(task_texts(data, None, 0)) == 50
    assert task_texts(data, 10, 0) == task_texts(data, 10, 0)
    assert len(set(task_texts(data, 10, 0))) == 10


def test_unknown_script_raises_the_unk_rate_and_known_words_stay_whole(tiny_base_model):
    encoder = CorpusEncoder(tiny_base_model)
    vocab = encoder.tokenizer.get_vocab()
    known = [word for word in vocab if not word.startswith(("##", "[")) and word.isalpha()][:20]
    assert known, "the tiny vocabulary has words"
    on_known = vocabulary_on_texts(known, encoder)
    on_hangul = vocabulary_on_texts(["안녕하세요 세계", "감사합니다"], encoder)
    assert on_known["unk_rate"] == 0.0
    assert on_hangul["unk_rate"] > 0.5
    assert on_known["texts"] == len(known) and on_known["tokens_per_text"] >= 1.0
    assert on_known["words_split"] < 0.5


def test_task_vocabulary_has_one_row_per_task_and_tokenizer_and_refuses_an_empty_task(tiny_base_model, tmp_path):
    table = task_vocabulary({"sns": ["今日は雨", "😀です"], "jglue": ["文章です"]},
                            {"base": tiny_base_model, "again": tiny_base_model})
    assert list(zip(table["task"], table["tokenizer"], strict=True)) == [
        ("sns", "base"), ("sns", "again"), ("jglue", "base"), ("jglue", "again")]
    assert table["unk_rate"].between(0, 1).all() and table["words_split"].between(0, 1).all()
    plot_task_vocabulary(table, tmp_path / "vocab.png")
    assert (tmp_path / "vocab.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="no text to measure for task"):
        task_vocabulary({"empty": []}, {"base": tiny_base_model})
