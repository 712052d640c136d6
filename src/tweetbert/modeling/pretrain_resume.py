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
    Snapshot,
    TrainingState,
    latest_intact_checkpoint,
    load_checkpoint,
    publish,
    snapshot,
    temporary_dir,
    write_checkpoint,
)
from tweetbert.modeling.pretrain_record import log_on_main

log = logging.getLogger("tweetbert.modeling.pretrain")  # a run logs under one name, whichever module writes


class Checkpoints:
    """The checkpoints of one run; ``resume`` says how this session started (for the metrics)."""

    def __init__(self, accelerator, directory: Path, identity: dict, started: float):
        self.accelerator = accelerator
        self.directory = directory
        self.identity = identity
        self.started = started
        self.world = accelerator.num_processes
        self.resume: dict = {"from_step": None, "checkpoints_rejected": []}
        self.wall_before = 0.0  # wall seconds of earlier sessions, up to their last checkpoint
        self.writer = CheckpointWriter(directory)

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
             optimizer: torch.optim.Optimizer, scheduler, *, wait: bool = False) -> None:
        """A checkpoint of ``state.step``, with every process's train losses not yet in the loss curve (so the
        curve of a resumed run is exact). The state is copied off the device here and written in the background
        (after the previous save, if that is still being written); ``wait``: return once it is on disk."""
        losses = torch.stack(pending) if pending else torch.zeros(0, device=model.device)
        if self.world > 1 and pending:
            losses = self.accelerator.gather(losses)
        state.pending_losses = losses.view(self.world, -1).tolist()
        state.wall_seconds = self.wall_seconds()
        if self.accelerator.is_main_process:
            self.writer.submit(snapshot(model, optimizer, scheduler, state, self.identity))
            if wait:
                self.writer.wait()
        self.accelerator.wait_for_everyone()

    def finish(self) -> None:
        """Waits for a checkpoint still being written (and raises what went wrong writing it)."""
        self.writer.wait()

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


class CheckpointWriter:
    """Writes snapshots in one background thread, one at a time; an error there is raised at the next call."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.write_seconds = 0.0  # spent writing in the background (not stalling training)

    def _write(self, taken: Snapshot) -> None:
        started = time.perf_counter()
        try:
            log.debug("saved %s", write_checkpoint(self.directory, taken))
        except BaseException as error:  # noqa: BLE001  (raised on the training thread by wait())
            self.error = error
        self.write_seconds += time.perf_counter() - started

    def submit(self, taken: Snapshot) -> None:
        self.wait()
        self.thread = threading.Thread(target=self._write, args=(taken,), name="tweetbert-checkpoint")
        self.thread.start()

    def wait(self) -> None:
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        if self.error is not None:
            error, self.error = self.error, None
            raise error


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

    def agreed(self, accelerator, save_due: bool, collective: bool) -> tuple[bool, bool]:
        """Whether to stop for SIGTERM and whether to save by the clock, the same on every process: the main
        process's clock decides; any process's SIGTERM stops all. With several processes this is a collective,
        so the loop calls it only every few steps (``collective``); alone, it costs nothing."""
        if accelerator.num_processes == 1:
            return self.raised, save_due
        if not collective:
            return False, False
        flags = torch.tensor([float(self.raised), float(save_due and accelerator.is_main_process)],
                             device=accelerator.device)
        stop, save = (accelerator.reduce(flags, "sum") > 0).tolist()
        return stop, save
