"""The pre-training splits tokenised once per corpus and tokenizer, for every run of that corpus to memory-map.

``tokenize_corpus`` streams the train and validation texts through the saved tokenizer on ``workers`` processes
(:class:`~tweetbert.tokenization.fast.FastTokenizer`), truncates each text to ``max_seq_length`` with ``[SEP]``
kept last, and writes per split, as nanoGPT does, flat little-endian binaries:

- ``<split>.ids.bin``: every text's ids one after another, ``uint16`` when the vocabulary fits, else ``int32``;
- ``<split>.offsets.bin``: ``int64``, ``offsets[i]:offsets[i + 1]`` the i-th text (one more offset than texts);

then ``tokens.json`` (dtype, counts, and the key identifying corpus, vocabulary and truncation) and, last,
``manifest.json`` (size and SHA-256 of every file). The directory is built under a temporary name and renamed, so
it is whole or absent; the same inputs give byte-identical files. :func:`load_tokens` refuses damaged data (naming
the file and what differs) and data of another vocabulary than the model's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from tweetbert.errors import InputError

log = logging.getLogger("tweetbert.modeling.pretrain")

SPLITS = ("train", "validation")
INFO = "tokens.json"
FORMAT = 1
TEXTS_PER_BATCH = 4096
UINT16_LIMIT = 1 << 16


@dataclass(frozen=True)
class TokenizedSplit:
    """Token ids of every text, concatenated (``ids``), with ``offsets[i]:offsets[i + 1]`` the i-th text."""

    ids: np.ndarray
    offsets: np.ndarray
    truncated: int = 0  # texts cut to max_seq_length

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @cached_property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def sequences(self, indices: Sequence[int]) -> list[np.ndarray]:
        return [self.ids[self.offsets[i] : self.offsets[i + 1]] for i in indices]


def truncate(ids: list[int], max_seq_length: int) -> list[int]:
    """The first ``max_seq_length - 1`` ids and the last one, so a long text still ends with ``[SEP]``."""
    return ids if len(ids) <= max_seq_length else ids[: max_seq_length - 1] + ids[-1:]


def ids_dtype(vocab_size: int) -> np.dtype:
    """The narrowest of ``uint16`` and ``int32`` that holds every id."""
    return np.dtype("<u2") if vocab_size <= UINT16_LIMIT else np.dtype("<i4")


def hash_files(digest, paths: Sequence[Path]) -> None:
    for path in paths:
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 24):
                digest.update(chunk)


def vocab_key(tokenizer_dir: Path) -> str:
    """Identifies a vocabulary: its ``vocab.txt``."""
    digest = hashlib.blake2b(digest_size=16)
    hash_files(digest, [Path(tokenizer_dir) / "vocab.txt"])
    return digest.hexdigest()


def data_key(corpus: Path, tokenizer_dir: Path, max_seq_length: int) -> str:
    """Identifies tokenised data: the corpus file, the vocabulary and the truncation length."""
    digest = hashlib.blake2b(f"max_seq_length={max_seq_length}".encode(), digest_size=16)
    hash_files(digest, [Path(corpus), Path(tokenizer_dir) / "vocab.txt"])
    return digest.hexdigest()


def _write_split(batches: Iterable[list[list[int]]], directory: Path, split: str, max_seq_length: int,
                 dtype: np.dtype) -> dict:
    """Streams one split's encoded batches to its two binaries; returns its counts."""
    texts = tokens = truncated = 0
    with (directory / f"{split}.ids.bin").open("wb") as ids_file, \
            (directory / f"{split}.offsets.bin").open("wb") as offsets_file:
        offsets_file.write(np.zeros(1, dtype="<i8").tobytes())
        for encoded in batches:
            truncated += sum(len(ids) > max_seq_length for ids in encoded)
            encoded = [truncate(ids, max_seq_length) for ids in encoded]
            lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
            flat = np.fromiter((i for ids in encoded for i in ids), dtype=dtype, count=int(lengths.sum()))
            ids_file.write(flat.tobytes())
            offsets_file.write((tokens + np.cumsum(lengths)).astype("<i8").tobytes())
            texts += len(encoded)
            tokens += int(lengths.sum())
    if texts == 0:
        raise InputError(directory, f"the {split} split has no texts", column="split")
    return {"texts": texts, "tokens": tokens, "truncated": truncated}


