"""Figures of the near-dedup calibration."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from tweetbert.plots import save_figure
from tweetbert.plots.palette import HIGHLIGHT, ordinal_colours


def plot_flag_rates(grid: pd.DataFrame, path: Path, chosen: tuple[int, float] | None = None) -> plt.Figure:
    """Template posts flagged (left, should be high) and distinct tweets flagged (right, should be low) against the
    Jaccard threshold, one line per n-gram size, the configured setting ringed in both.

    The threshold is an axis rather than a label beside each point: on a scatter of target against control rate the
    good settings all crowd into one corner and their labels overlap until none can be read.
    """
    sizes = sorted(grid["ngram"].unique())
    colours = ordinal_colours(sizes)
    markers = dict(zip(sizes, "osD^vP*Xh<>p"))
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.2), sharex=True)
    panels = (("target_flag_rate", "template posts flagged (should be high)"),
              ("control_flag_rate", "control tweets flagged (should be low)"))
    for ax, (column, label) in zip(axes, panels):
        for size in sizes:
            rows = grid[grid["ngram"] == size].sort_values("threshold")
            ax.plot(rows["threshold"], rows[column] * 100, color=colours[size], marker=markers[size], markersize=5,
                    linewidth=1.3, label=f"{size}-grams")
        if chosen is not None:
            pick = grid[(grid["ngram"] == chosen[0]) & (grid["threshold"].round(6) == round(chosen[1], 6))]
            if len(pick):
                ax.scatter(pick["threshold"], pick[column] * 100, s=220, facecolors="none", edgecolors=HIGHLIGHT,
                           linewidths=2, zorder=3, label=f"configured (n={chosen[0]}, J={chosen[1]:g})")
        ax.set_xticks(sorted(grid["threshold"].unique()))
        top = 100 if column == "target_flag_rate" else min(100, max(5.0, grid[column].max() * 100 * 1.2))
        ax.set_ylim(-top * 0.03, top * 1.03)  # the control's few percent are not squashed against the axis
        ax.set_xlabel("Jaccard threshold")
        ax.set_ylabel(f"{label.split(' (')[0]} (%)")
        ax.set_title(label, fontsize=10)
        ax.grid(True, color="0.92")
    axes[1].legend(title="shingles", fontsize=8, loc="upper right")
    fig.suptitle("Near-dedup calibration by n-gram size and threshold", fontsize=11)
    return save_figure(fig, path)
