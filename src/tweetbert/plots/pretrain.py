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
from tweetbert.plots.palette import TRAIN_LOSS, corpus_colours


def _explored(table: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """The exploration phase's rows with its name, or the candidates' where nothing was explored."""
    phase = "exploration" if (table["phase"] == "exploration").any() else "candidates"
    return phase, table[table["phase"] == phase]


def _at_fewest_epochs(rows: pd.DataFrame) -> pd.DataFrame:
    """Each corpus's rows at its fewest epochs."""
    return rows[rows["epochs"] == rows.groupby("corpus")["epochs"].transform("min")]


def _epochs_label(epochs: int) -> str:
    return f"{epochs} epoch" + ("" if epochs == 1 else "s")


def plot_lr_wd_heatmap(table: pd.DataFrame, path: Path) -> plt.Figure:
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
    return save_figure(fig, path)


def _annotate(ax: plt.Axes, x: float, y: float, text: str, colour: str) -> None:
    ax.annotate(text, (x, y), xytext=(6, 6), textcoords="offset points", fontsize=8, color=colour)


def plot_loss_by_weight_decay(table: pd.DataFrame, learning_rate: float, path: Path) -> plt.Figure:
    """Validation loss against weight decay at the fixed learning rate, one line per corpus in its own colour, each
    point labelled with its loss; a lone point (one weight decay explored) says so instead of posing as a curve."""
    phase, rows = _explored(table)
    rows = _at_fewest_epochs(rows[rows["learning_rate"] == learning_rate])
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    title = f"Validation loss by weight decay at learning rate {learning_rate:.0e} ({phase})"
    if rows.empty:
        ax.text(0.5, 0.5, f"no {phase} point at learning rate {learning_rate:.0e}", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
    else:
        best = rows.groupby(["corpus", "epochs", "weight_decay"], as_index=False)["validation_loss"].min()
        decays = sorted(best["weight_decay"].unique())
        colours = corpus_colours(sorted(best["corpus"].unique()))
        for corpus, points in best.groupby("corpus"):
            points = points.sort_values("weight_decay")
            x = [decays.index(value) for value in points["weight_decay"]]
            ax.plot(x, points["validation_loss"], marker="o", color=colours[corpus],
                    label=f"{corpus} ({_epochs_label(points['epochs'].iloc[0])})")
            for position, loss in zip(x, points["validation_loss"]):
                _annotate(ax, position, loss, f"{loss:.3f}", colours[corpus])
        ax.set_xticks(range(len(decays)), [f"{value:g}" for value in decays])
        ax.set_xlim(-0.5, len(decays) - 0.5)
        ax.margins(y=0.25)
        ax.set_xlabel("weight decay")
        ax.set_ylabel("validation MLM loss")
        ax.legend(title="corpus", fontsize=8)
        if len(decays) == 1:
            title += f"\nonly weight decay {decays[0]:g} was trained at this learning rate: nothing to compare yet"
    ax.set_title(title, fontsize=9)
    return save_figure(fig, path)


def _draw_epochs(ax: plt.Axes, rows: pd.DataFrame, colours: dict[str, str]) -> None:
    """Every point of one phase (dots, nudged apart by corpus) and each corpus's best per epoch count (diamonds)."""
    present = sorted(rows["corpus"].unique())
    for offset, corpus in zip([0.08 * (i - (len(present) - 1) / 2) for i in range(len(present))], present):
        of_corpus = rows[rows["corpus"] == corpus]
        ax.scatter(of_corpus["epochs"] + offset, of_corpus["validation_loss"], color=colours[corpus], alpha=0.45,
                   s=18)
        best = of_corpus.groupby("epochs", as_index=False)["validation_loss"].min()
        ax.plot(best["epochs"] + offset, best["validation_loss"], marker="D", color=colours[corpus], label=corpus)
        if len(best) == 1:  # one epoch count: label the diamond, there is no line to read
            _annotate(ax, best["epochs"].iloc[0] + offset, best["validation_loss"].iloc[0],
                      f"best {best['validation_loss'].iloc[0]:.3f}", colours[corpus])


def plot_loss_by_epochs(table: pd.DataFrame, path: Path) -> plt.Figure:
    """Validation loss against pre-training epochs per corpus, one panel per phase (all points, best marked).

    A phase whose points all have one epoch count (the demo's exploration, which varies learning rate and weight
    decay) says nothing about epochs: it gets no panel of its own, only a note, unless no phase varies epochs."""
    phases = list(dict.fromkeys(table["phase"]))  # in the table's order: exploration first
    varied = [phase for phase in phases if table.loc[table["phase"] == phase, "epochs"].nunique() > 1]
    shown = varied or phases
    skipped = [phase for phase in phases if phase not in shown]
    colours = corpus_colours(sorted(table["corpus"].unique()))
    fig, axes = plt.subplots(1, len(shown), figsize=(6.5 * len(shown), 4.2), squeeze=False, sharey=True)
    for ax, phase in zip(axes[0], shown):
        rows = table[table["phase"] == phase]
        _draw_epochs(ax, rows, colours)
        ax.set_xticks(sorted(rows["epochs"].unique()))
        ax.set_xlim(rows["epochs"].min() - 0.5, rows["epochs"].max() + 0.5)
        ax.set_xlabel("pre-training epochs")
        ax.set_ylabel("validation MLM loss")
        ax.legend(title="corpus", fontsize=8)
        ax.set_title(f"{phase}: validation loss by epochs (diamonds: best point)", fontsize=9)
    for phase in skipped:
        epochs = sorted(table.loc[table["phase"] == phase, "epochs"].unique())
        fig.text(0.01, 0.01, f"{phase}: all {int((table['phase'] == phase).sum())} points at "
                             f"{_epochs_label(int(epochs[0]))}, so no panel (nothing to compare across epochs; the "
                             "heatmap shows them)", fontsize=8, ha="left", va="bottom")
    if skipped:
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        return save_figure(fig, path, tight=False)
    return save_figure(fig, path)


def plot_loss_curves(curves: dict[str, pd.DataFrame], corpora: dict[str, str], path: Path) -> plt.Figure:
    """One panel per pre-training run (``curves``: run -> its loss_curve.tsv): training loss (grey, a mean since the
    previous row) and validation loss (its corpus's colour, dots at each evaluation) against the step, so a run that
    was still falling, flat or overfitting when it stopped reads at a glance. ``corpora`` maps run -> corpus."""
    runs = list(curves)
    columns = min(3 if len(runs) <= 9 else 4, len(runs))
    rows = -(-len(runs) // columns)
    height = 3.3 * rows + 0.5
    fig, axes = plt.subplots(rows, columns, figsize=(5.0 * columns, height), squeeze=False)
    colours = corpus_colours(sorted(set(corpora.values())))
    for ax, run in zip(axes.flat, runs):
        curve = curves[run]
        train = curve.dropna(subset=["train_loss"])
        validation = curve.dropna(subset=["validation_loss"])
        ax.plot(train["step"], train["train_loss"], color=TRAIN_LOSS, linewidth=1)
        ax.plot(validation["step"], validation["validation_loss"], color=colours[corpora[run]], marker="o",
                markersize=3.5, linewidth=1.4)
        if len(validation):
            last = validation.iloc[-1]
            _annotate(ax, last["step"], last["validation_loss"], f"{last['validation_loss']:.3f}",
                      colours[corpora[run]])
        ax.set_title(run, fontsize=7)
        ax.set_xlabel("step")
        ax.set_ylabel("MLM loss")
    for ax in list(axes.flat)[len(runs):]:
        ax.set_visible(False)
    handles = [plt.Line2D([], [], color=TRAIN_LOSS, label="training loss (mean since the previous row)")]
    handles += [plt.Line2D([], [], color=colour, marker="o", markersize=3.5, label=f"validation loss, {corpus}")
                for corpus, colour in colours.items()]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.45 / height, 1, 1))  # half an inch for the legend below
    return save_figure(fig, path, tight=False)