def tokenize_corpus(corpus: Path, tokenizer_dir: Path, max_seq_length: int, output: Path, *, workers: int = 1,
                    progress: bool = True) -> dict:
    """Writes the token data of ``corpus``'s train and validation splits to ``output``; returns ``tokens.json``."""
    from tqdm import tqdm

    from tweetbert.corpus.io import split_text_batches
    from tweetbert.modeling.checkpoint import publish, temporary_dir, write_manifest
    from tweetbert.tokenization.fast import FastTokenizer, read_vocab

    corpus, tokenizer_dir, output = Path(corpus), Path(tokenizer_dir), Path(output)
    if max_seq_length < 3:
        raise InputError(output, f"max_seq_length must leave room for [CLS], a token and [SEP], got {max_seq_length}")
    vocab_size = len(read_vocab(tokenizer_dir))
    dtype = ids_dtype(vocab_size)
    encoder = FastTokenizer(tokenizer_dir, workers)
    temporary = temporary_dir(output)
    splits = {}
    for split in SPLITS:
        with tqdm(desc=f"tokenise {split}", unit="text", mininterval=5.0, disable=not progress) as bar:
            def counted(batches):
                for batch in batches:
                    bar.update(len(batch))
                    yield batch

            encoded = encoder.encode_batches(counted(split_text_batches(corpus, split, TEXTS_PER_BATCH)))
            splits[split] = _write_split(encoded, temporary, split, max_seq_length, dtype)
        log.info("%s: %d texts, %d tokens (%d truncated to %d)", split, splits[split]["texts"],
                 splits[split]["tokens"], splits[split]["truncated"], max_seq_length)
    info = {"format": FORMAT, "dtype": dtype.str, "vocab_size": vocab_size, "max_seq_length": max_seq_length,
            "corpus": corpus.parent.name, "key": data_key(corpus, tokenizer_dir, max_seq_length),
            "vocab": vocab_key(tokenizer_dir), "splits": splits}
    (temporary / INFO).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    write_manifest(temporary)
    if output.exists():
        shutil.rmtree(output)
    publish(temporary, output)
    return info


def load_tokens(directory: Path, model_dir: Path, *, check: bool = True) -> tuple[dict[str, TokenizedSplit], dict]:
    """The memory-mapped splits and ``tokens.json`` of ``directory``, checked against its manifest (``check``) and
    against the vocabulary of the model about to read them."""
    from tweetbert.modeling.checkpoint import verify

    directory = Path(directory)
    if not (directory / INFO).is_file():
        raise InputError(directory, f"no {INFO}: not the output of `tweetbert tokenize-corpus`")
    if check and (problem := verify(directory)) is not None:
        raise InputError(directory, f"the token data is damaged ({problem}); delete the directory and run its "
                         "job again (snakemake --forcerun tokenize_corpus)")
    info = json.loads((directory / INFO).read_text(encoding="utf-8"))
    if info.get("format") != FORMAT:
        raise InputError(directory / INFO, f"format {info.get('format')!r}, this version reads {FORMAT}: tokenise "
                         "again")
    if info["vocab"] != vocab_key(model_dir):
        vocab = Path(model_dir) / "vocab.txt"
        raise InputError(directory, f"tokenised with another vocabulary than the model's ({vocab}): tokenise the "
                         "corpus with the model's tokenizer")
    splits = {}
    for split in SPLITS:
        counts = info["splits"][split]
        ids = np.memmap(directory / f"{split}.ids.bin", dtype=np.dtype(info["dtype"]), mode="r",
                        shape=(counts["tokens"],))
        offsets = np.memmap(directory / f"{split}.offsets.bin", dtype="<i8", mode="r", shape=(counts["texts"] + 1,))
        splits[split] = TokenizedSplit(ids, offsets, counts["truncated"])
    return splits, info
