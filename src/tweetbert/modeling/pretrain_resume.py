"""A run's checkpoint directory as the training loop uses it: resume, save, epoch models, and SIGTERM.

The files themselves (atomic, verified, the last two kept) are :mod:`tweetbert.modeling.checkpoint`'s; this module
decides which one a run resumes from, passes over damaged ones (a warning in the log and under ``resume`` in the
metrics, never a dead end), and keeps every process of a DDP run at the same step when one of them saves or stops.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import torch

from tweetbert.modeling.checkpoint import (
    TEMPORARY_PREFIX,
    TrainingState,
    latest_intact_checkpoint,
    load_checkpoint,
    publish,
    save_checkpoint,
    temporary_dir,
)
from tweetbert.modeling.pretrain_record import log_on_main

log = logging.getLogger("tweetbert.modeling.pretrain")  # a run logs under one name, whichever module writes


class Checkpoints:
    """The checkpoints of one run; ``resume`` says how this session started (for the metrics)."""

    def __init__(self, accelerator, directory: Path, identity: dict, started: float,
                 token_cache_rebuilt: str | None = None):
        self.accelerator = accelerator
        self.directory = directory
        self.identity = identity
        self.started = started
        self.world = accelerator.num_processes
        self.resume: dict = {"from_step": None, "checkpoints_rejected": [], "token_cache_rebuilt": token_cache_rebuilt}
        self.wall_before = 0.0  # wall seconds of earlier sessions, up to their last checkpoint

    def wall_seconds(self) -> float:
        """Wall time of the whole run: earlier sessions up to their checkpoint, and this one so far."""
        return self.wall_before + time.perf_counter() - self.started

    def resume_or_start(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler,
                        steps_per_epoch: int) -> TrainingState:
        """Loads the newest intact checkpoint into model, optimiser and schedule, removing damaged newer ones; with
        none left, starts over and clears what an earlier run left. Call before accelerate wraps them."""
        accelerator = self.accelerator
        path, rejected = latest_intact_checkpoint(self.directory)
        self.resume["checkpoints_rejected"] = [f"{damaged.name}: {problem}" for damaged, problem in rejected]
        for description in self.resume["checkpoints_rejected"]:
            log_on_main(accelerator, logging.WARNING, "checkpoint %s: passed over", description)
        accelerator.wait_for_everyone()  # every process has chosen before the damaged ones go
        if accelerator.is_main_process:
            for damaged, _ in rejected:
                shutil.rmtree(damaged)
        if path is None:
            if rejected:
                log_on_main(accelerator, logging.WARNING, "no intact checkpoint left in %s: starting over",
                            self.directory)
            if accelerator.is_main_process:
                shutil.rmtree(self.directory / "epochs", ignore_errors=True)
            return TrainingState()
        state = load_checkpoint(path, model, optimizer, scheduler, self.identity)
        self.resume["from_step"] = state.step
        self.wall_before = state.wall_seconds
        if accelerator.is_main_process:
            for leftover in self.directory.rglob(TEMPORARY_PREFIX + "*"):
                shutil.rmtree(leftover, ignore_errors=True)
        log_on_main(accelerator, logging.INFO, "resuming from %s at step %d (epoch %d, step %d of %d in the epoch)",
                    path, state.step, state.epoch + 1, state.epoch_step, steps_per_epoch)
        return state

    def save(self, state: TrainingState, pending: list[torch.Tensor], model: torch.nn.Module,
             optimizer: torch.optim.Optimizer, scheduler) -> None:
        """A checkpoint of ``state.step``, with every process's train losses not yet in the loss curve (so the
        curve of a resumed run is exact)."""
        losses = torch.stack(pending) if pending else torch.zeros(0, device=model.device)
        if self.world > 1 and pending:
            losses = self.accelerator.gather(losses)
        state.pending_losses = losses.view(self.world, -1).tolist()
        state.wall_seconds = self.wall_seconds()
        if self.accelerator.is_main_process:
            path = save_checkpoint(self.directory, model, optimizer, scheduler, state, self.identity)
            log.debug("saved %s", path)
        self.accelerator.wait_for_everyone()

    def save_epoch(self, state: TrainingState, model, tokenizer) -> None:
        """The model at the end of the current epoch, kept with the checkpoints until the run succeeds."""
        if not self.accelerator.is_main_process:
            return
        final = self.directory / "epochs" / f"epoch-{state.epoch + 1}"
        temporary = temporary_dir(final)
        model.save_pretrained(temporary)
        tokenizer.save_pretrained(temporary)
        info = {"epoch": state.epoch + 1, "step": state.step, "validation_loss": state.last_validation_loss}
        (temporary / "metrics.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        shutil.rmtree(final, ignore_errors=True)  # left by an earlier session: this run's model replaces it
        publish(temporary, final)


class TermFlag:
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

    def requested(self, accelerator) -> bool:
        """Whether any process got SIGTERM; all processes agree, so they save and stop at the same step."""
        if accelerator.num_processes == 1:
            return self.raised
        flag = torch.tensor([float(self.raised)], device=accelerator.device)
        return bool(accelerator.reduce(flag, "sum").item() > 0)
