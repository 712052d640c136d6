"""Figures of the near-dedup calibration."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from tweetbert.plots import save_figure


def plot_flag_rates(grid: pd.DataFrame, path: Path, chosen: tuple[int, float] | None = None) -> None:
    """Target vs control flag rate per (n-gram size, threshold); the top-left corner is where a setting should be."""
    fig, ax = plt.subplots(figsize=(7, 5.5))
    table = grid.assign(ngram=grid["ngram"].astype(str))
    sns.scatterplot(data=table, x="control_flag_rate", y="target_flag_rate", hue="ngram", style="ngram", s=80, ax=ax)
    for row in grid.itertuples():
        ax.annotate(f"{row.threshold:g}", (row.control_flag_rate, row.target_flag_rate),
                    textcoords="offset points", xytext=(5, 4), fontsize=8)
    if chosen is not None:
        pick = grid[(grid["ngram"] == chosen[0]) & (grid["threshold"].round(6) == round(chosen[1], 6))]
        if len(pick):
            ax.scatter(pick["control_flag_rate"], pick["target_flag_rate"], s=260, facecolors="none",
                       edgecolors="crimson", linewidths=2, label=f"configured (n={chosen[0]}, J={chosen[1]:g})")
    ax.set_xlabel("control tweets flagged (should be low)")
    ax.set_ylabel("template posts flagged (should be high)")
    ax.set_xlim(-0.02, max(0.2, grid["control_flag_rate"].max() + 0.05))
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Near-dedup calibration: labels are Jaccard thresholds")
    ax.legend(title="n-gram size", fontsize=8)
    save_figure(fig, path)
