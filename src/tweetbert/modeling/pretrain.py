"""Continued MLM pre-training of one candidate: a migrated BERT adapted to the tweet corpus, resumable at any step.

This module is the training loop; its parts live beside it:

1. data (:mod:`~tweetbert.modeling.pretrain_data`): the corpus's token data, written once per corpus by
   ``tokenize_corpus`` (:mod:`~tweetbert.modeling.tokens`) and memory-mapped; length-grouped batches padded per
   batch, whole-word masks (:mod:`tweetbert.modeling.masking`), made and pinned a few steps ahead in a background
   thread (:mod:`~tweetbert.modeling.prefetch`);
2. model (:mod:`~tweetbert.modeling.pretrain_model`): ``BertForMaskedLM`` with SDPA attention and the MLM head
   applied at the masked positions only, its encoder optionally ``torch.compile``-d (``compile``);
3. optimiser (the same module): AdamW (fused on CUDA), linear warm-up then linear decay to 0, gradient norm
   clipped to 1; bf16 autocast and TF32 on CUDA; DDP through ``accelerate`` under ``torchrun``/``accelerate
   launch`` (the batch size is per process, an epoch's last ``batches mod processes`` batches are skipped;
   logging, metrics and files on rank 0; across nodes, checkpoints need shared storage);
4. the loop (here): validation of a fixed sample every ``eval_every`` steps and at the end of each epoch; a
   checkpoint every ``save_every_minutes`` (and/or ``save_every`` steps) and on SIGTERM, copied off the device and
   written in the background (:mod:`~tweetbert.modeling.pretrain_resume`); optional early stopping. Nothing
   synchronises the device per step: the clock (:class:`~tweetbert.modeling.pretrain_record.PhaseClock`) reads it
   when the phase changes (training, validation, checkpointing);
5. outputs (:mod:`~tweetbert.modeling.pretrain_record`): the final model, ``metrics.json`` (with the wall time by
   phase and the device-seconds) and ``loss_curve.tsv``; then the checkpoints are deleted.

Every random draw is seeded from (seed, epoch, batch, step, rank): batch order, masks and dropout. So a run killed
at any point and resumed from its last checkpoint (:mod:`tweetbert.modeling.checkpoint`) finishes with the same
weights as an uninterrupted one, bit for bit on a CPU with the same number of threads; a damaged checkpoint is
passed over for the previous one (or a fresh start), and ``metrics.json`` says under ``resume`` which step the last
session resumed from and what it found damaged.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from tweetbert.errors import InputError
from tweetbert.modeling.card import base_model_of
from tweetbert.modeling.checkpoint import TrainingState
from tweetbert.modeling.masking import WholeWordMasking
from tweetbert.modeling.prefetch import Prefetched
from tweetbert.modeling.pretrain_data import DROPOUT, TrainingData, derived_seed, to_device, weights_key
from tweetbert.modeling.pretrain_model import (
    COMPILE_PAD_MULTIPLE,
    MAX_GRAD_NORM,
    MaskedOnlyMLM,
    compile_encoder,
    device_name,
    linear_schedule,
    load_model,
    make_optimizer,
    resolve_warmup,
)
from tweetbert.modeling.pretrain_record import PhaseClock, Recorder, RunOutputs, write_outputs
from tweetbert.modeling.pretrain_resume import Checkpoints, TermFlag
from tweetbert.modeling.settings import PretrainSettings
from tweetbert.modeling.tokens import load_tokens

EVAL_BATCH_FACTOR = 4  # evaluation batch per training batch when eval_batch_size is None: no gradients to hold


class TrainingInterrupted(SystemExit):
    """Raised after the SIGTERM checkpoint: the job must fail (exit status 143), so that its retry resumes."""

    def __init__(self, step: int):
        super().__init__(128 + signal.SIGTERM)
        self.step = step


@dataclass
class Run:
    """What the loop drives: the parts of phases 1 to 3, where the run is, and the two sides it reports to."""

    settings: PretrainSettings
    accelerator: object
    data: TrainingData
    model: torch.nn.Module  # the weights that are saved
    tokenizer: object
    wrapper: MaskedOnlyMLM  # the model's masked-only loss, for validation
    parallel: torch.nn.Module  # the wrapper as accelerate prepared it (DDP under torchrun), for training
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    warmup: int
    total_steps: int
    state: TrainingState
    record: Recorder
    checkpoints: Checkpoints
    term: TermFlag
    last_save: float  # time.monotonic() of the last checkpoint (or of the start)

    @property
    def clock(self) -> PhaseClock:
        return self.record.clock


def start_run(accelerator, settings: PretrainSettings, tokens_dir: Path, splits: dict, model: torch.nn.Module,
              tokenizer, checkpoint_dir: Path, identity: dict, started: float) -> Run:
    """Phases 2 and 3 on the loaded data, then the checkpoint, if any, before accelerate wraps model and optimiser."""
    model = model.to(accelerator.device)
    masking = WholeWordMasking.from_tokenizer(tokenizer, mlm_probability=settings.mlm_probability,
                                              whole_word=settings.whole_word_mask)
    data = TrainingData(tokens_dir, splits, masking, settings.batch_size, settings.seed, accelerator.num_processes,
                        accelerator.process_index, accelerator.device, eval_examples=settings.eval_examples,
                        eval_batch_size=settings.eval_batch_size or EVAL_BATCH_FACTOR * settings.batch_size,
                        pad_to_multiple=COMPILE_PAD_MULTIPLE if settings.compile else 1,
                        max_width=model.config.max_position_embeddings)
    total_steps = settings.epochs * data.steps_per_epoch
    warmup = resolve_warmup(settings.warmup_steps, total_steps)
    optimizer = make_optimizer(model, settings)
    scheduler = linear_schedule(optimizer, warmup, total_steps)
    checkpoints = Checkpoints(accelerator, checkpoint_dir, identity, started)
    state = checkpoints.resume_or_start(model, optimizer, scheduler, data.steps_per_epoch)
    wrapper = MaskedOnlyMLM(model)
    if settings.compile:
        compile_encoder(model)
    parallel, optimizer = accelerator.prepare(wrapper, optimizer)  # DDP under torchrun, autocast with bf16
    record = Recorder(accelerator, settings, state, scheduler, data.steps_per_epoch,
                      PhaseClock(state, accelerator.device, started))
    return Run(settings, accelerator, data, model, tokenizer, wrapper, parallel, optimizer, scheduler, warmup,
               total_steps, state, record, checkpoints, TermFlag(), time.monotonic())


def train_step(run: Run, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """One optimizer step on one batch (already on the device); returns the (detached) mean loss per masked token."""
    loss = run.parallel(*inputs) / max(1, len(inputs[2]))
    run.accelerator.backward(loss)
    run.accelerator.clip_grad_norm_(run.wrapper.parameters(), MAX_GRAD_NORM)
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    return loss.detach()


@torch.no_grad()
def evaluate(run: Run) -> float:
    """Mean cross-entropy per masked token of the validation sample, with the same masks every time, no dropout."""
    device = run.accelerator.device
    with run.clock("validation"), Prefetched(run.data.validation_inputs()) as batches:
        run.wrapper.eval()
        totals = torch.zeros(2, dtype=torch.float64, device=device)
        for inputs in batches:
            with run.accelerator.autocast():
                totals[0] += run.wrapper(*to_device(inputs, device)).double()
            totals[1] += len(inputs[2])
        run.wrapper.train()
        if run.accelerator.num_processes > 1:
            totals = run.accelerator.reduce(totals, "sum")
        loss_sum, count = totals.tolist()
    if count == 0:
        raise InputError(run.data.source, "the validation sample has no maskable tokens", column="split")
    return loss_sum / count


def save(run: Run, *, wait: bool = False) -> None:
    """A checkpoint: training stalls while the state is copied off the device; it is written in the background."""
    with run.clock("checkpointing"):
        run.checkpoints.save(run.state, run.record.pending, run.model, run.optimizer, run.scheduler, wait=wait)
    run.last_save = time.monotonic()


def save_due_by_clock(settings: PretrainSettings, seconds_since_save: float) -> bool:
    minutes = settings.save_every_minutes
    return minutes is not None and seconds_since_save >= 60 * minutes


def save_due_by_steps(settings: PretrainSettings, step: int) -> bool:
    return settings.save_every is not None and step % settings.save_every == 0


def run_epoch(run: Run) -> None:
    """The remaining steps of the current epoch; returns early on early stopping, raises on SIGTERM."""
    settings, state, data, record = run.settings, run.state, run.data, run.record
    device = run.accelerator.device
    with Prefetched(data.train_inputs(state.epoch, state.epoch_step)) as steps:
        for epoch_step, (inputs, tokens) in enumerate(steps, start=state.epoch_step):
            torch.manual_seed(derived_seed(settings.seed, DROPOUT, state.step, data.rank))
            record.pending.append(train_step(run, to_device(inputs, device)))
            state.tokens_seen += tokens
            state.step += 1
            state.epoch_step = epoch_step + 1
            record.step_done()
            if state.step % settings.eval_every == 0:
                record.validation(evaluate(run))
            elif state.step % record.log_every == 0:
                record.row()
            stop, save_by_clock = run.term.agreed(run.accelerator,
                                                  save_due_by_clock(settings, time.monotonic() - run.last_save),
                                                  collective=state.step % record.log_every == 0)
            if stop:
                save(run, wait=True)
                record.log(logging.WARNING, "SIGTERM: saved a checkpoint at step %d, stopping (the next run resumes "
                           "from it)", state.step)
                raise TrainingInterrupted(state.step)
            if save_by_clock or save_due_by_steps(settings, state.step):
                save(run)
            if state.stopped_early:
                return


def train(run: Run) -> None:
    """All epochs, from wherever the state is; each epoch ends with a validation and its optional model."""
    state, record = run.state, run.record
    run.clock.switch("training")
    run.wrapper.train()  # from_pretrained returns the model in eval mode: no dropout
    if state.step == 0 and state.last_evaluated_step is None:
        record.validation(evaluate(run))
    while state.epoch < run.settings.epochs and not state.stopped_early:
        run_epoch(run)
        if state.epoch_step < run.data.steps_per_epoch:  # stopped early inside the epoch
            break
        if state.last_evaluated_step != state.step:
            record.validation(evaluate(run))
        if run.settings.epoch_checkpoints:
            with run.clock("checkpointing"):
                run.checkpoints.save_epoch(state, run.model, run.tokenizer)
        state.epoch += 1
        state.epoch_step = 0
    if state.last_evaluated_step != state.step:
        record.validation(evaluate(run))
    with run.clock("checkpointing"):
        run.checkpoints.finish()  # a checkpoint still being written: its errors surface here
    run.clock.switch(None)


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


def pretrain(model_dir: Path, tokens_dir: Path, outputs: Path | RunOutputs, checkpoint_dir: Path,
             settings: PretrainSettings, *, tensorboard_dir: Path | None = None, progress: bool = True,
             threads: int = 1) -> dict:
    """Continues MLM pre-training of ``model_dir`` on the token data ``tokens_dir`` (``tokenize_corpus``'s output
    for the model's vocabulary); writes ``outputs`` (a :class:`RunOutputs`, or a folder in its one-folder layout),
    returns the metrics.

    ``checkpoint_dir`` must lie outside every output (Snakemake deletes a failed job's outputs): a checkpoint there
    is resumed, and the directory is removed once the outputs are complete. ``threads``: torch's intra-op threads;
    CPU results are reproducible for a fixed value.
    """
    from accelerate import Accelerator
    from transformers import AutoTokenizer

    started = time.perf_counter()
    model_dir, tokens_dir, checkpoint_dir = map(Path, (model_dir, tokens_dir, checkpoint_dir))
    out = outputs if isinstance(outputs, RunOutputs) else RunOutputs.in_dir(outputs, epochs=settings.epoch_checkpoints)
    if (out.epochs is not None) != settings.epoch_checkpoints:
        raise ValueError(f"epoch_checkpoints is {settings.epoch_checkpoints}, so an epochs output must be "
                         f"{'given' if settings.epoch_checkpoints else 'left out'}")
    for path in out.paths():
        if checkpoint_dir.resolve().is_relative_to(path.resolve()):
            raise ValueError(f"checkpoint directory {checkpoint_dir} lies inside the output {path}, which Snakemake "
                             "deletes when the job fails")
    cuda = torch.cuda.is_available()
    mixed_precision = "bf16" if cuda and torch.cuda.is_bf16_supported() else "no"
    accelerator = Accelerator(cpu=not cuda, mixed_precision=mixed_precision)  # cpu=True: gloo DDP under torchrun
    with _torch_settings(threads, cuda):
        # 1. data: the corpus's token data, memory-mapped (checked on the main process)
        splits, tokens = load_tokens(tokens_dir, model_dir, check=accelerator.is_main_process)
        if tokens["max_seq_length"] > settings.max_seq_length:
            raise InputError(tokens_dir, f"tokenised to {tokens['max_seq_length']} tokens, the run wants at most "
                             f"{settings.max_seq_length}: tokenise the corpus with --max-seq-length "
                             f"{settings.max_seq_length}")
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        # 2. and 3. model, optimiser and schedule; then the checkpoint, if any
        identity = {"settings": asdict(settings), "processes": accelerator.num_processes,
                    "tokenised data": tokens["key"], "base weights": weights_key(model_dir)}
        run = start_run(accelerator, settings, tokens_dir, splits, load_model(model_dir),
                        AutoTokenizer.from_pretrained(model_dir), checkpoint_dir, identity, started)
        run.record.log(logging.INFO, "%d train / %d validation texts (%d scored per evaluation); %d steps per epoch "
                       "x %d epochs (%d warm-up) on %d %s process(es), mixed precision %s%s",
                       len(run.data.train), len(run.data.validation), len(run.data.validation_scored),
                       run.data.steps_per_epoch, settings.epochs, run.warmup, accelerator.num_processes,
                       accelerator.device.type, mixed_precision, ", compiled" if settings.compile else "")
        # 4. the loop
        with run.record.reporting(tensorboard_dir, run.total_steps, progress), run.term.installed():
            train(run)
        # 5. outputs, then the checkpoints are no longer needed
        metrics = run.record.metrics(planned_steps=run.total_steps, warmup_steps=run.warmup,
                                     wall_seconds=run.checkpoints.wall_seconds(), data=run.data,
                                     device=accelerator.device.type, device_name=device_name(accelerator.device),
                                     mixed_precision=mixed_precision,
                                     attention=run.model.config._attn_implementation, compiled=settings.compile,
                                     resume=run.checkpoints.resume,
                                     checkpoint_write_seconds=run.checkpoints.writer.write_seconds)
        if accelerator.is_main_process:
            epochs_dir = checkpoint_dir / "epochs" if settings.epoch_checkpoints else None
            write_outputs(out, run.model, run.tokenizer, epochs_dir, run.state.loss_curve, metrics,
                          base=base_model_of(model_dir) or str(model_dir), corpus=tokens["corpus"])
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            shutil.rmtree(checkpoint_dir)
    return metrics
