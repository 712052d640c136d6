"""Character coverage, length cut-off and tokenizer statistics, on hand-made texts and tiny trained tokenizers."""

from __future__ import annotations

import json
import os
import unicodedata
from collections import Counter

import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tweetbert.corpus.io import write_corpus
from tweetbert.corpus.normalize import normalize_texts
from tweetbert.demo import generate_general_text, generate_tweets
from tweetbert.errors import InputError
from tweetbert.tokenization import coverage, lengths, stats
from tweetbert.tokenization.fast import chunks, read_vocab
from tweetbert.tokenization.train import count_words, save_japanese_tokenizer, train_wordpiece

VOCAB_SIZE = 3000


# --- character coverage --------------------------------------------------------------------------------------


def test_coverage_selects_the_smallest_prefix_reaching_the_target():
    # a: 4 tweets / 6 occurrences, b: 3 / 3, c: 1 / 1 (10 in all) -> a, b cover 90 %.
    texts = ["aaa", "ab", "ab", "abc"]
    table, chars = coverage.char_coverage(texts, 0.9)
    assert table["char"].tolist() == ["a", "b", "c"]
    assert table["tweets"].tolist() == [4, 3, 1]
    assert table["occurrences"].tolist() == [6, 3, 1]
    assert table["cumulative_share"].tolist() == pytest.approx([0.6, 0.9, 1.0])
    assert chars == ["a", "b"]
    assert table["selected"].tolist() == [True, True, False]
    assert coverage.char_coverage(texts, 0.91)[1] == ["a", "b", "c"]
    assert coverage.char_coverage(texts, 0.5)[1] == ["a"]


def test_coverage_ranks_by_tweets_not_by_occurrences():
    # x is frequent in one spammy tweet, y appears once in each of three tweets.
    table, _ = coverage.char_coverage(["xxxxxxxxxx", "y", "y", "y"], 1.0)
    assert table["char"].tolist() == ["y", "x"]


def test_coverage_ties_break_by_occurrences_then_code_point():
    table, _ = coverage.char_coverage(["ba", "dcc", "dc", "ab"], 1.0)
    # a, b, c, d all in 2 tweets; c has 3 occurrences; a < b < d by code point.
    assert table["char"].tolist() == ["c", "a", "b", "d"]
    assert table["codepoint"].tolist() == ["U+0063", "U+0061", "U+0062", "U+0064"]
    shuffled, _ = coverage.char_coverage(["ab", "dc", "ba", "dcc"], 1.0)
    assert shuffled["char"].tolist() == table["char"].tolist()


def test_coverage_ignores_placeholders_and_whitespace():
    table, chars = coverage.char_coverage(["[URL] あ\nい [USER]", "[USER]\u3000あ\t"], 1.0)
    assert chars == ["あ", "い"]
    assert set(table["char"]) == {"あ", "い"}


def test_coverage_counts_characters_as_the_tokenizer_sees_them():
    table, _ = coverage.char_coverage(["ｱｲ", "アイ"], 1.0)  # half-width kana become full-width under NFKC
    assert table["char"].tolist() == ["ア", "イ"]
    assert table["tweets"].tolist() == [2, 2]


def test_coverage_rejects_a_target_outside_the_unit_interval():
    with pytest.raises(ValueError, match="coverage"):
        coverage.char_coverage(["a"], 1.5)


def _write_split_corpus(path, texts, splits):
    frame = pd.DataFrame({"id": [str(i) for i in range(len(texts))], "user_id": "u", "text": texts,
                          "split": splits})
    write_corpus(frame, path)
    return path


