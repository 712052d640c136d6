"""Figures of the corpus statistics, drawn from the same tables that are written as TSV.

Each function takes the table exactly as :mod:`tweetbert.corpus.stats` returns it, so a figure can be
redrawn from its TSV without recomputing anything.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from tweetbert.plots import save_figure
from tweetbert.plots.palette import CORPORA, corpus_colours


def plot_duplicates_by_activity(table: pd.DataFrame, path: Path) -> plt.Figure:
    """Duplicate ratio per user-activity segment; the tweet counts show how much each bar weighs."""
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.barplot(data=table, x="segment", y="duplicate_ratio", color=CORPORA["raw"], saturation=1,
                ax=ax)  # the raw corpus, in its own colour
    ax.bar_label(ax.containers[0], labels=[f"{n:,} tweets" for n in table["tweets"]], padding=2, fontsize=9)
    top = table["duplicate_ratio"].max()
    ax.set_ylim(0, (top if top > 0 else 1.0) * 1.15)  # headroom for the labels
    ax.set_xlabel("user activity (tweets per user in the raw corpus)")
    ax.set_ylabel("duplicate ratio")
    ax.set_title("Duplicates by user activity")
    return save_figure(fig, path)


def plot_user_contribution(table: pd.DataFrame, path: Path) -> plt.Figure:
    """Tweets-per-user distributions of the corpora: log-log histogram and the users' ECDF side by side."""
    order = list(dict.fromkeys(table["corpus"]))
    fig, (hist, ecdf) = plt.subplots(1, 2, figsize=(11, 4))
    sns.lineplot(data=table, x="tweets_per_user", y="users", hue="corpus", hue_order=order,
                 palette=corpus_colours(order), marker="o", markersize=4, ax=hist)
    hist.set(xscale="log", yscale="log", xlabel="tweets per user", ylabel="users",
             title="Users by number of tweets")
    sns.ecdfplot(data=table, x="tweets_per_user", weights="users", hue="corpus", hue_order=order,
                 palette=corpus_colours(order), log_scale=(True, False), ax=ecdf)
    ecdf.set(xlabel="tweets per user", ylabel="share of users with at most x tweets",
             title="Cumulative distribution of users")
    return save_figure(fig, path)


def plot_diversity(table: pd.DataFrame, path: Path) -> plt.Figure:
    """Entropy and distinct types per feature and corpus, on equal-size samples."""
    order = list(dict.fromkeys(table["corpus"]))
    size = ", ".join(f"{n:,}" for n in dict.fromkeys(table["sample_size"]))
    fig, (entropy, types) = plt.subplots(1, 2, figsize=(12, 4))
    sns.barplot(data=table, x="feature", y="entropy_bits", hue="corpus", hue_order=order,
                palette=corpus_colours(order), saturation=1, ax=entropy)
    entropy.set(xlabel="feature", ylabel="Shannon entropy (bits)", title="Entropy")
    sns.barplot(data=table, x="feature", y="types", hue="corpus", hue_order=order, palette=corpus_colours(order),
                saturation=1, ax=types)
    types.set(xlabel="feature", ylabel="distinct types", title="Distinct types")
    types.set_yscale("symlog", linthresh=1)  # log-like, yet a feature with no types still shows
    fig.suptitle(f"Diversity on equal-size samples ({size} tweets per corpus)")
    return save_figure(fig, path)
