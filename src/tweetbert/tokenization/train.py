"""Training a Twitter WordPiece vocabulary with the `tokenizers` library on MeCab-segmented text.

The stock ``BertWordPieceTokenizer`` splits every CJK character and punctuation mark, which the Japanese BERT does
not; so the model is a plain ``models.WordPiece`` over whitespace-split MeCab words. The result is saved as a
``BertJapaneseTokenizer`` (MeCab + unidic-lite + WordPiece), which ``AutoTokenizer`` loads offline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from tqdm import tqdm

from tweetbert.corpus.io import split_text_batches
from tweetbert.parallel import ordered_map
from tweetbert.tokenization.mecab import CORE_SPECIAL_TOKENS, NEWLINE_TOKEN, SPECIAL_WORDS, JapaneseWords

VOCAB_SPECIAL_TOKENS = CORE_SPECIAL_TOKENS + tuple(t for t in SPECIAL_WORDS if t != NEWLINE_TOKEN)
MODEL_MAX_LENGTH = 512
_BATCH = 4096  # tweets per counting task: small enough that a few dozen in flight stay a few hundred MB


def joyo_kanji() -> set[str]:
    """The 2,136 jōyō kanji (2010 list), always part of the initial alphabet."""
    import kanji_lists

    return set(kanji_lists.JOYO.HEISEI22)


def count_words(texts: Iterable[str], n_texts: int | None = None) -> Counter:
    """MeCab word counts of the texts, special tokens left out (they are added whole, never merged)."""
    return _word_counts(tqdm(texts, total=n_texts, desc="mecab", unit="tweet", mininterval=2.0, delay=2.0))


def corpus_word_counts(corpus: Path, split: str | None = "train", *, workers: int = 1,
                       batch_size: int = _BATCH) -> Counter:
    """:func:`count_words` of one split, streamed: MeCab runs in ``workers`` processes, each returning a batch's
    counts, merged here; memory is a few batches and the word counts, whatever the number of tweets."""
    counts: Counter = Counter()
    batches = split_text_batches(corpus, split, batch_size)
    with tqdm(desc="mecab", unit="tweet", mininterval=2.0, delay=2.0) as bar:
        for n_texts, part in ordered_map(_batch_word_counts, batches, workers):
            counts.update(part)
            bar.update(n_texts)
    return counts


def _word_counts(texts: Iterable[str]) -> Counter:
    words = JapaneseWords()
    counts: Counter = Counter()
    for text in texts:
        counts.update(words.words(text, keep_special=False))
    return counts


def _batch_word_counts(texts: list[str]) -> tuple[int, Counter]:
    """A batch's size (for the progress bar) and word counts: the unit of work of a counting process."""
    return len(texts), _word_counts(texts)


def _repeated_words(counts: Counter, chunk: int = 10_000) -> Iterator[str]:
    """Feeds word counts to the trainer in a fixed order without re-running MeCab."""
    for word in sorted(counts):
        count = counts[word]
        for start in range(0, count, chunk):
            yield " ".join([word] * min(chunk, count - start))


def train_wordpiece(counts: Counter, vocab_size: int, alphabet: Sequence[str], *, min_frequency: int = 2) -> list[str]:
    """The vocabulary (id order) of a WordPiece model trained on MeCab word counts.

    The alphabet is exactly ``alphabet``: rarer characters than the coverage cut-off become ``[UNK]`` rather than
    spending vocabulary slots. The ``tokenizers`` trainer assigns ids to continuation pieces (``##x``) in hash-map
    order, which breaks ties between equally frequent merges differently from run to run (huggingface/tokenizers
    #1794); declaring every continuation character up front fixes their ids, so the vocabulary is reproducible.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    alphabet = sorted(set(alphabet))
    allowed = set(alphabet)
    continuations = sorted({f"##{char}" for word in counts for char in word[1:] if char in allowed})
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[*VOCAB_SPECIAL_TOKENS, *continuations],
        initial_alphabet=alphabet,
        limit_alphabet=len(alphabet),
        continuing_subword_prefix="##",
        show_progress=False,
    )
    tokenizer.train_from_iterator(_repeated_words(counts), trainer=trainer)
    vocab = tokenizer.get_vocab()
    return sorted(vocab, key=vocab.__getitem__)


def save_japanese_tokenizer(vocab: Sequence[str], out_dir: Path) -> None:
    """Saves a vocabulary as a BertJapaneseTokenizer directory; the newline is an added special token."""
    from tokenizers import AddedToken
    from transformers import BertJapaneseTokenizer

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    vocab_file = out_dir / "vocab.txt"
    vocab_file.write_text("".join(f"{token}\n" for token in vocab), encoding="utf-8")
    tokenizer = BertJapaneseTokenizer(
        vocab_file=str(vocab_file),
        do_lower_case=False,
        word_tokenizer_type="mecab",
        subword_tokenizer_type="wordpiece",
        mecab_kwargs={"mecab_dic": "unidic_lite"},
        additional_special_tokens=[*VOCAB_SPECIAL_TOKENS[len(CORE_SPECIAL_TOKENS):],
                                   AddedToken(NEWLINE_TOKEN, special=True, normalized=False)],
        model_max_length=MODEL_MAX_LENGTH,
    )
    tokenizer.save_pretrained(str(out_dir))
