"""Figures of the model selection: where the candidates land against the controls on the target tasks, and whether
longer pre-training paid off downstream."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from tweetbert.plots import save_figure
from tweetbert.plots.palette import HIGHLIGHT, corpus_colours
from tweetbert.report_labels import CANDIDATE, CONTROL


def _palette(table: pd.DataFrame) -> dict[str, Any]:
    """Each corpus's colour in every chart of the report (:mod:`tweetbert.plots.palette`)."""
    return corpus_colours(sorted(table.loc[table["kind"] == CANDIDATE, "corpus"].unique()))


def _dev_wide(table: pd.DataFrame, tasks: Sequence[str]) -> pd.DataFrame:
    wide = table.pivot(index="model", columns="task", values="best_dev").reindex(columns=list(tasks))
    kinds = table.drop_duplicates("model").set_index("model")[["kind", "corpus"]]
    return wide.join(kinds).dropna(subset=list(tasks)).reset_index()


def _metric_label(table: pd.DataFrame, task: str) -> str:
    return f"{task} dev {table.loc[table['task'] == task, 'main_metric'].iloc[0]}"


def plot_candidates(table: pd.DataFrame, selection: Mapping[str, Any], path: Path) -> plt.Figure:
    """Candidates by corpus against the labelled controls on the first two target tasks (a strip plot for one)."""
    tasks = list(selection["target_tasks"])[:2]
    wide = _dev_wide(table, tasks)
    wide["group"] = wide["corpus"].where(wide["kind"] == CANDIDATE, CONTROL)
    candidates = wide[wide["kind"] == CANDIDATE]
    controls = wide[wide["kind"] == CONTROL]
    palette = _palette(table)
    fig, ax = plt.subplots(figsize=(6.8, 4.8))
    if len(tasks) == 2:
        x, y = tasks
        sns.scatterplot(data=candidates, x=x, y=y, hue="corpus", palette=palette, alpha=0.7, ax=ax)
        ax.scatter(controls[x], controls[y], marker="X", s=80, color="black", label="control")
        for _, row in controls.iterrows():
            ax.annotate(row["model"], (row[x], row[y]), xytext=(4, 4), textcoords="offset points",
                        fontsize=8)
        chosen = wide[wide["model"] == selection["model"]]
        ax.scatter(chosen[x], chosen[y], s=220, facecolors="none", edgecolors=HIGHLIGHT, linewidths=2,
                   label="selected")
        ax.set_xlabel(_metric_label(table, x))
        ax.set_ylabel(_metric_label(table, y))
        ax.legend(fontsize=8)
    else:
        (task,) = tasks
        # spread each group evenly in slug order instead of random jitter: reproducible, and the ring fits its dot
        order = list(palette) + ([CONTROL] if not controls.empty else [])
        colours = {**palette, CONTROL: "black"}
        wide = wide.sort_values("model")
        groups = wide.groupby("group")["model"]
        wide["x"] = wide["group"].map(order.index) + ((groups.cumcount() + 0.5) / groups.transform("size") - 0.5) * 0.5
        for group in order:
            points = wide[wide["group"] == group]
            ax.scatter(points["x"], points[task], color=colours[group], alpha=0.8, s=25)
        for _, row in wide[wide["kind"] == CONTROL].iterrows():
            ax.annotate(row["model"], (row["x"], row[task]), xytext=(6, 0), textcoords="offset points", fontsize=8,
                        va="center")
        chosen = wide[wide["model"] == selection["model"]]
        ax.scatter(chosen["x"], chosen[task], s=220, facecolors="none", edgecolors=HIGHLIGHT, linewidths=2,
                   label="selected", zorder=3)
        ax.set_xticks(range(len(order)), order)
        ax.set_xlabel("corpus")
        ax.set_ylabel(_metric_label(table, task))
        ax.legend(fontsize=8)
    ax.set_title(f"Candidates vs controls (ringed: {selection['model']})", fontsize=9)
    return save_figure(fig, path)


def plot_dev_by_epochs(table: pd.DataFrame, target_tasks: Sequence[str], path: Path) -> plt.Figure:
    """Downstream dev metric against pre-training epochs, one panel per task (target tasks first), per corpus.

    Dots are all candidates; the line follows the best candidate at each epoch count.
    """
    candidates = table[table["kind"] == CANDIDATE].astype({"epochs": "int64"})
    tasks = [t for t in target_tasks if t in set(candidates["task"])]
    tasks += sorted(set(candidates["task"]) - set(tasks))
    palette = _palette(table)
    columns = min(3, len(tasks))
    rows = -(-len(tasks) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.6 * rows), squeeze=False)
    for ax, task in zip(axes.flat, tasks):
        data = candidates[candidates["task"] == task]
        best = data.groupby(["corpus", "epochs"], as_index=False)["best_dev"].max()
        sns.scatterplot(data=data, x="epochs", y="best_dev", hue="corpus", palette=palette, alpha=0.4, ax=ax,
                        legend=False)
        sns.lineplot(data=best, x="epochs", y="best_dev", hue="corpus", palette=palette, marker="D", ax=ax,
                     legend=ax is axes.flat[0])
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("pre-training epochs")
        ax.set_ylabel(_metric_label(table, task))
        ax.set_title(task + (" (target)" if task in target_tasks else ""))
    for ax in list(axes.flat)[len(tasks):]:
        ax.set_visible(False)
    return save_figure(fig, path)
