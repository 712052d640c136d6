"""Figures of the probes of the chosen model: t-SNE maps side by side and top-K masked-token accuracy."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from tweetbert.plots import save_figure


def plot_tsne(coordinates: pd.DataFrame, scores: pd.DataFrame, path: Path, title: str | None = None) -> None:
    """One panel per model (columns) and representation (rows), coloured by class; [UNK] items drawn as crosses.

    ``title`` (a probe set's name and classes) goes above the panels; each panel's own title carries its silhouette.
    """
    models = list(dict.fromkeys(coordinates["model"]))
    representations = list(dict.fromkeys(coordinates["representation"]))
    classes = list(dict.fromkeys(coordinates["class"]))
    palette = dict(zip(classes, sns.color_palette("tab10" if len(classes) <= 10 else "tab20", len(classes))))
    silhouette = {(row.model, row.representation): row.silhouette for row in scores.itertuples()}
    fig, axes = plt.subplots(len(representations), len(models), figsize=(5.2 * len(models), 4.6 * len(representations)),
                             squeeze=False)
    for r, representation in enumerate(representations):
        for m, model in enumerate(models):
            ax = axes[r][m]
            panel = coordinates[(coordinates["model"] == model) & (coordinates["representation"] == representation)]
            for unknown, marker in ((False, "o"), (True, "X")):
                part = panel[panel["unknown"] == unknown]
                ax.scatter(part["x"], part["y"], c=[palette[c] for c in part["class"]], s=14 if not unknown else 22,
                           marker=marker, alpha=0.8, linewidths=0)
            score = silhouette[(model, representation)]
            score_text = "n/a" if score is None or pd.isna(score) else f"{score:.3f}"
            ax.set_title(f"{model} — {representation}\nsilhouette (cosine) {score_text}", fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=palette[c], label=c) for c in classes]
    handles.append(plt.Line2D([], [], marker="X", linestyle="", color="grey", label="[UNK] in this model"))
    axes[0][-1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    save_figure(fig, path)


def _grouped_bars(frame: pd.DataFrame, x: str, y: str, hue: str, published: set[str], ax: plt.Axes) -> None:
    """Bars of ``y`` by ``x`` and ``hue`` with their values; hues in ``published`` pastel and hatched."""
    hues = list(dict.fromkeys(frame[hue]))
    measured = [name for name in hues if name not in published]
    colours = dict(zip(measured, sns.color_palette("tab10", len(measured))))
    colours.update(zip([name for name in hues if name in published], sns.color_palette("pastel", len(hues))[::-1]))
    sns.barplot(frame, x=x, y=y, hue=hue, hue_order=hues, palette=colours, ax=ax)
    for container, name in zip(ax.containers, hues):
        ax.bar_label(container, fmt="%.1f", fontsize=7, padding=1)
        if name in published:
            for bar in container:
                bar.set_hatch("//")
    ax.legend(fontsize=8, loc="upper left", frameon=False)


def plot_topk(table: pd.DataFrame, path: Path) -> None:
    """Accuracy@K per model as grouped bars with their values; published rows of the reference study hatched."""
    frame = table.assign(percent=table["accuracy"] * 100, K=table["k"].astype(str))
    fig, ax = plt.subplots(figsize=(2.0 + 1.6 * frame["K"].nunique(), 4.2))
    _grouped_bars(frame, "K", "percent", "model", set(table.loc[table["source"] == "published", "model"]), ax)
    ax.set_ylim(0, 105)
    ax.set_ylabel("masked-token accuracy (%)")
    ax.set_xlabel("K (original token within the top K predictions)")
    save_figure(fig, path)


def plot_downstream(table: pd.DataFrame, path: Path) -> None:
    """Each task's main test metric (the first column of the task) by model; published rows hatched."""
    metrics = [column for column in table.columns if column not in ("role", "model")]
    first_of_task: dict[str, str] = {}
    for column in metrics:
        first_of_task.setdefault(column.split(" ")[0], column)
    main = list(first_of_task.values())
    frame = table.melt(id_vars=["role", "model"], value_vars=main, var_name="task", value_name="score").dropna()
    frame["score"] *= 100
    fig, ax = plt.subplots(figsize=(2.5 + 1.2 * len(main) * max(1, table.shape[0] / 3), 4.4))
    _grouped_bars(frame, "task", "score", "model", set(table.loc[table["role"] == "published", "model"]), ax)
    ax.set_ylim(0, 110)
    ax.set_ylabel("test score × 100 (main metric)")
    ax.set_xlabel("")
    ax.tick_params(axis="x", labelrotation=20)
    save_figure(fig, path)
