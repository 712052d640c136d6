"""Fast batch tokenization of corpora giving the same ids as the saved BertJapaneseTokenizer.

The slow tokenizer runs MeCab and then a pure-Python WordPiece per text. Here MeCab runs in worker processes and
the WordPiece step is the Rust ``tokenizers`` model over the MeCab words, in batches. A test checks that every id
agrees with ``AutoTokenizer.from_pretrained(dir)`` on the demo corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tweetbert.tokenization.mecab import SPECIAL_WORDS, JapaneseWords

_BATCH = 2048


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
    """MeCab words to WordPiece ids, with a per-process cache of each distinct word's pieces (words repeat a lot)."""

    def __init__(self, tokenizer_dir: Path):
        self._model = wordpiece_model(tokenizer_dir)
        self._words = JapaneseWords()
        self._pieces: dict[str, tuple[int, ...]] = {
            token: (self._model.token_to_id(token),) for token in SPECIAL_WORDS}

    def encode(self, texts: Sequence[str], prefix: tuple[int, ...], suffix: tuple[int, ...]) -> list[list[int]]:
        split = [self._words.words(text) for text in texts]
        pieces = self._pieces
        missing = sorted({word for words in split for word in words if word not in pieces})
        for word, encoding in zip(missing, self._model.encode_batch(missing, add_special_tokens=False)):
            pieces[word] = tuple(encoding.ids)
        out = []
        for words in split:
            ids = list(prefix)
            for word in words:
                ids.extend(pieces[word])
            ids.extend(suffix)
            out.append(ids)
        return out


_encoders: dict[Path, _Encoder] = {}


def _encode_batch(args: tuple[Path, list[str], tuple[int, ...], tuple[int, ...]]) -> list[list[int]]:
    """Encodes one batch with this process's encoder for the tokenizer (built once per process and tokenizer)."""
    tokenizer_dir, texts, prefix, suffix = args
    encoder = _encoders.get(tokenizer_dir)
    if encoder is None:
        encoder = _encoders[tokenizer_dir] = _Encoder(tokenizer_dir)
    return encoder.encode(texts, prefix, suffix)


class FastTokenizer:
    """Batch tokenizer for corpora: ``encode(texts)`` returns the ids the saved tokenizer would give."""

    def __init__(self, tokenizer_dir: Path, workers: int = 1):
        self.tokenizer_dir = Path(tokenizer_dir)
        model = wordpiece_model(self.tokenizer_dir)
        self.cls_id = model.token_to_id("[CLS]")
        self.sep_id = model.token_to_id("[SEP]")
        self.workers = workers

    def encode(self, texts: Sequence[str], add_special_tokens: bool = True) -> list[list[int]]:
        prefix, suffix = ((self.cls_id,), (self.sep_id,)) if add_special_tokens else ((), ())
        batches = [(self.tokenizer_dir, list(texts[i : i + _BATCH]), prefix, suffix)
                   for i in range(0, len(texts), _BATCH)]
        out: list[list[int]] = []
        if self.workers <= 1:
            for batch in batches:
                out.extend(_encode_batch(batch))
            return out
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            for part in pool.map(_encode_batch, batches):
                out.extend(part)
        return out
