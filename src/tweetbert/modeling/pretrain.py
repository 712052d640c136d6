"""Continued MLM pre-training of one candidate: a migrated BERT adapted to the tweet corpus, resumable at any step.

The phases, in order (each a function or method that tests call on its own):

1. data: the train and validation splits tokenised once (cached in the checkpoint directory, truncated to
   ``max_seq_length`` with ``[SEP]`` kept last), batched by :func:`epoch_batches` into groups of similar length
   and padded per batch (never to the maximum);
2. model: ``BertForMaskedLM`` with SDPA attention, wrapped by :class:`MaskedOnlyMLM` so the vocabulary
   projection runs at the masked positions only;
3. optimiser: AdamW without decay on biases and LayerNorm weights, linear warm-up then linear decay to 0,
   gradient norm clipped to 1; bf16 autocast and TF32 on CUDA; DDP through ``accelerate`` under
   ``torchrun``/``accelerate launch`` (the batch size is per process, an epoch's last ``batches mod processes``
   batches are skipped; logging, metrics and files on rank 0; across nodes, checkpoints need shared storage);
4. the loop: whole-word masks (:mod:`tweetbert.modeling.masking`), validation every ``eval_every`` steps and
   at the end of each epoch, a checkpoint every ``save_every`` steps and on SIGTERM, optional early stopping;
5. outputs: the final model, ``metrics.json`` and ``loss_curve.tsv`` (a row every ``eval_every / 10`` steps with
   the mean train loss since the previous row, and one at every validation); then the checkpoints are deleted.

Every random draw is seeded from (seed, epoch, batch, step, rank): batch order, masks and dropout. So a run killed
at any point and resumed from its last checkpoint (:mod:`tweetbert.modeling.checkpoint`) finishes with the same
weights as an uninterrupted one, bit for bit on a CPU with the same number of threads; a damaged checkpoint or
token cache is passed over (the previous checkpoint, or a fresh start), and ``metrics.json`` says under ``resume``
which step the last session resumed from and what it found damaged. With early stopping the
final model is the last one, not the best: the best validation loss and its step are reported in the metrics.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from tweetbert.errors import ConfigError, InputError
from tweetbert.modeling.checkpoint import (
    TEMPORARY_PREFIX,
    TrainingState,
    latest_intact_checkpoint,
    load_checkpoint,
    publish,
    save_checkpoint,
    temporary_dir,
    verify,
    write_manifest,
)
from tweetbert.modeling.masking import IGNORE_INDEX, WholeWordMasking
from tweetbert.settings import mirrors, setting

log = logging.getLogger(__name__)

SPLITS = ("train", "validation")
MEGABATCH = 50  # batches per length-sorted group: long enough to group lengths, short enough to stay random
MAX_GRAD_NORM = 1.0
TOKENIZE_CHUNK = 200_000
CURVE_COLUMNS = ("step", "epoch", "learning_rate", "train_loss", "validation_loss")
TIMING_METRICS = ("tokens_per_second", "train_seconds", "wall_seconds")
RESUME_METRIC = "resume"  # how the last session started: which step it resumed from, what it found damaged
# Streams of derived seeds, so masks, dropout and validation masks never share random numbers.
_MASKS, _DROPOUT, _VALIDATION = 1, 2, 3


@mirrors("pretrain.fixed")
@dataclass(frozen=True)
class PretrainSettings:
    """Hyper-parameters of one candidate; all of them identify the run (a checkpoint resumes only the same ones)."""

    learning_rate: float = 1e-4
    weight_decay: float = 0.03
    epochs: int = 3
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    batch_size: int = 32  # per process
    max_seq_length: int = 128
    warmup_steps: float = 10000  # >= 1: steps; in [0, 1): fraction of the total steps
    mlm_probability: float = 0.15
    whole_word_mask: bool = True
    seed: int = setting(0, key="seed")
    eval_every: int = 500
    save_every: int = 500
    early_stopping_patience: int | None = None  # evaluations without improvement; None: off
    epoch_checkpoints: bool = False  # also a model directory at the end of every epoch reached

    def __post_init__(self) -> None:
        problems = []
        if not self.learning_rate > 0:
            problems.append(f"learning_rate must be positive, got {self.learning_rate}")
        if self.weight_decay < 0:
            problems.append(f"weight_decay must be >= 0, got {self.weight_decay}")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1 and self.epsilon > 0):
            problems.append(f"need 0 <= beta1, beta2 < 1 and epsilon > 0, got {self.beta1}, {self.beta2}, "
                            f"{self.epsilon}")
        for name in ("epochs", "batch_size", "eval_every", "save_every"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_seq_length < 3:
            problems.append(f"max_seq_length must leave room for [CLS], a token and [SEP], got {self.max_seq_length}")
        if self.warmup_steps < 0 or (self.warmup_steps >= 1 and self.warmup_steps != int(self.warmup_steps)):
            problems.append(f"warmup_steps must be a whole number of steps or a fraction in [0, 1), got "
                            f"{self.warmup_steps}")
        if not 0 < self.mlm_probability < 1:
            problems.append(f"mlm_probability must be in (0, 1), got {self.mlm_probability}")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            problems.append(f"early_stopping_patience must be None or at least 1, got {self.early_stopping_patience}")
        if problems:
            raise ValueError("; ".join(problems))


class TrainingInterrupted(SystemExit):
    """Raised after the SIGTERM checkpoint: the job must fail (exit status 143), so that its retry resumes."""

    def __init__(self, step: int):
        super().__init__(128 + signal.SIGTERM)
        self.step = step


def derived_seed(*parts: int) -> int:
    """A 63-bit seed from integers, different for every tuple (SeedSequence hashing)."""
    return int(np.random.SeedSequence(list(parts)).generate_state(1, np.uint64)[0] >> np.uint64(1))


def _generator(*parts: int) -> torch.Generator:
    return torch.Generator().manual_seed(derived_seed(*parts))


# --- 1. data -------------------------------------------------------------------------------------------------


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
    from tweetbert.tokenization.coverage import read_split_texts

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


# --- 2. model ------------------------------------------------------------------------------------------------


class MaskedOnlyMLM(torch.nn.Module):
    """BertForMaskedLM's loss with the MLM head applied only where there is a label.

    The head's vocabulary projection costs about as much as the whole encoder of a small model, and only ~15 % of
    the positions have a label. Returns the summed cross-entropy, so callers can average over all processes' masks.
    Being one module, DDP sees the encoder and the head in one forward.
    """

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        if not (hasattr(model, "bert") and hasattr(model, "cls")):
            raise TypeError(f"expected a BertForMaskedLM, got {type(model).__name__}")
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, positions: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        hidden = self.model.bert(input_ids=input_ids, attention_mask=attention_mask)[0]
        logits = self.model.cls(hidden.flatten(0, 1).index_select(0, positions))
        return torch.nn.functional.cross_entropy(logits.float(), labels, reduction="sum")


def model_inputs(batch: dict[str, torch.Tensor], device: torch.device) -> tuple[torch.Tensor, ...]:
    """Arguments of :class:`MaskedOnlyMLM`; the masked positions are found on the CPU (no device sync)."""
    labels = batch["labels"].flatten()
    positions = (labels != IGNORE_INDEX).nonzero().squeeze(1)
    return tuple(tensor.to(device, non_blocking=True)
                 for tensor in (batch["input_ids"], batch["attention_mask"], positions, labels[positions]))


def load_model(model_dir: Path) -> torch.nn.Module:
    """The model in float32 (bf16 only inside autocast) with PyTorch's fused attention."""
    from transformers import AutoModelForMaskedLM

    return AutoModelForMaskedLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa")


