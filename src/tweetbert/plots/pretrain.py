"""Figures of the pre-training exploration: where in the grid the validation loss is lowest.

The heatmap and the weight-decay plot draw the exploration phase (the candidates where a config explores nothing)
at each corpus's fewest epochs, so every cell compares settings trained equally long; the epochs plot draws each
phase in a panel of its own. A table's ``phase`` is ``exploration`` or ``candidates``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from tweetbert.plots import save_figure


def _explored(table: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """The exploration phase's rows with its name, or the candidates' where nothing was explored."""
    phase = "exploration" if (table["phase"] == "exploration").any() else "candidates"
    return phase, table[table["phase"] == phase]


def _at_fewest_epochs(rows: pd.DataFrame) -> pd.DataFrame:
    """Each corpus's rows at its fewest epochs."""
    return rows[rows["epochs"] == rows.groupby("corpus")["epochs"].transform("min")]


def _epochs_label(epochs: int) -> str:
    return f"{epochs} epoch" + ("" if epochs == 1 else "s")


def plot_lr_wd_heatmap(table: pd.DataFrame, path: Path) -> None:
    """Best validation loss per learning rate x weight decay, one panel per corpus."""
    phase, rows = _explored(table)
    rows = _at_fewest_epochs(rows)
    corpora = sorted(rows["corpus"].unique())
    fig, axes = plt.subplots(1, len(corpora), figsize=(4.5 * len(corpora), 3.8), squeeze=False)
    for ax, corpus in zip(axes[0], corpora):
        of_corpus = rows[rows["corpus"] == corpus]
        grid = (of_corpus.groupby(["learning_rate", "weight_decay"])["validation_loss"].min()
                .unstack("weight_decay").sort_index(ascending=False))
        sns.heatmap(grid, annot=True, fmt=".3f", cmap="viridis_r", ax=ax, cbar_kws={"label": "validation loss"})
        ax.set_yticklabels([f"{v:.0e}" for v in grid.index], rotation=0)
        ax.set_xlabel("weight decay")
        ax.set_ylabel("learning rate")
        ax.set_title(f"{corpus}, {_epochs_label(of_corpus['epochs'].iloc[0])} ({phase})")
    save_figure(fig, path)


def plot_loss_by_weight_decay(table: pd.DataFrame, learning_rate: float, path: Path) -> None:
    """Validation loss against weight decay at the fixed learning rate, one line per corpus."""
    phase, rows = _explored(table)
    rows = _at_fewest_epochs(rows[rows["learning_rate"] == learning_rate])
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    if rows.empty:
        ax.text(0.5, 0.5, f"no {phase} point at learning rate {learning_rate:.0e}", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
    else:
        best = rows.groupby(["corpus", "epochs", "weight_decay"], as_index=False)["validation_loss"].min()
        best["corpus"] = [f"{corpus}, {_epochs_label(epochs)}" for corpus, epochs in zip(best["corpus"],
                                                                                        best["epochs"])]
        sns.pointplot(data=best, x="weight_decay", y="validation_loss", hue="corpus", markers="o", ax=ax)
        ax.set_xlabel("weight decay")
        ax.set_ylabel("validation MLM loss")
    ax.set_title(f"Validation loss by weight decay at learning rate {learning_rate:.0e} ({phase})")
    save_figure(fig, path)


def plot_loss_by_epochs(table: pd.DataFrame, path: Path) -> None:
    """Validation loss against pre-training epochs per corpus, one panel per phase (all points, best marked)."""
    phases = list(dict.fromkeys(table["phase"]))  # in the table's order: exploration first
    corpora = sorted(table["corpus"].unique())
    palette = dict(zip(corpora, sns.color_palette(n_colors=len(corpora))))  # a corpus keeps its colour across panels
    fig, axes = plt.subplots(1, len(phases), figsize=(6.5 * len(phases), 4.2), squeeze=False, sharey=True)
    for ax, phase in zip(axes[0], phases):
        rows = table[table["phase"] == phase]
        present = sorted(rows["corpus"].unique())
        dodge = 0.4 if len(present) > 1 else False  # seaborn cannot dodge a single hue level
        sns.stripplot(data=rows, x="epochs", y="validation_loss", hue="corpus", hue_order=present, palette=palette,
                      dodge=bool(dodge), alpha=0.5, ax=ax, legend=False)
        best = rows.groupby(["corpus", "epochs"], as_index=False)["validation_loss"].min()
        sns.pointplot(data=best, x="epochs", y="validation_loss", hue="corpus", hue_order=present, palette=palette,
                      dodge=dodge, markers="D", ax=ax)
        ax.set_xlabel("pre-training epochs")
        ax.set_ylabel("validation MLM loss")
        ax.set_title(f"{phase}: validation loss by epochs (diamonds: best point)")
    save_figure(fig, path)
