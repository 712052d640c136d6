"""The data side of pre-training: the splits tokenised once, length-grouped batches, masked model inputs.

The train and validation splits are tokenised by the main process into the checkpoint directory (truncated to
``max_seq_length`` with ``[SEP]`` kept last) and memory-mapped by every process. :func:`epoch_batches` cuts an
epoch into batches of similar length, padded per batch (never to the maximum). Batch order and masks are drawn
from seeds derived from (seed, epoch, batch), so a resumed run can skip ahead to any step and draw exactly what an
uninterrupted one drew.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from tweetbert.errors import InputError
from tweetbert.modeling.checkpoint import publish, temporary_dir, verify, write_manifest
from tweetbert.modeling.masking import IGNORE_INDEX, WholeWordMasking

log = logging.getLogger("tweetbert.modeling.pretrain")  # a run logs under one name, whichever module writes

SPLITS = ("train", "validation")
MEGABATCH = 50  # batches per length-sorted group: long enough to group lengths, short enough to stay random
TOKENIZE_CHUNK = 200_000
# Streams of derived seeds, so masks, dropout and validation masks never share random numbers.
MASKS, DROPOUT, VALIDATION = 1, 2, 3


def derived_seed(*parts: int) -> int:
    """A 63-bit seed from integers, different for every tuple (SeedSequence hashing)."""
    return int(np.random.SeedSequence(list(parts)).generate_state(1, np.uint64)[0] >> np.uint64(1))


def seeded_generator(*parts: int) -> torch.Generator:
    return torch.Generator().manual_seed(derived_seed(*parts))


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


def tokenize(texts: Sequence[str], tokenizer_dir: Path, max_seq_length: int, workers: int = 1) -> TokenizedSplit:
    """Ids as the saved tokenizer gives them (with ``[CLS]``/``[SEP]``), truncated, in compact arrays."""
    from tweetbert.tokenization.fast import FastTokenizer

    encoder = FastTokenizer(tokenizer_dir, workers)
    ids_parts, length_parts, truncated = [], [], 0
    for start in range(0, len(texts), TOKENIZE_CHUNK):
        encoded = encoder.encode(texts[start : start + TOKENIZE_CHUNK])
        truncated += sum(len(ids) > max_seq_length for ids in encoded)
        encoded = [truncate(ids, max_seq_length) for ids in encoded]
        length_parts.append(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)))
        ids_parts.append(np.fromiter((i for ids in encoded for i in ids), dtype=np.int32,
                                     count=int(length_parts[-1].sum())))
    offsets = np.concatenate([[0], np.cumsum(np.concatenate(length_parts))]).astype(np.int64)
    return TokenizedSplit(np.concatenate(ids_parts), offsets, truncated)


def _hash_files(digest, paths: Sequence[Path]) -> None:
    for path in paths:
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 24):
                digest.update(chunk)


def data_key(corpus: Path, model_dir: Path, max_seq_length: int) -> str:
    """Identifies the tokenised data: the corpus file, the vocabulary and the truncation length."""
    digest = hashlib.blake2b(f"max_seq_length={max_seq_length}".encode(), digest_size=16)
    _hash_files(digest, [Path(corpus), Path(model_dir) / "vocab.txt"])
    return digest.hexdigest()


def weights_key(model_dir: Path) -> str:
    """Identifies the starting model: its configuration and all its safetensors files."""
    digest = hashlib.blake2b(digest_size=16)
    _hash_files(digest, [Path(model_dir) / "config.json", *sorted(Path(model_dir).glob("*.safetensors"))])
    return digest.hexdigest()


def load_data(corpus: Path, model_dir: Path, max_seq_length: int, cache_dir: Path, key: str, *, is_main: bool,
              wait: Callable[[], None], workers: int = 1) -> tuple[dict[str, TokenizedSplit], str | None]:
    """Train and validation ids, tokenised by the main process into ``cache_dir`` (reused on resume), memory-mapped;
    and, on the main process, what was wrong with a cache found damaged (it is rebuilt), else None.

    ``wait`` is a barrier between processes (all processes map the same files).
    """
    from tweetbert.corpus.io import read_split_texts

    cache = Path(cache_dir) / f"tokens-{key}"
    damaged = verify(cache) if is_main and cache.exists() else None
    if damaged is not None:
        log.warning("token cache %s is damaged (%s): tokenising again", cache, damaged)
        shutil.rmtree(cache)
    if is_main and not cache.exists():
        for stale in Path(cache_dir).glob("tokens-*"):
            shutil.rmtree(stale)
        temporary = temporary_dir(cache)
        truncated = {}
        for split in SPLITS:
            texts = read_split_texts(corpus, split)
            log.info("tokenising %d %s texts", len(texts), split)
            data = tokenize(texts, model_dir, max_seq_length, workers)
            np.save(temporary / f"{split}-ids.npy", data.ids)
            np.save(temporary / f"{split}-offsets.npy", data.offsets)
            truncated[split] = data.truncated
        (temporary / "truncated.json").write_text(json.dumps(truncated) + "\n", encoding="utf-8")
        write_manifest(temporary)
        publish(temporary, cache)
    wait()
    truncated = json.loads((cache / "truncated.json").read_text(encoding="utf-8"))
    return {split: TokenizedSplit(np.load(cache / f"{split}-ids.npy", mmap_mode="r"),
                                  np.load(cache / f"{split}-offsets.npy", mmap_mode="r"), truncated[split])
            for split in SPLITS}, damaged


def epoch_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Indices of every batch of an epoch, a function of (seed, epoch) only so a resumed run can skip ahead.

    Shuffles, cuts the order into megabatches of ``MEGABATCH`` batches, sorts each megabatch by length (longest
    first) so a batch holds texts of similar length and pads little, then shuffles the order of the batches.
    """
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    batches = []
    span = MEGABATCH * batch_size
    for start in range(0, len(order), span):
        group = order[start : start + span]
        group = group[np.argsort(-lengths[group], kind="stable")]
        batches.extend(group[i : i + batch_size] for i in range(0, len(group), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def validation_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Validation texts sorted by length, in fixed batches (the same every evaluation)."""
    order = np.argsort(lengths, kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def model_inputs(batch: dict[str, torch.Tensor], device: torch.device) -> tuple[torch.Tensor, ...]:
    """Arguments of :class:`MaskedOnlyMLM`; the masked positions are found on the CPU (no device sync)."""
    labels = batch["labels"].flatten()
    positions = (labels != IGNORE_INDEX).nonzero().squeeze(1)
    return tuple(tensor.to(device, non_blocking=True)
                 for tensor in (batch["input_ids"], batch["attention_mask"], positions, labels[positions]))


class TrainingData:
    """The splits as one process of the loop sees them: its share of every step's batches and of the validation
    batches, masked and on its device. ``steps_per_epoch`` counts steps of all processes together (DDP: an
    epoch's last ``batches mod processes`` batches are skipped)."""

    def __init__(self, corpus: Path, splits: dict[str, TokenizedSplit], masking: WholeWordMasking, batch_size: int,
                 seed: int, world: int, rank: int, device: torch.device):
        self.corpus = corpus
        self.train, self.validation = splits["train"], splits["validation"]
        self.masking = masking
        self.batch_size, self.seed, self.world, self.rank, self.device = batch_size, seed, world, rank, device
        self.steps_per_epoch = math.ceil(len(self.train) / batch_size) // world
        if self.steps_per_epoch == 0:
            raise InputError(corpus, f"{len(self.train)} training texts make fewer batches of {batch_size} than "
                             f"there are processes ({world})")
        self.validation_order = validation_batches(self.validation.lengths, batch_size)

    def epoch(self, epoch: int) -> list[np.ndarray]:
        return epoch_batches(self.train.lengths, self.batch_size, self.seed, epoch)

    def train_inputs(self, batches: list[np.ndarray], epoch: int, epoch_step: int) -> tuple[tuple[torch.Tensor, ...],
                                                                                           int]:
        """This process's masked batch of a step, and the tokens in the batches of all processes at that step."""
        first = epoch_step * self.world
        mine = first + self.rank
        masked = self.masking(self.train.sequences(batches[mine]), seeded_generator(self.seed, MASKS, epoch, mine))
        tokens = int(sum(self.train.lengths[batch].sum() for batch in batches[first : first + self.world]))
        return model_inputs(masked, self.device), tokens

    def validation_inputs(self) -> Iterator[tuple[torch.Tensor, ...]]:
        """This process's share of the validation batches, with the same masks at every evaluation."""
        for index in range(self.rank, len(self.validation_order), self.world):
            sequences = self.validation.sequences(self.validation_order[index])
            yield model_inputs(self.masking(sequences, seeded_generator(self.seed, VALIDATION, index)), self.device)
