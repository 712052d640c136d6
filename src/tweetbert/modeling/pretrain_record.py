"""The recording side of pre-training: the loss curve, TensorBoard scalars, the progress bar and log lines, and the
outputs (the final model, ``metrics.json``, ``loss_curve.tsv`` and the epoch models, each at its own path).

The loss curve has a row every ``eval_every / 10`` steps with the mean train loss since the previous row, and one
at every validation. With early stopping the final model is the last one, not the best: the best validation loss
and its step are reported in the metrics. Logging, TensorBoard and files are the main process's (every process
computes the same numbers).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from tweetbert.modeling.card import candidate_card, write_card
from tweetbert.modeling.checkpoint import TrainingState

log = logging.getLogger("tweetbert.modeling.pretrain")  # a run logs under one name, whichever module writes

CURVE_COLUMNS = ("step", "epoch", "learning_rate", "train_loss", "validation_loss")
PHASES = ("loading", "training", "validation", "checkpointing")  # and "other": the rest of the wall time
TIMING_METRICS = ("tokens_per_second", "train_seconds", "wall_seconds", "time_seconds", "time_shares",
                  "device_seconds", "checkpoint_write_seconds")
RESUME_METRIC = "resume"  # how the last session started: which step it resumed from, what it found damaged


@dataclass(frozen=True)
class RunOutputs:
    """Where a training run writes each of its files: every one is a declared output of its Snakemake job, so a job
    that reads one of them (fine-tuning an epoch model) depends on exactly that path."""

    name: str  # the run's name, for the model cards
    model: Path  # the final model's directory
    metrics: Path
    loss_curve: Path
    epochs: Path | None = None  # with epoch checkpoints: the folder of epoch-k/ model directories

    @classmethod
    def in_dir(cls, out_dir: Path, *, epochs: bool) -> RunOutputs:
        """One folder per run, named after it: model/, metrics.json, loss_curve.tsv and, with ``epochs``, epochs/
        (the workflow's layout)."""
        out_dir = Path(out_dir)
        return cls(out_dir.name, out_dir / "model", out_dir / "metrics.json", out_dir / "loss_curve.tsv",
                   out_dir / "epochs" if epochs else None)

    def paths(self) -> list[Path]:
        return [path for path in (self.model, self.metrics, self.loss_curve, self.epochs) if path is not None]


def log_on_main(accelerator, level: int, message: str, *args) -> None:
    """Logs from the main process only (every process computes the same numbers)."""
    if accelerator.is_main_process:
        log.log(level, message, *args)


def tensorboard_writer(directory: Path | None, resume_step: int):
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


class PhaseClock:
    """Wall seconds of a run by phase, kept in ``state.seconds`` so a resumed run adds to its checkpoint's.

    The device is synchronised at each change of phase only (a few times per evaluation interval, never per step),
    so GPU work queued in a phase is counted in it. Time outside every phase (writing the outputs) is "other".
    """

    def __init__(self, state: TrainingState, device: torch.device, started: float):
        self.seconds = state.seconds
        for phase in PHASES:
            self.seconds.setdefault(phase, 0.0)
        self.cuda = device.type == "cuda"
        self.phase: str | None = "loading"
        self.since = started

    def switch(self, phase: str | None) -> None:
        if self.cuda:
            torch.cuda.synchronize()
        now = time.perf_counter()
        if self.phase is not None:
            self.seconds[self.phase] += now - self.since
        self.phase, self.since = phase, now

    @contextlib.contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        """Counts the block as ``phase``, then returns to the phase it interrupted."""
        interrupted = self.phase
        self.switch(phase)
        try:
            yield
        finally:
            self.switch(interrupted)

    def so_far(self, phase: str) -> float:
        """Seconds of ``phase`` up to now, without synchronising (for the progress bar)."""
        running = time.perf_counter() - self.since if self.phase == phase else 0.0
        return self.seconds[phase] + running


class Recorder:
    """What a run reports as it goes: loss-curve rows, validation results (best, patience, early stopping),
    TensorBoard scalars, the progress bar; and its metrics at the end. It updates ``state`` in place."""

    def __init__(self, accelerator, settings, state: TrainingState, scheduler, steps_per_epoch: int,
                 clock: PhaseClock):
        self.accelerator = accelerator
        self.settings = settings
        self.state = state
        self.scheduler = scheduler
        self.steps_per_epoch = steps_per_epoch
        self.world = accelerator.num_processes
        self.log_every = max(1, settings.eval_every // 10)
        # Train losses since the last loss-curve row (a resumed run continues with its checkpoint's).
        self.pending: list[torch.Tensor] = [torch.tensor(loss, device=accelerator.device)
                                            for loss in (state.pending_losses[accelerator.process_index]
                                                         if state.pending_losses else [])]
        self.writer = None
        self.progress = None
        self.clock = clock

    def log(self, level: int, message: str, *args) -> None:
        log_on_main(self.accelerator, level, message, *args)

    @contextlib.contextmanager
    def reporting(self, tensorboard_dir: Path | None, total_steps: int, progress: bool) -> Iterator[None]:
        """TensorBoard (main process) and the progress bar, open for the loop and closed after it."""
        from tqdm import tqdm

        is_main = self.accelerator.is_main_process
        if is_main:
            self.writer = tensorboard_writer(tensorboard_dir, self.state.step)
        self.progress = tqdm(total=total_steps, initial=self.state.step, desc="pretrain", unit="step",
                             mininterval=2.0, disable=not (progress and is_main))
        try:
            yield
        finally:
            self.progress.close()
            if self.writer is not None:
                self.writer.close()

    def step_done(self) -> None:
        if self.progress is not None:
            self.progress.update(1)

    def validation(self, loss: float) -> None:
        """Records a validation loss: best so far, patience, early stopping, and its loss-curve row."""
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
        self.row(loss)

    def learning_rate(self, step: int) -> float:
        """The learning rate the update of ``step`` (1-based) used; for step 0, the starting one."""
        return self.scheduler.base_lrs[0] * self.scheduler.lr_lambdas[0](max(step - 1, 0))

    def row(self, validation_loss: float | None = None) -> None:
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
        training_seconds = self.clock.so_far("training")
        if self.writer is not None:
            for tag, key in (("train/loss", "train_loss"), ("train/learning_rate", "learning_rate"),
                             ("validation/loss", "validation_loss")):
                if row[key] is not None:
                    self.writer.add_scalar(tag, row[key], state.step)
            if training_seconds > 0:
                self.writer.add_scalar("train/tokens_per_second", state.tokens_seen / training_seconds, state.step)
        if self.progress is not None and row["train_loss"] is not None:
            self.progress.set_postfix(loss=f"{row['train_loss']:.3f}", lr=f"{row['learning_rate']:.2e}",
                                      tok_s=f"{state.tokens_seen / max(training_seconds, 1e-9):.0f}",
                                      refresh=False)

    def time_metrics(self, wall_seconds: float, device_count: int, checkpoint_write_seconds: float) -> dict:
        """Wall time by phase (and its shares), device-seconds, and the seconds checkpoints took to write in the
        background (not stalling training)."""
        seconds = {phase: self.state.seconds.get(phase, 0.0) for phase in PHASES}
        seconds["other"] = max(wall_seconds - sum(seconds.values()), 0.0)
        return {
            "time_seconds": {phase: round(value, 3) for phase, value in seconds.items()},
            "time_shares": {phase: round(value / wall_seconds, 4) if wall_seconds > 0 else 0.0
                            for phase, value in seconds.items()},
            "device_count": device_count,
            "device_seconds": round(wall_seconds * device_count, 2),
            "checkpoint_write_seconds": round(checkpoint_write_seconds, 3),
        }

    def metrics(self, *, planned_steps: int, warmup_steps: int, wall_seconds: float, data, device: str,
                device_name: str, mixed_precision: str, attention: str, compiled: bool, resume: dict,
                checkpoint_write_seconds: float) -> dict:
        state = self.state
        final = state.last_validation_loss
        training = state.seconds.get("training", 0.0)
        return {
            "final_validation_loss": final,
            "final_validation_perplexity": math.exp(final),
            "initial_validation_loss": state.loss_curve[0]["validation_loss"],
            "best_validation_loss": state.best_validation_loss,
            "best_step": state.best_step,
            "optimizer_steps": state.step,
            "planned_steps": planned_steps,
            "steps_per_epoch": self.steps_per_epoch,
            "warmup_steps": warmup_steps,
            "epochs_completed": round(state.step / self.steps_per_epoch, 4),
            "stopped_early": state.stopped_early,
            "tokens_seen": state.tokens_seen,
            "tokens_per_second": round(state.tokens_seen / max(training, 1e-9), 1),
            "train_seconds": round(training, 2),
            "wall_seconds": round(wall_seconds, 2),
            **self.time_metrics(wall_seconds, self.world, checkpoint_write_seconds),
            "train_texts": len(data.train),
            "validation_texts": len(data.validation),
            "validation_texts_scored": len(data.validation_scored),
            "truncated_texts": {"train": data.train.truncated, "validation": data.validation.truncated},
            "processes": self.world,
            "device": device,
            "device_name": device_name,
            "mixed_precision": mixed_precision,
            "attention": attention,
            "compiled": compiled,
            "settings": asdict(self.settings),
            RESUME_METRIC: resume,
        }


def write_loss_curve(rows: Sequence[dict], path: Path) -> None:
    lines = ["\t".join(CURVE_COLUMNS)]
    for row in rows:
        lines.append("\t".join("" if row[c] is None else str(row[c]) if c == "step" else f"{row[c]:.6g}"
                               for c in CURVE_COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _validation_loss_after(loss_curve: Sequence[dict], epoch: int) -> float | None:
    """The last validation loss recorded by the end of ``epoch``."""
    losses = [row["validation_loss"] for row in loss_curve
              if row.get("validation_loss") is not None and row["epoch"] <= epoch]
    return losses[-1] if losses else None


def write_outputs(out: RunOutputs, model, tokenizer, epochs_dir: Path | None, loss_curve: Sequence[dict],
                  metrics: dict, *, base: str, corpus: str) -> None:
    """The final model (with the epoch models from ``epochs_dir`` when ``out.epochs`` is set: an empty folder if no
    epoch ended), ``loss_curve.tsv``, ``metrics.json``; every model folder with its model card (``base``: the model
    the run started from, ``corpus``: its name)."""
    for directory in (out.model, out.epochs):
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
    for path in (out.model, out.metrics, out.loss_curve):
        path.parent.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out.model)
    tokenizer.save_pretrained(out.model)
    write_card(out.model, candidate_card(out.name, base, corpus, metrics))
    if out.epochs is not None:
        if epochs_dir is not None and epochs_dir.exists():
            shutil.copytree(epochs_dir, out.epochs)
        out.epochs.mkdir(parents=True, exist_ok=True)  # declared even when early stopping ended every epoch early
        for epoch_dir in sorted(out.epochs.glob("epoch-*")):
            epoch = int(epoch_dir.name.removeprefix("epoch-"))
            write_card(epoch_dir, candidate_card(out.name, base, corpus, metrics, epoch=epoch,
                                                 validation_loss=_validation_loss_after(loss_curve, epoch)))
    write_loss_curve(loss_curve, out.loss_curve)
    out.metrics.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
