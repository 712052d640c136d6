"""Figures of the tokenizer stage, drawn from the same tables that are written as TSV.

Characters are never drawn as glyphs (no CJK or emoji font is guaranteed on a cluster node): they are named by
family. Each function takes its table exactly as :mod:`tweetbert.tokenization` returns it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from tweetbert.plots import save_figure
from tweetbert.plots.palette import family_colours, tokenizer_colours


def plot_char_coverage(table: pd.DataFrame, coverage: float, path: Path) -> plt.Figure:
    """Cumulative share of occurrences by character rank, with the cut-off; and which families the cut keeps."""
    fig, (curve, families) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": (3, 2)})
    curve.plot(table["rank"], table["cumulative_share"] * 100, color="tab:blue")
    curve.set(xscale="log", xlabel="character rank (by tweets containing it)",
              ylabel="cumulative share of character occurrences (%)", title="Character coverage")
    curve.axhline(coverage * 100, color="grey", linestyle=":", linewidth=1)
    n_selected = int(table["selected"].sum())
    if n_selected:
        covered = float(table["cumulative_share"].iloc[n_selected - 1]) * 100
        curve.axvline(n_selected, color="tab:red", linestyle="--", linewidth=1)
        curve.annotate(f"{n_selected:,} characters cover {covered:.2f}%", xy=(n_selected, covered),
                       xytext=(-10, -40), textcoords="offset points", ha="right", color="tab:red",
                       arrowprops={"arrowstyle": "->", "color": "tab:red"})
    kept = table.assign(kept=table["selected"].map({True: "in alphabet", False: "below cut-off"}))
    order = kept["family"].value_counts().sort_index().sort_values(ascending=False, kind="stable").index.tolist()
    sns.countplot(data=kept, y="family", hue="kept", order=order, hue_order=["in alphabet", "below cut-off"],
                  ax=families)
    families.set(xscale="log", xlabel="distinct characters", ylabel="", title="Characters by family")
    families.legend(title=None)
    return save_figure(fig, path)


def plot_length_histogram(table: pd.DataFrame, max_length: int, coverage: float, path: Path) -> plt.Figure:
    """Tweets per length with the cumulative share on a twin axis and the chosen maximum length."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.bar(table["length"], table["tweets"], width=1.0, color="tab:blue", alpha=0.7, label="tweets")
    ax.set(xlabel="length in tokens (with [CLS] and [SEP])", ylabel="tweets", title="Tweet length")
    cumulative = ax.twinx()
    cumulative.plot(table["length"], table["cumulative_share"] * 100, color="tab:orange", label="cumulative %")
    cumulative.set(ylabel="cumulative share of tweets (%)", ylim=(0, 101))
    ax.axvline(max_length, color="tab:red", linestyle="--",
               label=f"max_seq_length = {max_length} ({coverage * 100:g}% of tweets)")
    handles = ax.get_legend_handles_labels()[0] + cumulative.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="center right")
    return save_figure(fig, path)


def plot_vocab_composition(composition: pd.DataFrame, path: Path) -> plt.Figure:
    """Share of each tokenizer's vocabulary by character family, stacked; families no tokenizer has are left out."""
    shares = composition.pivot(index="tokenizer", columns="family", values="share")
    shares = shares.loc[list(dict.fromkeys(composition["tokenizer"])), list(dict.fromkeys(composition["family"]))]
    shares = shares.loc[:, shares.sum() > 0] * 100
    fig, ax = plt.subplots(figsize=(10, max(3.6, 1.2 + 0.6 * len(shares))))  # room for the legend
    colours = family_colours(shares.columns)  # a family named like a probe class has that class's colour
    shares.plot(kind="barh", stacked=True, ax=ax, color=[colours[family] for family in shares.columns], width=0.7)
    ax.invert_yaxis()  # first tokenizer on top, as in the tables
    ax.set(xlabel="share of vocabulary entries (%)", ylabel="", xlim=(0, 100), title="Vocabulary composition")
    ax.legend(title="family", bbox_to_anchor=(1.01, 1), loc="upper left")
    return save_figure(fig, path)


def plot_overlap(summary: pd.DataFrame, base: str, path: Path) -> plt.Figure:
    """Overlap with the base vocabulary, unknown-token rate and tokens per word, one panel each."""
    panels = (("overlap_with_base", 100, f"vocabulary shared with {base} (%)", "{:.1f}"),
              ("unk_rate", 100, "[UNK] among tokens (%)", "{:.2f}"),
              ("tokens_per_word", 1, "tokens per MeCab word", "{:.3f}"))
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.5))
    colours = tokenizer_colours(summary["tokenizer"], base)
    for ax, (column, scale, label, fmt) in zip(axes, panels):
        values = summary[column] * scale
        bars = ax.bar(range(len(values)), values, color=[colours[name] for name in summary["tokenizer"]], width=0.7)
        ax.set_xticks(range(len(values)), list(summary["tokenizer"]))
        ax.bar_label(bars, labels=[fmt.format(v) for v in values], padding=2, fontsize=9)
        top = values.max()
        ax.set_ylim(0, (top if top > 0 else 1.0) * 1.15)  # headroom for the labels
        ax.set(xlabel="", ylabel=label)
    fig.suptitle("Tokenizers compared")
    return save_figure(fig, path)


def plot_length_distributions(lengths: pd.DataFrame, path: Path) -> plt.Figure:
    """Length distribution of the same tweets under each tokenizer, as histograms and cumulative curves."""
    order = list(dict.fromkeys(lengths["tokenizer"]))
    fig, (hist, ecdf) = plt.subplots(1, 2, figsize=(12, 4))
    sns.histplot(data=lengths, x="length", weights="tweets", hue="tokenizer", hue_order=order, discrete=True,
                 palette=tokenizer_colours(order),
                 element="step", fill=False, stat="percent", common_norm=False, ax=hist)
    hist.set(xlabel="length in tokens (with [CLS] and [SEP])", ylabel="tweets (%)", title="Tweet length")
    sns.ecdfplot(data=lengths, x="length", weights="tweets", hue="tokenizer", hue_order=order,
                 palette=tokenizer_colours(order), ax=ecdf)
    ecdf.set(xlabel="length in tokens (with [CLS] and [SEP])", ylabel="share of tweets at most this long",
             title="Cumulative distribution")
    return save_figure(fig, path)
