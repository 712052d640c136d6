"""A sweep job's settings (config section ``sweep``), defaults from the config schema.

Kept apart from the workers (optuna) so the workflow and the CLI read them cheaply; the workers' own keyword
defaults are taken from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tweetbert.settings import mirrors, setting


@dataclass(frozen=True)
@mirrors("sweep")
class SweepSettings:
    """One study's sweep job: its trials, pruner, recovery and worker processes (the storage is the workflow's: it
    names the study's place)."""

    n_trials: int = setting()
    workers: int = setting()
    gpus: int = setting()
    pruner: str = setting()
    pruner_startup_trials: int = setting()
    pruner_warmup_epochs: int = setting()
    evaluations_per_epoch: int = setting()
    lease_timeout: float = setting()
    heartbeat_interval: int = setting()
    grace_period: int | None = setting()  # None: twice heartbeat_interval
    storage_retry_seconds: float = setting()
    storage_connect_timeout: int = setting()
    max_length: int = setting()
    space: dict[str, Any] = setting()
    seed: int = setting(key="seed")


# The defaults, for functions that take these settings one by one.
SWEEP_DEFAULTS = SweepSettings()