# --- 3. optimiser --------------------------------------------------------------------------------------------


def decay_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Parameter groups: weight decay on weight matrices and embeddings, none on biases and LayerNorm weights."""
    layer_norm = {id(p) for module in model.modules() if isinstance(module, torch.nn.LayerNorm)
                  for p in module.parameters(recurse=False)}
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (no_decay if id(parameter) in layer_norm or name.endswith("bias") else decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model: torch.nn.Module, settings: PretrainSettings) -> torch.optim.AdamW:
    return torch.optim.AdamW(decay_groups(model, settings.weight_decay), lr=settings.learning_rate,
                             betas=(settings.beta1, settings.beta2), eps=settings.epsilon)


def resolve_warmup(warmup_steps: float, total_steps: int) -> int:
    """Warm-up in steps: a fraction of ``total_steps`` (rounded up) or a step count, never past the run's end."""
    steps = math.ceil(warmup_steps * total_steps) if warmup_steps < 1 else int(warmup_steps)
    if steps >= total_steps:
        raise ConfigError("warmup_steps", f"{steps} warm-up steps, but the run has only {total_steps} optimizer "
                          "steps: the learning rate would never decay. Use fewer steps or a fraction in [0, 1)")
    return steps


def linear_schedule(optimizer: torch.optim.Optimizer, warmup: int, total: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Learning rate from 0 up to the peak over ``warmup`` steps, then linearly down to 0 at step ``total``."""
    from transformers import get_linear_schedule_with_warmup

    return get_linear_schedule_with_warmup(optimizer, warmup, total)


# --- 4. the loop ---------------------------------------------------------------------------------------------


class _TermFlag:
    """Set by SIGTERM (SLURM sends it before the time limit); the loop checks it between steps."""

    def __init__(self) -> None:
        self.raised = False

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGTERM, self._handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)

    def _handle(self, signum, frame) -> None:
        self.raised = True


def _tensorboard(directory: Path | None, resume_step: int):
    """A SummaryWriter, or None (with a note) when not wanted or ``tensorboard`` is not installed."""
    if directory is None:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        log.info("tensorboard is not installed, so no TensorBoard scalars are written (pip install tensorboard)")
        return None
    # On resume, the killed run's events after the checkpoint's step are dropped.
    return SummaryWriter(str(directory), purge_step=resume_step + 1 if resume_step else None)


class _Run:
    """One training run: the objects of phases 1 to 3, the progress state, and the loop's steps as methods."""

    def __init__(self, accelerator, settings: PretrainSettings, corpus: Path, data: dict[str, TokenizedSplit], model,
                 tokenizer, checkpoint_dir: Path, identity: dict, started: float):
        self.accelerator = accelerator
        self.corpus = corpus
        self.settings = settings
        self.train_data, self.validation_data = data["train"], data["validation"]
        self.model = model.to(accelerator.device)
        self.tokenizer = tokenizer
        self.checkpoint_dir = checkpoint_dir
        self.identity = identity
        self.started = started
        self.world = accelerator.num_processes
        self.rank = accelerator.process_index
        self.masking = WholeWordMasking.from_tokenizer(tokenizer, mlm_probability=settings.mlm_probability,
                                                       whole_word=settings.whole_word_mask)
        self.steps_per_epoch = math.ceil(len(self.train_data) / settings.batch_size) // self.world
        if self.steps_per_epoch == 0:
            raise InputError(corpus, f"{len(self.train_data)} training texts make fewer batches of "
                             f"{settings.batch_size} than there are processes ({self.world})")
        self.total_steps = settings.epochs * self.steps_per_epoch
        self.warmup = resolve_warmup(settings.warmup_steps, self.total_steps)
        self.optimizer = make_optimizer(self.model, settings)
        self.scheduler = linear_schedule(self.optimizer, self.warmup, self.total_steps)
        self.validation = validation_batches(self.validation_data.lengths, settings.batch_size)
        self.log_every = max(1, settings.eval_every // 10)
        self.state = TrainingState()
        self.resume: dict = {"from_step": None, "checkpoints_rejected": [], "token_cache_rebuilt": None}
        self.wall_before = 0.0  # wall seconds of earlier sessions, up to their last checkpoint
        self.pending: list[torch.Tensor] = []  # train losses since the last loss-curve row
        self.term = _TermFlag()
        self.writer = None
        self.progress = None
        self.wrapper = MaskedOnlyMLM(self.model)
        self.parallel = self.wrapper

    def log(self, level: int, message: str, *args) -> None:
        """Logs from the main process only (every process computes the same numbers)."""
        if self.accelerator.is_main_process:
            log.log(level, message, *args)

    # -- checkpoints

    def resume_or_start(self) -> None:
        """Loads the newest intact checkpoint, removing damaged newer ones; with none left, starts over and clears
        what an earlier run left. Damage is a warning in the log and in the metrics, never a dead end."""
        path, rejected = latest_intact_checkpoint(self.checkpoint_dir)
        self.resume["checkpoints_rejected"] = [f"{damaged.name}: {problem}" for damaged, problem in rejected]
        for description in self.resume["checkpoints_rejected"]:
            self.log(logging.WARNING, "checkpoint %s: passed over", description)
        self.accelerator.wait_for_everyone()  # every process has chosen before the damaged ones go
        if self.accelerator.is_main_process:
            for damaged, _ in rejected:
                shutil.rmtree(damaged)
        if path is None:
            if rejected:
                self.log(logging.WARNING, "no intact checkpoint left in %s: starting over", self.checkpoint_dir)
            if self.accelerator.is_main_process:
                shutil.rmtree(self.checkpoint_dir / "epochs", ignore_errors=True)
            return
        self.state = load_checkpoint(path, self.model, self.optimizer, self.scheduler, self.identity)
        self.resume["from_step"] = self.state.step
        self.wall_before = self.state.wall_seconds
        self.pending = [torch.tensor(loss, device=self.model.device) for loss in self.state.pending_losses[self.rank]]
        if self.accelerator.is_main_process:
            for leftover in self.checkpoint_dir.rglob(TEMPORARY_PREFIX + "*"):
                shutil.rmtree(leftover, ignore_errors=True)
        self.log(logging.INFO, "resuming from %s at step %d (epoch %d, step %d of %d in the epoch)", path,
                 self.state.step, self.state.epoch + 1, self.state.epoch_step, self.steps_per_epoch)

    def save(self) -> None:
        pending = torch.stack(self.pending) if self.pending else torch.zeros(0, device=self.model.device)
        if self.world > 1 and self.pending:  # every process's own losses, for an exact loss curve on resume
            pending = self.accelerator.gather(pending)
        self.state.pending_losses = pending.view(self.world, -1).tolist()
        self.state.wall_seconds = self.wall_before + time.perf_counter() - self.started
        if self.accelerator.is_main_process:
            path = save_checkpoint(self.checkpoint_dir, self.model, self.optimizer, self.scheduler, self.state,
                                   self.identity)
            log.debug("saved %s", path)
        self.accelerator.wait_for_everyone()

    def save_epoch(self) -> None:
        """The model at the end of the current epoch, kept with the checkpoints until the run succeeds."""
        if not self.accelerator.is_main_process:
            return
        final = self.checkpoint_dir / "epochs" / f"epoch-{self.state.epoch + 1}"
        temporary = temporary_dir(final)
        self.model.save_pretrained(temporary)
        self.tokenizer.save_pretrained(temporary)
        info = {"epoch": self.state.epoch + 1, "step": self.state.step,
                "validation_loss": self.state.last_validation_loss}
        (temporary / "metrics.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        shutil.rmtree(final, ignore_errors=True)  # left by an earlier session: this run's model replaces it
        publish(temporary, final)

    def term_requested(self) -> bool:
        """Whether any process got SIGTERM; all processes agree, so they save and stop at the same step."""
        if self.world == 1:
            return self.term.raised
        flag = torch.tensor([float(self.term.raised)], device=self.accelerator.device)
        return bool(self.accelerator.reduce(flag, "sum").item() > 0)

    # -- evaluation and the loss curve

    @torch.no_grad()
    def evaluate(self) -> float:
        """Mean cross-entropy per masked validation token, with the same masks every time and no dropout."""
        self.wrapper.eval()
        device = self.accelerator.device
        totals = torch.zeros(2, dtype=torch.float64, device=device)
        for index in range(self.rank, len(self.validation), self.world):
            batch = self.masking(self.validation_data.sequences(self.validation[index]),
                                 _generator(self.settings.seed, _VALIDATION, index))
            inputs = model_inputs(batch, device)
            with self.accelerator.autocast():
                totals[0] += self.wrapper(*inputs).double()
            totals[1] += len(inputs[2])
        self.wrapper.train()
        if self.world > 1:
            totals = self.accelerator.reduce(totals, "sum")
        loss_sum, count = totals.tolist()
        if count == 0:
            raise InputError(self.corpus, "the validation split has no maskable tokens", column="split")
        return loss_sum / count

    def track(self, loss: float) -> None:
        """Records a validation loss: best so far, patience, early stopping."""
        state = self.state
        state.last_evaluated_step, state.last_validation_loss = state.step, loss
        if state.best_validation_loss is None or loss < state.best_validation_loss:
            state.best_validation_loss, state.best_step = loss, state.step
            state.evaluations_without_improvement = 0
        else:
            state.evaluations_without_improvement += 1
        self.log(logging.INFO, "step %d: validation loss %.4f (perplexity %.2f)", state.step, loss,
                 math.exp(min(loss, 50)))
        patience = self.settings.early_stopping_patience
        if patience is not None and state.evaluations_without_improvement >= patience:
            state.stopped_early = True
            self.log(logging.INFO, "early stopping at step %d: no improvement in %d evaluations (best %.4f at step "
                     "%d); the final model is the last one", state.step, patience, state.best_validation_loss,
                     state.best_step)

    def evaluate_and_record(self) -> None:
        loss = self.evaluate()
        self.track(loss)
        self.record(loss)

    def learning_rate(self, step: int) -> float:
        """The learning rate the update of ``step`` (1-based) used; for step 0, the starting one."""
        return self.scheduler.base_lrs[0] * self.scheduler.lr_lambdas[0](max(step - 1, 0))

    def record(self, validation_loss: float | None = None) -> None:
        """A loss-curve row for the current step: mean train loss since the previous row, learning rate, validation."""
        state = self.state
        if state.loss_curve and state.loss_curve[-1]["step"] == state.step:
            state.loss_curve[-1]["validation_loss"] = validation_loss
            row = state.loss_curve[-1]
        else:
            train_loss = None
            if self.pending:
                mean = torch.stack(self.pending).mean()
                train_loss = (self.accelerator.reduce(mean, "mean") if self.world > 1 else mean).item()
                self.pending = []
            row = {"step": state.step, "epoch": round(state.epoch + state.epoch_step / self.steps_per_epoch, 4),
                   "learning_rate": self.learning_rate(state.step),
                   "train_loss": train_loss, "validation_loss": validation_loss}
            state.loss_curve.append(row)
        if self.writer is not None:
            for tag, key in (("train/loss", "train_loss"), ("train/learning_rate", "learning_rate"),
                             ("validation/loss", "validation_loss")):
                if row[key] is not None:
                    self.writer.add_scalar(tag, row[key], state.step)
            if state.train_seconds > 0:
                self.writer.add_scalar("train/tokens_per_second", state.tokens_seen / state.train_seconds,
                                       state.step)
        if self.progress is not None and row["train_loss"] is not None:
            self.progress.set_postfix(loss=f"{row['train_loss']:.3f}", lr=f"{row['learning_rate']:.2e}",
                                      tok_s=f"{state.tokens_seen / max(state.train_seconds, 1e-9):.0f}",
                                      refresh=False)

    # -- training

    def prepare(self) -> None:
        """Hands model and optimiser to accelerate (DDP under torchrun, autocast with bf16); after loading state."""
        self.parallel, self.optimizer = self.accelerator.prepare(self.wrapper, self.optimizer)

    def train_step(self, sequences: list[np.ndarray], generator: torch.Generator) -> torch.Tensor:
        """One optimizer step on one batch; returns the (detached) mean loss per masked token."""
        inputs = model_inputs(self.masking(sequences, generator), self.accelerator.device)
        loss = self.parallel(*inputs) / max(1, len(inputs[2]))
        self.accelerator.backward(loss)
        self.accelerator.clip_grad_norm_(self.wrapper.parameters(), MAX_GRAD_NORM)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    def run_epoch(self) -> None:
        """The remaining steps of the current epoch; returns early on early stopping, raises on SIGTERM."""
        settings, state = self.settings, self.state
        batches = epoch_batches(self.train_data.lengths, settings.batch_size, settings.seed, state.epoch)
        for epoch_step in range(state.epoch_step, self.steps_per_epoch):
            step_started = time.perf_counter()
            first = epoch_step * self.world
            mine = first + self.rank
            torch.manual_seed(derived_seed(settings.seed, _DROPOUT, state.step, self.rank))
            self.pending.append(self.train_step(self.train_data.sequences(batches[mine]),
                                                _generator(settings.seed, _MASKS, state.epoch, mine)))
            state.tokens_seen += int(sum(self.train_data.lengths[batch].sum()
                                         for batch in batches[first : first + self.world]))
            state.step += 1
            state.epoch_step = epoch_step + 1
            if self.accelerator.device.type == "cuda":
                torch.cuda.synchronize()  # CUDA runs asynchronously: without this the clock times kernel launches
            state.train_seconds += time.perf_counter() - step_started
            if self.progress is not None:
                self.progress.update(1)
            if state.step % settings.eval_every == 0:
                self.evaluate_and_record()
            elif state.step % self.log_every == 0:
                self.record()
            if state.step % settings.save_every == 0:
                self.save()
            if self.term_requested():
                self.save()
                self.log(logging.WARNING, "SIGTERM: saved a checkpoint at step %d, stopping (the next run resumes "
                         "from it)", state.step)
                raise TrainingInterrupted(state.step)
            if state.stopped_early:
                return

    def train(self) -> None:
        """All epochs, from wherever the state is; each epoch ends with a validation and its optional model."""
        state = self.state
        self.wrapper.train()  # from_pretrained returns the model in eval mode: no dropout
        if state.step == 0 and state.last_evaluated_step is None:
            self.evaluate_and_record()
        while state.epoch < self.settings.epochs and not state.stopped_early:
            self.run_epoch()
            if state.epoch_step < self.steps_per_epoch:  # stopped early inside the epoch
                break
            if state.last_evaluated_step != state.step:
                self.evaluate_and_record()
            if self.settings.epoch_checkpoints:
                self.save_epoch()
            state.epoch += 1
            state.epoch_step = 0
        if state.last_evaluated_step != state.step:
            self.evaluate_and_record()

    # -- 5. outputs

    def metrics(self, device: str, mixed_precision: str) -> dict:
        state = self.state
        final = state.last_validation_loss
        return {
            "final_validation_loss": final,
            "final_validation_perplexity": math.exp(final),
            "initial_validation_loss": state.loss_curve[0]["validation_loss"],
            "best_validation_loss": state.best_validation_loss,
            "best_step": state.best_step,
            "optimizer_steps": state.step,
            "planned_steps": self.total_steps,
            "steps_per_epoch": self.steps_per_epoch,
            "warmup_steps": self.warmup,
            "epochs_completed": round(state.step / self.steps_per_epoch, 4),
            "stopped_early": state.stopped_early,
            "tokens_seen": state.tokens_seen,
            "tokens_per_second": round(state.tokens_seen / max(state.train_seconds, 1e-9), 1),
            "train_seconds": round(state.train_seconds, 2),
            "wall_seconds": round(self.wall_before + time.perf_counter() - self.started, 2),
            "train_texts": len(self.train_data),
            "validation_texts": len(self.validation_data),
            "truncated_texts": {"train": self.train_data.truncated, "validation": self.validation_data.truncated},
            "processes": self.world,
            "device": device,
            "mixed_precision": mixed_precision,
            "attention": self.model.config._attn_implementation,
            "settings": asdict(self.settings),
            RESUME_METRIC: self.resume,
        }

    def write_outputs(self, out_dir: Path, metrics: dict) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in ("model", "epochs"):
            shutil.rmtree(out_dir / name, ignore_errors=True)
        self.model.save_pretrained(out_dir / "model")
        self.tokenizer.save_pretrained(out_dir / "model")
        if self.settings.epoch_checkpoints and (self.checkpoint_dir / "epochs").exists():
            shutil.copytree(self.checkpoint_dir / "epochs", out_dir / "epochs")
        write_loss_curve(self.state.loss_curve, out_dir / "loss_curve.tsv")
        (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")


def write_loss_curve(rows: Sequence[dict], path: Path) -> None:
    lines = ["\t".join(CURVE_COLUMNS)]
    for row in rows:
        lines.append("\t".join("" if row[c] is None else str(row[c]) if c == "step" else f"{row[c]:.6g}"
                               for c in CURVE_COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@contextlib.contextmanager
def _torch_settings(threads: int, cuda: bool) -> Iterator[None]:
    """Intra-op threads (fixed, for reproducible CPU sums) and TF32 matmuls on CUDA, restored afterwards."""
    previous_threads, previous_precision = torch.get_num_threads(), torch.get_float32_matmul_precision()
    torch.set_num_threads(threads)
    if cuda:
        torch.set_float32_matmul_precision("high")
    try:
        yield
    finally:
        torch.set_num_threads(previous_threads)
        torch.set_float32_matmul_precision(previous_precision)


def pretrain(model_dir: Path, corpus: Path, out_dir: Path, checkpoint_dir: Path, settings: PretrainSettings, *,
             tensorboard_dir: Path | None = None, progress: bool = True, threads: int = 1) -> dict:
    """Continues MLM pre-training of ``model_dir`` on the ``corpus`` splits; writes ``out_dir``, returns the metrics.

    ``checkpoint_dir`` must lie outside ``out_dir`` (Snakemake deletes a failed job's outputs): a checkpoint there
    is resumed, and the directory is removed once ``out_dir`` is complete. ``threads``: torch's intra-op threads
    and the tokeniser's worker processes; CPU results are reproducible for a fixed value.
    """
    from accelerate import Accelerator
    from tqdm import tqdm
    from transformers import AutoTokenizer

    started = time.perf_counter()
    model_dir, corpus, out_dir, checkpoint_dir = map(Path, (model_dir, corpus, out_dir, checkpoint_dir))
    if checkpoint_dir.resolve().is_relative_to(out_dir.resolve()):
        raise ValueError(f"checkpoint directory {checkpoint_dir} lies inside the output {out_dir}, which Snakemake "
                         "deletes when the job fails")
    cuda = torch.cuda.is_available()
    mixed_precision = "bf16" if cuda and torch.cuda.is_bf16_supported() else "no"
    accelerator = Accelerator(cpu=not cuda, mixed_precision=mixed_precision)  # cpu=True: gloo DDP under torchrun
    with _torch_settings(threads, cuda):
        # 1. data (tokenised once, shared by all processes through the checkpoint directory)
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        key = data_key(corpus, model_dir, settings.max_seq_length)
        data, damaged_cache = load_data(corpus, model_dir, settings.max_seq_length, checkpoint_dir, key,
                                        is_main=accelerator.is_main_process, wait=accelerator.wait_for_everyone,
                                        workers=threads)
        # 2. and 3. model, optimiser and schedule; then the checkpoint, if any, before accelerate wraps them
        identity = {"settings": asdict(settings), "processes": accelerator.num_processes,
                    "tokenised data": key, "base weights": weights_key(model_dir)}
        run = _Run(accelerator, settings, corpus, data, load_model(model_dir), AutoTokenizer.from_pretrained(model_dir),
                   checkpoint_dir, identity, started)
        run.resume["token_cache_rebuilt"] = damaged_cache
        run.resume_or_start()
        run.prepare()
        if accelerator.is_main_process:
            log.info("%d train / %d validation texts; %d steps per epoch x %d epochs (%d warm-up) on %d %s "
                     "process(es), mixed precision %s", len(run.train_data), len(run.validation_data),
                     run.steps_per_epoch, settings.epochs, run.warmup, run.world, accelerator.device.type,
                     mixed_precision)
            run.writer = _tensorboard(tensorboard_dir, run.state.step)
        # 4. the loop
        run.progress = tqdm(total=run.total_steps, initial=run.state.step, desc="pretrain", unit="step",
                            mininterval=2.0, disable=not (progress and accelerator.is_main_process))
        try:
            with run.term.installed():
                run.train()
        finally:
            run.progress.close()
            if run.writer is not None:
                run.writer.close()
        # 5. outputs, then the checkpoints are no longer needed
        metrics = run.metrics(accelerator.device.type, mixed_precision)
        if accelerator.is_main_process:
            run.write_outputs(out_dir, metrics)
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            shutil.rmtree(checkpoint_dir)
    return metrics
