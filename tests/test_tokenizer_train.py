"""The Twitter WordPiece tokenizer: loads offline as a Japanese BERT tokenizer, reproducible, and the fast batch
path gives exactly its ids."""

import os

import pandas as pd
import pytest

from tweetbert.cli import main
from tweetbert.corpus.io import write_corpus
from tweetbert.corpus.normalize import normalize_texts
from tweetbert.demo import generate_tweets
from tweetbert.tokenization import fast
from tweetbert.tokenization.fast import FastTokenizer, chunks
from tweetbert.tokenization.train import (
    corpus_word_counts,
    count_words,
    joyo_kanji,
    save_japanese_tokenizer,
    train_wordpiece,
)

os.environ["HF_HUB_OFFLINE"] = "1"

EDGE_CASES = [
    "改行\nあり\n\n[URL] [USER]さん😋🙏",
    "[URL]",
    "\n",
    " ",
    "未知の字：𠮷野家 と 齟齬 と 한국어 と Ж",
    "ｗｗｗ（全角）と ﾊﾝｶｸｶﾅ",
    "a" * 150,
    "[USER][URL]連続[URL]\n[USER]",
]


@pytest.fixture(scope="module")
def corpus_texts():
    tweets, _ = generate_tweets(3000, seed=5)
    return normalize_texts(tweets["text"].tolist())


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory, corpus_texts):
    alphabet = sorted({c for text in corpus_texts for c in text if not c.isspace()} | joyo_kanji())
    vocab = train_wordpiece(count_words(corpus_texts), 3000, alphabet)
    out = tmp_path_factory.mktemp("tok")
    save_japanese_tokenizer(vocab, out)
    return out


def test_it_loads_offline_as_a_japanese_bert_tokenizer(tokenizer_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    assert type(tokenizer).__name__ == "BertJapaneseTokenizer"
    assert tokenizer.word_tokenizer.__class__.__name__ == "MecabTokenizer"
    vocab = (tokenizer_dir / "vocab.txt").read_text().split("\n")[:-1]
    assert vocab[:7] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[URL]", "[USER]"]
    assert len(tokenizer) == len(vocab) + 1
    assert tokenizer.convert_tokens_to_ids("\n") == len(vocab)


def test_special_tokens_are_never_split_or_merged(tokenizer_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    tokens = tokenizer.tokenize("見て[URL]\n[USER]さん")
    assert "[URL]" in tokens and "[USER]" in tokens and "\n" in tokens
    vocab = (tokenizer_dir / "vocab.txt").read_text().split("\n")[:-1]
    assert not [t for t in vocab if ("URL" in t or "USER" in t) and t not in ("[URL]", "[USER]")]


def test_the_alphabet_is_the_covered_characters_and_the_joyo_kanji(tokenizer_dir):
    vocab = set((tokenizer_dir / "vocab.txt").read_text().split("\n"))
    assert joyo_kanji() <= vocab
    assert "𠮷" not in vocab


def test_training_twice_gives_a_byte_identical_vocabulary(tmp_path, corpus_texts, tokenizer_dir):
    alphabet = sorted({c for text in corpus_texts for c in text if not c.isspace()} | joyo_kanji())
    save_japanese_tokenizer(train_wordpiece(count_words(corpus_texts), 3000, alphabet), tmp_path)
    for name in ("vocab.txt", "tokenizer_config.json"):
        assert (tmp_path / name).read_bytes() == (tokenizer_dir / name).read_bytes()


@pytest.mark.parametrize("workers", [1, 2])
def test_the_fast_path_gives_exactly_the_saved_tokenizers_ids(tokenizer_dir, corpus_texts, workers):
    from transformers import AutoTokenizer

    slow = AutoTokenizer.from_pretrained(tokenizer_dir)
    texts = corpus_texts + EDGE_CASES
    expected = [slow(text)["input_ids"] for text in texts]
    assert FastTokenizer(tokenizer_dir, workers=workers).encode(texts) == expected
    unk = slow.unk_token_id
    assert any(unk in ids for ids in expected[-len(EDGE_CASES):])


def test_ids_stay_the_same_when_the_word_cache_is_emptied(monkeypatch, tokenizer_dir, corpus_texts):
    texts = corpus_texts[:300]
    expected = FastTokenizer(tokenizer_dir).encode(texts)
    monkeypatch.setattr(fast, "_CACHED_WORDS", 60)
    encoded = FastTokenizer(tokenizer_dir).encode_batches(chunks(texts, 10))
    assert [ids for batch in encoded for ids in batch] == expected
    assert len(fast._encoders[tokenizer_dir]._pieces) < len(count_words(texts))  # emptied on the way


def test_one_process_can_use_several_tokenizers_in_turn(tmp_path, tokenizer_dir, corpus_texts):
    from transformers import AutoTokenizer

    alphabet = sorted({c for text in corpus_texts for c in text if not c.isspace()} | joyo_kanji())
    other = tmp_path / "other"
    save_japanese_tokenizer(train_wordpiece(count_words(corpus_texts[:500]), 1500, alphabet), other)
    text = [corpus_texts[0]]
    assert FastTokenizer(tokenizer_dir).encode(text) == [AutoTokenizer.from_pretrained(tokenizer_dir)(text[0])["input_ids"]]
    assert FastTokenizer(other).encode(text) == [AutoTokenizer.from_pretrained(other)(text[0])["input_ids"]]


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory, corpus_texts):
    """A few hundred tweets, every fourth held out, written as a split corpus."""
    texts = corpus_texts[:400]
    splits = ["validation" if i % 4 == 0 else "train" for i in range(len(texts))]
    path = tmp_path_factory.mktemp("corpus") / "split.parquet"
    write_corpus(pd.DataFrame({"id": [str(i) for i in range(len(texts))], "user_id": "u", "text": texts,
                               "split": splits}), path)
    return path, [text for text, split in zip(texts, splits) if split == "train"]


@pytest.mark.parametrize("workers", [1, 2])
def test_word_counts_streamed_in_small_batches_equal_those_of_the_whole_split(small_corpus, workers):
    corpus, train = small_corpus
    assert corpus_word_counts(corpus, "train", workers=workers, batch_size=5) == count_words(train)


def test_train_tokenizer_gives_the_same_vocabulary_with_two_workers_as_with_one(tmp_path, small_corpus):
    corpus, train = small_corpus
    chars = tmp_path / "chars.txt"
    chars.write_text("".join(f"{c}\n" for c in sorted({c for text in train for c in text if not c.isspace()})),
                     encoding="utf-8")
    for workers in ("1", "2"):
        assert main(["train-tokenizer", "--corpus", str(corpus), "--chars", str(chars), "--vocab-size", "2500",
                     "--output", str(tmp_path / workers), "--workers", workers]) == 0
    assert (tmp_path / "2" / "vocab.txt").read_bytes() == (tmp_path / "1" / "vocab.txt").read_bytes()
