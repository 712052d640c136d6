"""Training checkpoints that survive being killed at any moment, cannot wedge a run, and refuse to resume a
different run.

A checkpoint is a directory ``step-NNNNNNNN/`` in the checkpoint directory, written under a temporary name, flushed
to disk and then renamed, so a kill (SIGKILL, node failure) leaves either the previous checkpoint or the new one,
never a half-written one. The last two are kept. Each ends with ``manifest.json`` (size and SHA-256 of every other
file, written last): a checkpoint damaged afterwards (a full disk, a truncated copy, a file system repaired after a
crash) fails :func:`verify`, and :func:`latest_intact_checkpoint` falls back to the one before it. It holds:

- ``model.safetensors``: the weights (tied embeddings stored once);
- ``optimizer.pt``, ``scheduler.pt``: their state dicts (``torch.save``; loaded with ``weights_only=True``);
- ``state.json``: the progress (:class:`TrainingState`) and what identifies the run (settings, fingerprint of the
  tokenised data and base weights, number of processes).

A save copies the state to the host (:func:`snapshot`) and writes it (:func:`write_checkpoint`); the training loop
does the writing in a background thread, so a save stalls training only for the copy.

No RNG states: every random draw of the training loop is seeded from (seed, epoch, batch, step, rank), so the
position in the run is all a resumed run needs to draw the same masks, batch order and dropout.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from tweetbert.errors import InputError

PREFIX = "step-"
TEMPORARY_PREFIX = ".tmp-"
MANIFEST = "manifest.json"
KEEP = 2  # checkpoints kept: the latest, and one to fall back to if the latest turns out damaged


@dataclass
class TrainingState:
    """Where a run is: the loop continues from here. ``epoch_step`` counts optimizer steps done in ``epoch``."""

    step: int = 0
    epoch: int = 0
    epoch_step: int = 0
    tokens_seen: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # wall time by phase (loading, training, ...)
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(directory: Path) -> None:
    """Records size and SHA-256 of every file under ``directory``; call last, before :func:`publish`."""
    files = {item.relative_to(directory).as_posix(): {"size": item.stat().st_size, "sha256": _sha256(item)}
             for item in sorted(directory.rglob("*")) if item.is_file() and item.name != MANIFEST}
    (directory / MANIFEST).write_text(json.dumps({"files": files}, indent=1) + "\n", encoding="utf-8")


def verify(directory: Path) -> str | None:
    """What is wrong with ``directory`` compared with its manifest, or None when every file is as written."""
    try:
        files = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))["files"]
        expected = {name: (int(entry["size"]), str(entry["sha256"])) for name, entry in files.items()}
    except FileNotFoundError:
        return f"no {MANIFEST} (it is written last: the directory is incomplete or from an older version)"
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"{MANIFEST} is damaged"
    for name, (size, sha256) in sorted(expected.items()):
        path = directory / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != size:
            return f"{name} has {path.stat().st_size} bytes, {size} were written"
        if _sha256(path) != sha256:
            return f"{name} is not what was written (SHA-256 differs)"
    return None


def checkpoints(checkpoint_dir: Path) -> list[Path]:
    """Published checkpoints, oldest first."""
    return sorted(Path(checkpoint_dir).glob(PREFIX + "*")) if Path(checkpoint_dir).is_dir() else []


def latest_checkpoint(checkpoint_dir: Path) -> Path | None:
    """The published checkpoint with the highest step, intact or not, or None."""
    found = checkpoints(checkpoint_dir)
    return found[-1] if found else None


def latest_intact_checkpoint(checkpoint_dir: Path) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The newest checkpoint that passes :func:`verify` (or None), and each newer one with what is wrong with it."""
    rejected = []
    for path in reversed(checkpoints(checkpoint_dir)):
        problem = verify(path)
        if problem is None:
            return path, rejected
        rejected.append((path, problem))
    return None, rejected


@dataclass(frozen=True)
class Snapshot:
    """Everything a checkpoint holds, copied to the host: training may go on while it is written."""

    step: int
    weights: dict[str, torch.Tensor]  # tied weights once
    optimizer: dict
    scheduler: dict
    state_json: str


def _to_host(value):
    """``value`` with every tensor copied to the CPU (fresh memory, so later in-place updates do not reach it)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {key: _to_host(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_to_host(item) for item in value)
    return value


def snapshot(model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler, state: TrainingState,
             identity: dict) -> Snapshot:
    """The checkpoint of ``state.step`` copied off the device: the only part of a save that stalls training."""
    weights, seen = {}, set()
    for name, tensor in model.state_dict().items():
        if tensor.data_ptr() in seen:  # a tied weight (the MLM decoder is the embedding matrix)
            continue
        seen.add(tensor.data_ptr())
        weights[name] = _to_host(tensor).contiguous()
    return Snapshot(state.step, weights, _to_host(optimizer.state_dict()), _to_host(scheduler.state_dict()),
                    json.dumps({"identity": identity, "state": asdict(state)}, indent=1) + "\n")


def write_checkpoint(checkpoint_dir: Path, taken: Snapshot) -> Path:
    """Writes a snapshot atomically as the checkpoint of its step, then keeps only the last :data:`KEEP`."""
    from safetensors.torch import save_file

    final = Path(checkpoint_dir) / f"{PREFIX}{taken.step:08d}"
    if final.exists():
        if verify(final) is None:  # this very step was saved already (e.g. TERM right after resuming)
            return final
        shutil.rmtree(final)
    temporary = temporary_dir(final)
    save_file(taken.weights, str(temporary / "model.safetensors"), metadata={"format": "pt"})
    torch.save(taken.optimizer, temporary / "optimizer.pt")
    torch.save(taken.scheduler, temporary / "scheduler.pt")
    (temporary / "state.json").write_text(taken.state_json, encoding="utf-8")
    write_manifest(temporary)
    publish(temporary, final)
    for older in checkpoints(checkpoint_dir)[:-KEEP]:
        shutil.rmtree(older)
    return final


def save_checkpoint(checkpoint_dir: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler,
                    state: TrainingState, identity: dict) -> Path:
    """Writes the checkpoint of ``state.step`` atomically, then keeps only the last :data:`KEEP`; returns its path."""
    return write_checkpoint(checkpoint_dir, snapshot(model, optimizer, scheduler, state, identity))


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
    """Restores model, optimizer and scheduler in place after checking the run's identity; returns the state.

    Check ``path`` with :func:`verify` first: a damaged file may fail half-way, with the model already changed.
    """
    from safetensors.torch import load_model

    saved = json.loads((path / "state.json").read_text(encoding="utf-8"))
    check_identity(path, saved["identity"], identity)
    device = next(model.parameters()).device
    load_model(model, str(path / "model.safetensors"), device=str(device))
    optimizer.load_state_dict(torch.load(path / "optimizer.pt", map_location=device, weights_only=True))
    scheduler.load_state_dict(torch.load(path / "scheduler.pt", weights_only=True))
    return TrainingState(**saved["state"])
