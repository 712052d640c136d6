"""Figures of the probes of the chosen model: t-SNE maps side by side and top-K masked-token accuracy."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from tweetbert.plots import save_figure
from tweetbert.plots.palette import UNKNOWN_MARKER, class_colours, model_colours


def _silhouette_text(row: object) -> str:
    """A panel's silhouette: the comparable one (over the items every model knows) where there is one, else this
    model's over its own known items, flagged as not comparable, else why there is none."""
    score, own = getattr(row, "silhouette", None), getattr(row, "own_silhouette", None)
    if score is not None and not pd.isna(score):
        return f"silhouette (cosine) {score:.3f}"
    if own is not None and not pd.isna(own):
        known = int(row.items) - int(row.unknown_items)
        return f"silhouette {own:.3f} over its {known} known items\n(not comparable: {row.note})"
    note = getattr(row, "note", "")
    return f"no silhouette: {note}" if isinstance(note, str) and note else "silhouette n/a"


def plot_tsne(coordinates: pd.DataFrame, scores: pd.DataFrame, path: Path, title: str | None = None,
              classes: Sequence[str] | None = None) -> plt.Figure:
    """One panel per model (columns) and representation (rows), coloured by class; [UNK] items drawn as crosses.

    ``classes`` is every class of the probe (default: those in ``coordinates``): a class's colour comes from its
    place there, so it is the same on the joint map and on each set's. ``title`` (a probe set's name and classes)
    goes above the panels; each panel's own title carries its silhouette.
    """
    models = list(dict.fromkeys(coordinates["model"]))
    representations = list(dict.fromkeys(coordinates["representation"]))
    present = list(dict.fromkeys(coordinates["class"]))
    palette = class_colours(list(classes) if classes is not None else present)
    rows = {(row.model, row.representation): row for row in scores.itertuples()}
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
            ax.set_title(f"{model} — {representation}\n{_silhouette_text(rows[(model, representation)])}",
                         fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=palette[c], label=c) for c in present]
    handles.append(plt.Line2D([], [], marker="X", linestyle="", color=UNKNOWN_MARKER,
                              label="[UNK] in this model\n(cross in its class's colour)"))
    axes[0][-1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    return save_figure(fig, path)


def _grouped_bars(frame: pd.DataFrame, x: str, y: str, hue: str, published: set[str], adapted: set[str],
                  ax: plt.Axes) -> None:
    """Bars of ``y`` by ``x`` and ``hue`` with their values; hues in ``published`` pastel and hatched."""
    hues = list(dict.fromkeys(frame[hue]))
    sns.barplot(frame, x=x, y=y, hue=hue, hue_order=hues, palette=model_colours(hues, published, adapted),
                saturation=1, ax=ax)  # seaborn would dull the model's colour
    for container, name in zip(ax.containers, hues):
        ax.bar_label(container, fmt="%.1f", fontsize=7, padding=1)
        if name in published:
            for bar in container:
                bar.set_hatch("//")
    ax.legend(fontsize=8, loc="upper left", frameon=False)


def plot_topk(table: pd.DataFrame, path: Path) -> plt.Figure:
    """Accuracy@K per model as grouped bars with their values; published rows of the reference study hatched."""
    frame = table.assign(percent=table["accuracy"] * 100, K=table["k"].astype(str))
    fig, ax = plt.subplots(figsize=(2.0 + 1.6 * frame["K"].nunique(), 4.2))
    models = set(table["model"])
    _grouped_bars(frame, "K", "percent", "model", set(table.loc[table["source"] == "published", "model"]),
                  {name for name in models if name.startswith("adapted")}, ax)
    ax.set_ylim(0, 105)
    ax.set_ylabel("masked-token accuracy (%)")
    ax.set_xlabel("K (original token within the top K predictions)")
    return save_figure(fig, path)


def plot_downstream(table: pd.DataFrame, path: Path) -> plt.Figure:
    """Each task's main test metric (the first column of the task), one small panel per task, bars by model;
    published rows hatched. Panels wrap four to a row so the figure stays page-wide however many tasks run.

    The table's ``chance`` and ``majority`` rows (if any) are no bars but dashed lines across their task's panel, so
    a bar that does not clear them reads at once as no better than guessing."""
    baselines = {"chance": ("#555555", "--"), "majority": ("#b22222", (0, (2, 2)))}
    metrics = [column for column in table.columns if column not in ("role", "model")]
    first_of_task: dict[str, str] = {}
    for column in metrics:
        first_of_task.setdefault(column.split(" ")[0], column)
    levels = {role: table[table["role"] == role] for role in baselines}
    table = table[~table["role"].isin(list(baselines))].reset_index(drop=True)
    models = list(dict.fromkeys(table["model"]))
    published = set(table.loc[table["role"] == "published", "model"])
    colours = model_colours(models, published, set(table.loc[table["role"] == "selected", "model"]))
    columns = min(4, len(first_of_task))
    rows = math.ceil(len(first_of_task) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.1 * columns, 2.7 * rows + 0.6), squeeze=False, sharey=True)
    drawn: set[str] = set()
    for ax, (task, column) in zip(axes.flat, first_of_task.items()):
        scores = table[column].astype(float) * 100
        for position, (model, score) in enumerate(zip(table["model"], scores)):
            if math.isnan(score):
                continue
            bar = ax.bar(position, score, color=colours[model], hatch="//" if model in published else None)
            ax.bar_label(bar, fmt="%.1f", fontsize=7, padding=1)
        for role, (colour, style) in baselines.items():
            level = levels[role][column].astype(float)
            if not level.empty and not math.isnan(level.iloc[0]):
                ax.axhline(level.iloc[0] * 100, color=colour, linestyle=style, linewidth=1.2, zorder=3)
                drawn.add(role)
        ax.set(title=f"{task} ({column.split(' ', 1)[1]})", ylim=(0, 110), xticks=[])
        ax.title.set_fontsize(9)
    for ax in axes.flat[len(first_of_task):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("test score × 100")
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=colours[model], hatch="//" if model in published else None)
               for model in models]
    labels = [f"{model} (published)" if model in published else model for model in models]
    for role, (colour, style) in baselines.items():
        if role in drawn:
            handles.append(plt.Line2D([0], [0], color=colour, linestyle=style, linewidth=1.2))
            labels.append(f"{role} (test split)")
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.05 + 0.04 * math.ceil(len(labels) / 4), 1, 1))
    return save_figure(fig, path, tight=False)
