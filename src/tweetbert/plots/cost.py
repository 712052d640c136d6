"""What pre-training time bought: each candidate's selection score against its pre-training cost."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from tweetbert.plots import save_figure
from tweetbert.plots.palette import HIGHLIGHT as _HIGHLIGHT
from tweetbert.plots.palette import corpus_colours


def plot_score_by_cost(table: pd.DataFrame, path: Path, *, score_label: str, device: str) -> plt.Figure:
    """Score (y) by device-hours (x), coloured by corpus; each point labelled with its epochs, the candidates of one
    setting joined in epoch order (so a line's slope is what more epochs bought), the selected one ringed."""
    corpora = sorted(table["corpus"].unique())
    palette = corpus_colours(corpora)
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    for _, rows in table.sort_values("epochs").groupby("setting"):
        if len(rows) > 1:
            ax.plot(rows["device_hours"], rows["score"], color=palette[rows["corpus"].iloc[0]], alpha=0.35, lw=1)
    sns.scatterplot(data=table, x="device_hours", y="score", hue="corpus", hue_order=corpora, palette=palette,
                    ax=ax, zorder=2)
    for _, row in table.iterrows():
        ax.annotate(f"{row['epochs']} ep", (row["device_hours"], row["score"]), xytext=(7, 4),
                    textcoords="offset points", fontsize=7)
    chosen = table[table["selected"]]
    ax.scatter(chosen["device_hours"], chosen["score"], s=220, facecolors="none", edgecolors=_HIGHLIGHT,
               linewidths=2, label="selected", zorder=3)
    ax.set_xlabel(f"pre-training cost (device-hours; {device})")
    ax.set_ylabel(score_label)
    ax.legend(fontsize=8)
    ax.set_title("Selection score by pre-training cost (labels: epochs; lines join one setting's epochs)", fontsize=9)
    return save_figure(fig, path)
