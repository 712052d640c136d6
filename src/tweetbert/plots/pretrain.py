"""Figures of the pre-training exploration: where in the grid the validation loss is lowest."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from tweetbert.plots import save_figure


def plot_lr_wd_heatmap(table: pd.DataFrame, path: Path) -> None:
    """Best validation loss per learning rate x weight decay, one panel per corpus."""
    corpora = sorted(table["corpus"].unique())
    fig, axes = plt.subplots(1, len(corpora), figsize=(4.5 * len(corpora), 3.8), squeeze=False)
    for ax, corpus in zip(axes[0], corpora):
        grid = (table[table["corpus"] == corpus]
                .groupby(["learning_rate", "weight_decay"])["validation_loss"].min()
                .unstack("weight_decay").sort_index(ascending=False))
        sns.heatmap(grid, annot=True, fmt=".3f", cmap="viridis_r", ax=ax, cbar_kws={"label": "validation loss"})
        ax.set_yticklabels([f"{v:.0e}" for v in grid.index], rotation=0)
        ax.set_xlabel("weight decay")
        ax.set_ylabel("learning rate")
        ax.set_title(f"{corpus}: best over the other axes")
    save_figure(fig, path)


def plot_loss_by_epochs(table: pd.DataFrame, path: Path) -> None:
    """Validation loss against pre-training epochs, per corpus (best over the other axes, all points shown)."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    sns.stripplot(data=table, x="epochs", y="validation_loss", hue="corpus", dodge=True, alpha=0.5, ax=ax,
                  legend=False)
    best = table.groupby(["corpus", "epochs"], as_index=False)["validation_loss"].min()
    sns.pointplot(data=best, x="epochs", y="validation_loss", hue="corpus", dodge=0.4, markers="D", ax=ax)
    ax.set_xlabel("pre-training epochs")
    ax.set_ylabel("validation MLM loss")
    ax.set_title("Validation loss by epochs (diamonds: best candidate)")
    save_figure(fig, path)
