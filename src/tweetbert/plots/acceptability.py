"""Figures of the acceptability annotation: acceptability by rank K against the reference study, and each
annotator's labels."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from tweetbert.plots import save_figure
from tweetbert.plots.palette import ADAPTED, PUBLISHED_SHADE
from tweetbert.report_labels import ACCEPTABLE, MEAN, NOT_ACCEPTABLE

PUBLISHED_LABEL = "published (reference study)"
_WIDTH = 0.38


def plot_acceptability_by_k(by_k: pd.DataFrame, published: Mapping[int, float] | None, path: Path, *,
                            kappa: float | None = None, published_kappa: float | None = None) -> plt.Figure:
    """Bars of the mean acceptability (%) per K, the value on each bar, each annotator as a dot on our bar, and the
    published values beside ours for the K the reference study has. The title gives the annotators' agreement
    (mean Cohen's kappa; the study's beside it), without which the means cannot be weighed."""
    adapted, published_shade = ADAPTED, PUBLISHED_SHADE[ADAPTED]  # one model, one colour
    mean = by_k[by_k["annotator"] == MEAN].sort_values("k")
    annotators = by_k[by_k["annotator"] != MEAN]
    n_annotators = annotators["annotator"].nunique()
    ks = [int(k) for k in mean["k"]]
    published = {int(k): float(v) for k, v in (published or {}).items() if int(k) in ks}
    offset = _WIDTH / 2 if published else 0.0
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(ks) + 2.0), 4.6))
    x_ours = {k: i - offset for i, k in enumerate(ks)}
    ax.bar(list(x_ours.values()), mean["acceptability"] * 100, width=_WIDTH, color=adapted,
           label=f"this study (mean of {n_annotators} annotator{'s' * (n_annotators > 1)})")
    if n_annotators > 1:
        ax.scatter(annotators["k"].map(x_ours), annotators["acceptability"] * 100, color="black", s=12, zorder=3,
                   label="each annotator")
    # our value goes above the highest annotator's dot, so the two never overlap
    tops = by_k.groupby("k")["acceptability"].max() * 100
    for k, value in zip(ks, mean["acceptability"] * 100):
        ax.text(x_ours[k], tops[k] + 1.5, f"{value:.1f}%", ha="center", va="bottom", fontsize=8)
    if published:
        positions = [ks.index(k) + offset for k in sorted(published)]
        values = [published[k] * 100 for k in sorted(published)]
        theirs = ax.bar(positions, values, width=_WIDTH, color=published_shade, label=PUBLISHED_LABEL)
        ax.bar_label(theirs, labels=[f"{v:.1f}%" for v in values], fontsize=8, padding=2)
    ax.set_xticks(range(len(ks)), [str(k) for k in ks])
    ax.set_xlabel("rank K of the replacement")
    ax.set_ylabel("acceptable (%)")
    ax.set_ylim(0, 112)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=1, frameon=False)
    agreement = "Cohen's kappa: undefined (fewer than two annotators, or one label only)" if kappa is None \
        else f"Cohen's kappa {kappa:.2f} (mean over annotator pairs)"
    if published_kappa is not None:
        agreement += f"; reference study {published_kappa:.2f}"
    ax.set_title(f"Acceptability of the rank-K prediction in place of the masked word\n{agreement}", fontsize=9)
    return save_figure(fig, path)


def plot_annotators(labels: pd.DataFrame, path: Path) -> plt.Figure:
    """One panel per annotator: per K, the count of acceptable (bottom) and not acceptable (top) labels."""
    annotators = sorted(labels["annotator"].unique())
    ks = sorted(int(k) for k in labels["k"].unique())
    colours = sns.color_palette("tab10", 4)
    columns = min(4, len(annotators))
    rows = -(-len(annotators) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(max(3.6, 0.7 * len(ks) + 1.8) * columns, 3.4 * rows),
                             squeeze=False, sharey=True)
    for ax, annotator in zip(axes.flat, annotators):
        counts = (labels[labels["annotator"] == annotator].groupby(["k", "label"]).size()
                  .unstack(fill_value=0).reindex(index=ks, columns=[ACCEPTABLE, NOT_ACCEPTABLE], fill_value=0))
        x = range(len(ks))
        bottom = ax.bar(x, counts[ACCEPTABLE], color=colours[2], label="acceptable (1)")
        top = ax.bar(x, counts[NOT_ACCEPTABLE], bottom=counts[ACCEPTABLE], color=colours[3],
                     label="not acceptable (0)")
        for bars, values in ((bottom, counts[ACCEPTABLE]), (top, counts[NOT_ACCEPTABLE])):
            ax.bar_label(bars, labels=[str(v) if v else "" for v in values], label_type="center", fontsize=8,
                         color="white")
        total = counts.to_numpy().sum()
        share = counts[ACCEPTABLE].sum() / total if total else 0.0
        ax.set_xticks(list(x), [str(k) for k in ks])
        ax.set_xlabel("rank K")
        ax.set_title(f"{annotator}: {share:.0%} acceptable", fontsize=9)
    for ax in axes[:, 0]:
        ax.set_ylabel("labels")
    highest = labels.groupby(["annotator", "k"]).size().max()
    axes.flat[0].set_ylim(0, highest * 1.2)  # room for the legend above the bars (the y axis is shared)
    axes.flat[0].legend(fontsize=8, loc="upper center", ncol=2)
    for ax in list(axes.flat)[len(annotators):]:
        ax.set_visible(False)
    return save_figure(fig, path)
