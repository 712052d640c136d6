"""Training checkpoints that survive being killed at any moment, and refuse to resume a different run.

A checkpoint is a directory ``step-NNNNNNNN/`` in the checkpoint directory, written under a temporary name, flushed
to disk and then renamed, so a kill (SIGKILL, node failure) leaves either the previous checkpoint or the new one,
never a half-written one; older checkpoints are removed only after the new one is in place. It holds:

- ``model.safetensors``: the weights (tied embeddings stored once);
- ``optimizer.pt``, ``scheduler.pt``: their state dicts (``torch.save``; loaded with ``weights_only=True``);
- ``state.json``: the progress (:class:`TrainingState`) and what identifies the run (settings, fingerprint of the
  tokenised data and base weights, number of processes).

No RNG states: every random draw of the training loop is seeded from (seed, epoch, batch, step, rank), so the
position in the run is all a resumed run needs to draw the same masks, batch order and dropout.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from tweetbert.errors import InputError

PREFIX = "step-"
TEMPORARY_PREFIX = ".tmp-"


@dataclass
class TrainingState:
    """Where a run is: the loop continues from here. ``epoch_step`` counts optimizer steps done in ``epoch``."""

    step: int = 0
    epoch: int = 0
    epoch_step: int = 0
    tokens_seen: int = 0
    train_seconds: float = 0.0
    wall_seconds: float = 0.0
    best_validation_loss: float | None = None
    best_step: int | None = None
    evaluations_without_improvement: int = 0
    last_evaluated_step: int | None = None
    last_validation_loss: float | None = None
    stopped_early: bool = False
    loss_curve: list[dict] = field(default_factory=list)
    pending_losses: list[list[float]] = field(default_factory=list)  # per process: train losses not yet in the curve


def _fsync_dir(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_tree(path: Path) -> None:
    """Flushes every file and directory under ``path``, so a rename publishes complete files."""
    for item in sorted(path.rglob("*")):
        if item.is_file():
            with item.open("rb") as handle:
                os.fsync(handle.fileno())
        else:
            _fsync_dir(item)
    _fsync_dir(path)


def publish(temporary: Path, final: Path) -> None:
    """Gives the finished directory ``temporary`` its final name in one atomic rename (same file system)."""
    _fsync_tree(temporary)
    temporary.rename(final)
    _fsync_dir(final.parent)


def temporary_dir(final: Path) -> Path:
    """A fresh, empty sibling of ``final`` to build it in."""
    temporary = final.with_name(TEMPORARY_PREFIX + final.name)
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    return temporary


def latest_checkpoint(checkpoint_dir: Path) -> Path | None:
    """The complete checkpoint with the highest step, or None."""
    found = sorted(Path(checkpoint_dir).glob(PREFIX + "*")) if Path(checkpoint_dir).is_dir() else []
    return found[-1] if found else None


def save_checkpoint(checkpoint_dir: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler,
                    state: TrainingState, identity: dict) -> Path:
    """Writes the checkpoint of ``state.step`` atomically, then removes older ones; returns its path."""
    from safetensors.torch import save_model

    final = Path(checkpoint_dir) / f"{PREFIX}{state.step:08d}"
    if final.exists():  # this very step was saved already (e.g. TERM right after resuming): same content
        return final
    temporary = temporary_dir(final)
    save_model(model, str(temporary / "model.safetensors"))
    torch.save(optimizer.state_dict(), temporary / "optimizer.pt")
    torch.save(scheduler.state_dict(), temporary / "scheduler.pt")
    (temporary / "state.json").write_text(
        json.dumps({"identity": identity, "state": asdict(state)}, indent=1) + "\n", encoding="utf-8")
    publish(temporary, final)
    for older in Path(checkpoint_dir).glob(PREFIX + "*"):
        if older.name < final.name:
            shutil.rmtree(older)
    return final


def check_identity(path: Path, saved: dict, expected: dict) -> None:
    """Refuses a checkpoint written by a different run, naming every difference."""
    differences = []
    for key in sorted(set(saved) | set(expected)):
        if key == "settings":
            continue
        if saved.get(key) != expected.get(key):
            differences.append(f"{key}: checkpoint {saved.get(key)!r}, now {expected.get(key)!r}")
    saved_settings, settings = saved.get("settings", {}), expected.get("settings", {})
    for key in sorted(set(saved_settings) | set(settings)):
        if saved_settings.get(key) != settings.get(key):
            differences.append(f"setting {key}: checkpoint {saved_settings.get(key)!r}, now {settings.get(key)!r}")
    if differences:
        raise InputError(path, "written by a different run, so it cannot be resumed (" + "; ".join(differences)
                         + "). Delete the checkpoint directory to start over, or restore the run's settings")


def load_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler,
                    identity: dict) -> TrainingState:
    """Restores model, optimizer and scheduler in place after checking the run's identity; returns the state."""
    from safetensors.torch import load_model

    saved = json.loads((path / "state.json").read_text(encoding="utf-8"))
    check_identity(path, saved["identity"], identity)
    device = next(model.parameters()).device
    load_model(model, str(path / "model.safetensors"), device=str(device))
    optimizer.load_state_dict(torch.load(path / "optimizer.pt", map_location=device, weights_only=True))
    scheduler.load_state_dict(torch.load(path / "scheduler.pt", weights_only=True))
    return TrainingState(**saved["state"])
