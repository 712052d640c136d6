"""The table behind the pre-training exploration plots: one row per grid point and phase, from its run's files.

With epoch checkpoints, a point of k epochs is the k-th epoch of a longer run, so its validation loss is the one
recorded with that epoch's checkpoint rather than the run's final metric. A point both phases list is one run and
two rows, so each phase's plots see all of its points.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from tweetbert.errors import ConfigError
from tweetbert.modeling.candidates import PHASES, Candidate


def candidate_table(runs_by_phase: Mapping[str, Mapping[str, tuple[Candidate, int]]], metrics: Mapping[str, Path],
                    epoch_models: Mapping[str, Path]) -> pd.DataFrame:
    """Phase, parameters, validation loss and perplexity of every point, by phase (exploration first) and slug.

    ``metrics``: each training run's ``metrics.json`` by run slug; ``epoch_models``: each run's folder of epoch
    models (with epoch checkpoints), whose ``epoch-k/metrics.json`` gives a shorter point's loss.
    """
    rows = []
    for phase in PHASES:
        for slug, (run, epoch) in sorted(runs_by_phase.get(phase, {}).items()):
            if run.slug not in metrics:
                raise ConfigError("--metrics", f"no metrics.json given for training run {run.slug} (of {slug})")
            run_metrics = json.loads(metrics[run.slug].read_text())
            if epoch == run.epochs:
                loss = float(run_metrics["final_validation_loss"])
            elif run.slug in epoch_models:
                epoch_metrics = epoch_models[run.slug] / f"epoch-{epoch}" / "metrics.json"
                loss = float(json.loads(epoch_metrics.read_text())["validation_loss"])
            else:
                raise ConfigError("--epoch-models", f"no epoch models given for training run {run.slug}, "
                                  f"whose epoch {epoch} is {slug}")
            rows.append({"candidate": slug, "phase": phase, "corpus": run.corpus,
                         "learning_rate": run.learning_rate, "weight_decay": run.weight_decay, "epochs": epoch,
                         "beta1": run.beta1, "beta2": run.beta2, "epsilon": run.epsilon, "validation_loss": loss,
                         "perplexity": float(np.exp(loss)), "tokens_per_second": run_metrics.get("tokens_per_second")})
    return pd.DataFrame(rows)