def test_char_coverage_files_follow_rank_order_and_use_only_the_split(tmp_path):
    corpus = _write_split_corpus(tmp_path / "split.parquet", ["いいあ", "いう", "え😀", "漢字"],
                                 ["train", "train", "train", "test"])
    out = tmp_path / "out"
    summary = coverage.write_char_coverage(corpus, out / "chars.tsv", out / "chars.txt", out / "coverage.png",
                                           coverage=1.0)
    assert summary == {"tweets": 3, "n_chars_total": 5, "n_selected": 5, "coverage": 1.0, "covered_share": 1.0}
    written = (out / "chars.txt").read_text(encoding="utf-8").split("\n")
    assert written == ["い", "あ", "う", "え", "😀", ""]
    table = pd.read_csv(out / "chars.tsv", sep="\t", keep_default_na=False)
    assert table["char"].tolist() == written[:-1]
    assert (out / "coverage.png").stat().st_size > 0
    with pytest.raises(InputError, match="validation"):
        coverage.write_char_coverage(corpus, out / "t.tsv", out / "c.txt", out / "p.png", split="validation")


def test_char_counts_streamed_in_small_batches_equal_those_of_the_whole_split(tmp_path):
    tweets, _ = generate_tweets(200, seed=3)
    texts = normalize_texts(tweets["text"].tolist())
    splits = ["test" if i % 5 == 0 else "train" for i in range(len(texts))]
    corpus = _write_split_corpus(tmp_path / "split.parquet", texts, splits)
    whole = coverage.CharCounts()
    whole.add(text for text, split in zip(texts, splits) if split == "train")
    streamed = coverage.corpus_char_counts(corpus, "train", batch_size=5)
    assert streamed == whole and streamed.texts == 160
    pd.testing.assert_frame_equal(coverage.rank_chars(streamed, 0.99)[0], coverage.rank_chars(whole, 0.99)[0])


@pytest.mark.parametrize(("char", "family"), [
    ("あ", "hiragana"), ("ア", "katakana"), (unicodedata.normalize("NFKC", "ｱ"), "katakana"), ("ー", "katakana"),
    ("漢", "kanji"), ("々", "kanji"), ("a", "romaji"), ("Z", "romaji"), ("7", "digit"), ("😀", "pictograph"),
    ("❤", "pictograph"), ("\ufe0f", "pictograph"), ("\u200d", "pictograph"), ("한", "other script"),
    ("Ж", "other script"), ("é", "other script"), ("、", "punctuation/symbol"), ("・", "punctuation/symbol"),
    ("!", "punctuation/symbol"), ("[UNK]", "special"),
])
def test_char_family(char, family):
    assert coverage.char_family(char) == family


def test_char_family_refuses_a_word():
    with pytest.raises(ValueError):
        coverage.char_family("ab")


# --- lengths ---------------------------------------------------------------------------------------------------


def test_length_cut_off_is_the_smallest_length_reaching_the_coverage():
    sample = [1] * 999 + [50]
    table, chosen = lengths.length_histogram(sample, 0.999)
    assert chosen == 1
    assert table["length"].tolist() == [1, 50]
    assert table["tweets"].tolist() == [999, 1]
    assert lengths.length_histogram(sample, 1.0)[1] == 50
    assert lengths.length_histogram([3, 1, 2, 2], 0.5)[1] == 2


