"""The data side of pre-training: the token data of the corpus, length-grouped batches, masked model inputs.

The splits are tokenised once per corpus by ``tokenize_corpus`` (:mod:`tweetbert.modeling.tokens`) and memory-mapped
by every run and process. :func:`epoch_batches` cuts an epoch into batches of similar length, padded per batch
(never to the maximum). Batch order and masks are drawn from seeds derived from (seed, epoch, batch), so a resumed
run can skip ahead to any step and draw exactly what an uninterrupted one drew. Validation scores a fixed, seeded
sample of the validation texts (``eval_examples``) in batches of ``eval_batch_size``, with the same masks every
time. Batches are masked, and pinned for a GPU, in a background thread a few steps ahead
(:class:`~tweetbert.modeling.prefetch.Prefetched`), so the GPU never waits on the host for its next batch.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from tweetbert.errors import InputError
from tweetbert.modeling.masking import IGNORE_INDEX, WholeWordMasking
from tweetbert.modeling.tokens import TokenizedSplit, hash_files

MEGABATCH = 50  # batches per length-sorted group: long enough to group lengths, short enough to stay random
# Streams of derived seeds, so masks, dropout, validation masks and the validation sample never share numbers.
MASKS, DROPOUT, VALIDATION, VALIDATION_SAMPLE = 1, 2, 3, 4
Inputs = tuple[torch.Tensor, ...]  # the arguments of MaskedOnlyMLM: input ids, attention mask, positions, labels


def derived_seed(*parts: int) -> int:
    """A 63-bit seed from integers, different for every tuple (SeedSequence hashing)."""
    return int(np.random.SeedSequence(list(parts)).generate_state(1, np.uint64)[0] >> np.uint64(1))


def seeded_generator(*parts: int) -> torch.Generator:
    return torch.Generator().manual_seed(derived_seed(*parts))


def weights_key(model_dir: Path) -> str:
    """Identifies the starting model: its configuration and all its safetensors files."""
    digest = hashlib.blake2b(digest_size=16)
    hash_files(digest, [Path(model_dir) / "config.json", *sorted(Path(model_dir).glob("*.safetensors"))])
    return digest.hexdigest()


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


def validation_sample(count: int, eval_examples: int | None, seed: int) -> np.ndarray:
    """Indices of the validation texts scored at every evaluation: all of them, or a seeded sample (sorted)."""
    if eval_examples is None or eval_examples >= count:
        return np.arange(count)
    rng = np.random.default_rng([seed, VALIDATION_SAMPLE])
    return np.sort(rng.choice(count, size=eval_examples, replace=False))


def cpu_inputs(batch: dict[str, torch.Tensor], pin: bool = False) -> Inputs:
    """Arguments of :class:`MaskedOnlyMLM` on the host; the masked positions are found here (no device sync)."""
    labels = batch["labels"].flatten()
    positions = (labels != IGNORE_INDEX).nonzero().squeeze(1)
    inputs = (batch["input_ids"], batch["attention_mask"], positions, labels[positions])
    return tuple(tensor.pin_memory() for tensor in inputs) if pin else inputs


def to_device(inputs: Inputs, device: torch.device) -> Inputs:
    return tuple(tensor.to(device, non_blocking=True) for tensor in inputs)


def model_inputs(batch: dict[str, torch.Tensor], device: torch.device) -> Inputs:
    return to_device(cpu_inputs(batch), device)


class TrainingData:
    """The splits as one process of the loop sees them: its share of every step's batches and of the validation
    batches, masked on the host. ``steps_per_epoch`` counts steps of all processes together (DDP: an epoch's last
    ``batches mod processes`` batches are skipped). ``pad_to_multiple`` > 1 pads every batch to a multiple of it
    (at most ``max_width``), so a compiled model sees a few shapes, not one per length."""

    def __init__(self, source: Path, splits: dict[str, TokenizedSplit], masking: WholeWordMasking, batch_size: int,
                 seed: int, world: int, rank: int, device: torch.device, *, eval_examples: int | None = None,
                 eval_batch_size: int | None = None, pad_to_multiple: int = 1, max_width: int = 0):
        self.source = source
        self.train, self.validation = splits["train"], splits["validation"]
        self.masking = masking
        self.batch_size, self.seed, self.world, self.rank, self.device = batch_size, seed, world, rank, device
        self.pin = device.type == "cuda"
        self.pad_to_multiple, self.max_width = pad_to_multiple, max_width
        self.steps_per_epoch = math.ceil(len(self.train) / batch_size) // world
        if self.steps_per_epoch == 0:
            raise InputError(source, f"{len(self.train)} training texts make fewer batches of {batch_size} than "
                             f"there are processes ({world})")
        self.validation_scored = validation_sample(len(self.validation), eval_examples, seed)
        order = validation_batches(self.validation.lengths[self.validation_scored], eval_batch_size or batch_size)
        self.validation_order = [self.validation_scored[batch] for batch in order]

    def epoch(self, epoch: int) -> list[np.ndarray]:
        return epoch_batches(self.train.lengths, self.batch_size, self.seed, epoch)

    def _width(self, split: TokenizedSplit, indices: np.ndarray) -> int:
        if self.pad_to_multiple <= 1:
            return 0
        longest = int(split.lengths[indices].max())
        return min(-(-longest // self.pad_to_multiple) * self.pad_to_multiple, max(self.max_width, longest))

    def train_step_inputs(self, batches: list[np.ndarray], epoch: int, epoch_step: int) -> tuple[Inputs, int]:
        """This process's masked batch of a step (on the host), and the tokens in the batches of all processes at
        that step."""
        first = epoch_step * self.world
        mine = first + self.rank
        batch = batches[mine]
        masked = self.masking(self.train.sequences(batch), seeded_generator(self.seed, MASKS, epoch, mine),
                              self._width(self.train, batch))
        tokens = int(sum(self.train.lengths[batch].sum() for batch in batches[first : first + self.world]))
        return cpu_inputs(masked, self.pin), tokens

    def train_inputs(self, epoch: int, first_step: int) -> Iterator[tuple[Inputs, int]]:
        """The host-side inputs of every remaining step of ``epoch``, from ``first_step`` on."""
        batches = self.epoch(epoch)
        for epoch_step in range(first_step, self.steps_per_epoch):
            yield self.train_step_inputs(batches, epoch, epoch_step)

    def validation_inputs(self) -> Iterator[Inputs]:
        """This process's share of the validation batches (on the host), with the same masks at every evaluation."""
        for index in range(self.rank, len(self.validation_order), self.world):
            batch = self.validation_order[index]
            yield cpu_inputs(self.masking(self.validation.sequences(batch), seeded_generator(self.seed, VALIDATION,
                                                                                             index),
                                          self._width(self.validation, batch)), self.pin)
