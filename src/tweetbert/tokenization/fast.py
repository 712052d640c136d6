"""Fast batch tokenization of corpora giving the same ids as the saved BertJapaneseTokenizer.

The slow tokenizer runs MeCab and then a pure-Python WordPiece per text. Here MeCab runs in worker processes and
the WordPiece step is the Rust ``tokenizers`` model over the MeCab words, in batches. A test checks that every id
agrees with ``AutoTokenizer.from_pretrained(dir)`` on the demo corpus.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from tweetbert.parallel import ordered_map
from tweetbert.tokenization.mecab import SPECIAL_WORDS, JapaneseWords

_BATCH = 2048
_CACHED_WORDS = 500_000  # distinct words whose pieces a process keeps: ~120 MB
Job = tuple[Path, Sequence[str], tuple[int, ...], tuple[int, ...]]  # tokenizer, texts, prefix ids, suffix ids


def read_vocab(tokenizer_dir: Path) -> list[str]:
    return (Path(tokenizer_dir) / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]


def wordpiece_model(tokenizer_dir: Path):
    """The Rust WordPiece equivalent of the saved tokenizer's subword step (same vocab, unknown token, word limit)."""
    from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers

    vocab = {token: index for index, token in enumerate(read_vocab(tokenizer_dir))}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.add_special_tokens([AddedToken(token, special=True, normalized=False) for token in SPECIAL_WORDS])
    return tokenizer


class _Encoder:
    """MeCab words to WordPiece ids, with a per-process cache of each distinct word's pieces (words repeat a lot).

    The cache is emptied before a batch would take it past ``_CACHED_WORDS``: a corpus's long tail of distinct
    words would otherwise grow every process with the corpus.
    """

    def __init__(self, tokenizer_dir: Path):
        self._model = wordpiece_model(tokenizer_dir)
        self._words = JapaneseWords()
        self._specials = {token: (self._model.token_to_id(token),) for token in SPECIAL_WORDS}
        self._pieces = dict(self._specials)

    def _split(self, texts: Sequence[str]) -> list[list[str]]:
        """MeCab words of each text, with every word's pieces in the cache."""
        split = [self._words.words(text) for text in texts]
        distinct = {word for words in split for word in words}
        if len(self._pieces) + len(distinct) > _CACHED_WORDS:
            self._pieces.clear()
            self._pieces.update(self._specials)
        missing = sorted(distinct.difference(self._pieces))
        for word, encoding in zip(missing, self._model.encode_batch(missing, add_special_tokens=False)):
            self._pieces[word] = tuple(encoding.ids)
        return split

    def encode(self, texts: Sequence[str], prefix: tuple[int, ...], suffix: tuple[int, ...]) -> list[list[int]]:
        split = self._split(texts)
        pieces = self._pieces
        out = []
        for words in split:
            ids = list(prefix)
            for word in words:
                ids.extend(pieces[word])
            ids.extend(suffix)
            out.append(ids)
        return out

    def lengths(self, texts: Sequence[str], extra: int) -> list[int]:
        """Number of ids of each text plus ``extra`` (the special tokens around it), without building the ids."""
        split = self._split(texts)
        pieces = self._pieces
        return [extra + sum(len(pieces[word]) for word in words) for words in split]


_encoders: dict[Path, _Encoder] = {}


def _encoder(tokenizer_dir: Path) -> _Encoder:
    """This process's encoder for the tokenizer (built once per process and tokenizer)."""
    encoder = _encoders.get(tokenizer_dir)
    if encoder is None:
        encoder = _encoders[tokenizer_dir] = _Encoder(tokenizer_dir)
    return encoder


def _encode_batch(job: Job) -> list[list[int]]:
    tokenizer_dir, texts, prefix, suffix = job
    return _encoder(tokenizer_dir).encode(texts, prefix, suffix)


def _length_batch(job: Job) -> list[int]:
    tokenizer_dir, texts, prefix, suffix = job
    return _encoder(tokenizer_dir).lengths(texts, len(prefix) + len(suffix))


def chunks(texts: Sequence[str], size: int) -> Iterator[list[str]]:
    """Consecutive slices of ``texts`` as lists, made one at a time."""
    for start in range(0, len(texts), size):
        yield list(texts[start : start + size])


class FastTokenizer:
    """Batch tokenizer for corpora: ``encode(texts)`` returns the ids the saved tokenizer would give.

    MeCab runs in ``workers`` processes with only a few batches in flight (:func:`~tweetbert.parallel.ordered_map`),
    so :meth:`encode_batches` and :meth:`lengths` stream a corpus of any size in bounded memory.
    """

    def __init__(self, tokenizer_dir: Path, workers: int = 1):
        self.tokenizer_dir = Path(tokenizer_dir)
        model = wordpiece_model(self.tokenizer_dir)
        self.cls_id = model.token_to_id("[CLS]")
        self.sep_id = model.token_to_id("[SEP]")
        self.workers = workers

    def _jobs(self, batches: Iterable[Sequence[str]], add_special_tokens: bool) -> Iterator[Job]:
        prefix, suffix = ((self.cls_id,), (self.sep_id,)) if add_special_tokens else ((), ())
        return ((self.tokenizer_dir, batch, prefix, suffix) for batch in batches)

    def encode_batches(self, batches: Iterable[Sequence[str]], add_special_tokens: bool = True
                       ) -> Iterator[list[list[int]]]:
        """The ids of each batch of texts, batch by batch in input order."""
        return ordered_map(_encode_batch, self._jobs(batches, add_special_tokens), self.workers)

    def lengths(self, batches: Iterable[Sequence[str]]) -> Iterator[list[int]]:
        """The number of ids (``[CLS]`` and ``[SEP]`` included) of each text, batch by batch in input order.

        Workers send back lengths only, which is all a length histogram needs and far less to pickle than ids.
        """
        return ordered_map(_length_batch, self._jobs(batches, True), self.workers)

    def encode(self, texts: Sequence[str], add_special_tokens: bool = True) -> list[list[int]]:
        return [ids for part in self.encode_batches(chunks(texts, _BATCH), add_special_tokens) for ids in part]
