"""The candidate table behind the pre-training exploration plots: one row per candidate, from its run's files.

With epoch checkpoints, a candidate of k epochs is the k-th epoch of a longer run, so its validation loss is the
one recorded with that epoch's checkpoint rather than the run's final metric.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from tweetbert.modeling.candidates import Candidate


def candidate_table(runs: Mapping[str, tuple[Candidate, int]], run_dir: Path) -> pd.DataFrame:
    """Parameters, validation loss and perplexity of every candidate, sorted by slug."""
    rows = []
    for slug, (run, epoch) in sorted(runs.items()):
        metrics = json.loads((run_dir / run.slug / "metrics.json").read_text())
        if epoch == run.epochs:
            loss = float(metrics["final_validation_loss"])
        else:
            epoch_metrics = run_dir / run.slug / "epochs" / f"epoch-{epoch}" / "metrics.json"
            loss = float(json.loads(epoch_metrics.read_text())["validation_loss"])
        rows.append({"candidate": slug, "corpus": run.corpus, "learning_rate": run.learning_rate,
                     "weight_decay": run.weight_decay, "epochs": epoch, "beta1": run.beta1, "beta2": run.beta2,
                     "epsilon": run.epsilon, "validation_loss": loss, "perplexity": float(np.exp(loss)),
                     "tokens_per_second": metrics.get("tokens_per_second")})
    return pd.DataFrame(rows)
