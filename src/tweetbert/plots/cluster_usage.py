"""Where a cluster run's hours went: GPU-hours and CPU-hours per rule, the numbers to compare with the budget."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from tweetbert.plots import save_figure


def plot_usage(table: pd.DataFrame, path: Path, *, title: str) -> None:
    """GPU-hours per rule (left; rules without a GPU left out) and CPU-hours per rule (right), largest first, each
    bar labelled with its jobs and retries so a rule's cost reads together with how often it ran."""
    panels = [("gpu_hours", "GPU-hours", table[table["gpu_hours"] > 0]), ("cpu_hours", "CPU-hours", table)]
    height = max(2.4, 0.32 * len(table) + 1.4)
    fig, axes = plt.subplots(1, 2, figsize=(10.4, height))
    for ax, (column, label, rows), colour in zip(axes, panels, sns.color_palette("tab10", 2), strict=True):
        rows = rows.sort_values(column, ascending=False)
        if rows.empty:
            ax.text(0.5, 0.5, "no GPU jobs", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        sns.barplot(data=rows, y="rule", x=column, color=colour, ax=ax)
        for position, row in enumerate(rows.itertuples(index=False)):
            text = f"{row.jobs} job" + ("s" if row.jobs != 1 else "")
            if row.retries:
                text += f", {row.retries} " + ("retry" if row.retries == 1 else "retries")
            ax.annotate(text, (getattr(row, column), position), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=7)
        ax.set_xlabel(f"{label} allocated (elapsed x {label.split('-')[0]}s)")
        ax.set_ylabel("")
        ax.margins(x=0.25)
    fig.suptitle(f"Cluster usage by rule ({title})", fontsize=10)
    save_figure(fig, path)