# --- tiny tokenizers -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A split corpus, two Twitter tokenizers and a base tokenizer trained on general text.

    The base is saved without the [URL]/[USER]/newline tokens, like the hub's Japanese BERT, so it takes the
    AutoTokenizer path while the Twitter tokenizers take the fast path.
    """
    from transformers import BertJapaneseTokenizer

    root = tmp_path_factory.mktemp("tokenizers")
    tweets, _ = generate_tweets(3000, seed=0)
    texts = normalize_texts(tweets["text"].tolist())
    splits = ["validation" if i % 10 == 0 else "train" for i in range(len(texts))]
    corpus = root / "split.parquet"
    write_corpus(tweets[["id", "user_id"]].assign(text=texts, split=splits), corpus)
    train = [text for text, split in zip(texts, splits) if split == "train"]
    alphabet = coverage.char_coverage(train, 0.99)[1]
    dirs = {}
    for name, part in (("dedup", train), ("balanced", train[::2])):
        dirs[name] = root / name
        save_japanese_tokenizer(train_wordpiece(count_words(part), VOCAB_SIZE, alphabet), dirs[name])
    general = generate_general_text(1500, seed=0)
    base_vocab = train_wordpiece(count_words(general), VOCAB_SIZE, coverage.char_coverage(general, 0.99)[1])
    dirs["base"] = root / "base"
    dirs["base"].mkdir()
    (dirs["base"] / "vocab.txt").write_text("".join(f"{token}\n" for token in base_vocab), encoding="utf-8")
    BertJapaneseTokenizer(vocab_file=str(dirs["base"] / "vocab.txt"), do_lower_case=False,
                          word_tokenizer_type="mecab", subword_tokenizer_type="wordpiece",
                          mecab_kwargs={"mecab_dic": "unidic_lite"}).save_pretrained(str(dirs["base"]))
    validation = [text for text, split in zip(texts, splits) if split == "validation"]
    return {"corpus": corpus, "dirs": dirs, "validation": validation, "root": root}


def test_encoder_picks_the_fast_path_only_where_it_gives_the_same_ids(setup):
    from transformers import AutoTokenizer

    texts = setup["validation"][:100]
    for name, fast in (("dedup", True), ("base", False)):
        encoder = lengths.CorpusEncoder(setup["dirs"][name])
        assert encoder.uses_fast_path is fast
        reference = AutoTokenizer.from_pretrained(str(setup["dirs"][name]))(texts)["input_ids"]
        assert encoder.encode(texts) == reference


@pytest.mark.parametrize(("name", "workers"), [("dedup", 1), ("dedup", 2), ("base", 1)])
def test_lengths_streamed_in_small_batches_equal_those_of_the_whole_split(setup, tmp_path, name, workers):
    texts = setup["validation"][:120]
    corpus = _write_split_corpus(tmp_path / "c.parquet", texts, ["train"] * len(texts))
    encoder = lengths.CorpusEncoder(setup["dirs"][name], workers)
    whole = [len(ids) for ids in encoder.encode(texts)]
    assert [n for batch in encoder.lengths(chunks(texts, 5)) for n in batch] == whole
    assert [ids for batch in encoder.encode_batches(chunks(texts, 5)) for ids in batch] == encoder.encode(texts)
    histogram = lengths.corpus_lengths(corpus, setup["dirs"][name], "train", workers=workers, batch_size=5)
    assert histogram == Counter(whole)
    pd.testing.assert_frame_equal(lengths.histogram_table(histogram)[0], lengths.length_histogram(whole)[0])


def test_length_histogram_counts_cls_and_sep(setup, tmp_path):
    corpus = _write_split_corpus(tmp_path / "c.parquet", ["今日", "今日", "今日"], ["train"] * 3)
    chosen = lengths.write_length_histogram(corpus, setup["dirs"]["dedup"], tmp_path / "lengths.tsv",
                                            tmp_path / "max_seq_length.json", tmp_path / "lengths.png")
    assert chosen == 3  # [CLS] 今日 [SEP]
    decision = json.loads((tmp_path / "max_seq_length.json").read_text())
    assert list(decision) == ["coverage", "max", "max_seq_length", "mean", "p50", "p90", "p99", "tweets"]
    assert decision["max_seq_length"] == 3 and decision["tweets"] == 3 and decision["coverage"] == 0.999
    assert (tmp_path / "lengths.png").stat().st_size > 0


def test_length_choice_on_the_training_split(setup, tmp_path):
    chosen = lengths.write_length_histogram(setup["corpus"], setup["dirs"]["dedup"], tmp_path / "l.tsv",
                                            tmp_path / "l.json", tmp_path / "l.png", coverage=0.9)
    table = pd.read_csv(tmp_path / "l.tsv", sep="\t")
    assert table["tweets"].sum() == 2700
    assert table.loc[table["length"] == chosen, "cumulative_share"].item() >= 0.9
    assert table.loc[table["length"] < chosen, "cumulative_share"].max() < 0.9


def test_unk_rate_is_positive_outside_the_alphabet_and_zero_inside(setup):
    dirs = {"dedup": setup["dirs"]["dedup"]}
    vocab = read_vocab(dirs["dedup"])
    alphabet = {token for token in vocab if len(token) == 1}
    foreign = "".join(chr(c) for c in range(0x4E00, 0x9FFF) if chr(c) not in alphabet)[:200]
    outside = [foreign[i:i + 5] for i in range(0, len(foreign), 5)]
    # Spaces make every character a word of its own, so no continuation piece (##x) is needed.
    inside = [" ".join(sorted(alphabet)[i:i + 5]) for i in range(0, len(alphabet), 5)]
    assert stats.tokenizer_stats(outside, dirs, "dedup")["summary"]["unk_rate"].item() > 0
    assert stats.tokenizer_stats(inside, dirs, "dedup")["summary"]["unk_rate"].item() == 0


def test_stats_compare_every_tokenizer_with_the_base(setup):
    tables = stats.tokenizer_stats(setup["validation"], setup["dirs"], "base")
    summary = tables["summary"].set_index("tokenizer")
    assert list(summary.index) == ["dedup", "balanced", "base"]
    assert summary.loc["base", "overlap_with_base"] == 1.0
    assert 0 < summary.loc["dedup", "overlap_with_base"] < 1
    assert summary.loc["dedup", "vocab_size"] == VOCAB_SIZE + 1  # the newline is an added token
    assert summary.loc["base", "unk_rate"] > summary.loc["dedup", "unk_rate"]  # base shreds [URL] into [UNK]s
    assert (summary["tokens_per_word"] >= 1).all()
    assert ((summary["vocab_used"] > 0) & (summary["vocab_used"] <= 1)).all()
    shares = tables["composition"].groupby("tokenizer")["share"].sum()
    assert shares.to_numpy() == pytest.approx([1.0, 1.0, 1.0])
    composition = tables["composition"].set_index(["tokenizer", "family"])["entries"]
    assert composition["dedup", "special"] == 8  # 5 core tokens, [URL], [USER] and the newline
    assert composition["dedup", "kanji"] > 0 and composition["dedup", "pictograph"] > 0
    assert tables["lengths"].groupby("tokenizer")["tweets"].sum().eq(len(setup["validation"])).all()


def test_token_family_strips_the_continuation_prefix():
    special = {"[CLS]"}
    assert stats.token_family("##ます", special) == "hiragana"
    assert stats.token_family("食べ", special) == "mixed"
    assert stats.token_family("[CLS]", special) == "special"
    assert stats.token_family("##", special) == "punctuation/symbol"


def test_stats_refuse_an_unknown_base(setup):
    with pytest.raises(ValueError, match="base"):
        stats.tokenizer_stats(["今日"], {"dedup": setup["dirs"]["dedup"]}, "v3")


def test_tokenizer_stats_files_are_written_and_reproducible(setup, tmp_path):
    written = []
    for run in ("a", "b"):
        files = {name: tmp_path / run / (name.removesuffix("_plot") + (".png" if name.endswith("_plot") else ".tsv"))
                 for name in stats.TOKENIZER_STATS_OUTPUTS}
        paths = stats.write_tokenizer_stats(setup["corpus"], setup["dirs"], "base", files)
        assert all(path.stat().st_size > 0 for path in paths.values())
        written.append(paths)
    assert {path.name for path in written[0].values()} == {
        "summary.tsv", "composition.tsv", "lengths.tsv", "composition.png", "overlap.png", "lengths.png"}
    for name in ("summary", "composition", "lengths"):
        assert written[0][name].read_bytes() == written[1][name].read_bytes()
