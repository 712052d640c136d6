"""The tokenizers' unknown rate and word splitting on each task's text, side by side per task."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from tweetbert.plots import save_figure
from tweetbert.plots.palette import tokenizer_colours


def plot_task_vocabulary(table: pd.DataFrame, path: Path) -> plt.Figure:
    """Two panels over the tasks: [UNK] share of tokens, and share of words split into several pieces."""
    tasks = list(dict.fromkeys(table["task"]))
    palette = tokenizer_colours(table["tokenizer"])  # the base tokenizer blue, each corpus's in its corpus's colour
    shown = table.assign(unk_percent=table["unk_rate"] * 100, split_percent=table["words_split"] * 100)
    fig, (unk, split) = plt.subplots(1, 2, figsize=(12, max(3.0, 0.45 * len(tasks) + 1.5)), sharey=True)
    for ax, column, label in ((unk, "unk_percent", "[UNK] share of tokens (%)"),
                              (split, "split_percent", "words split into several tokens (%)")):
        sns.barplot(data=shown, y="task", x=column, hue="tokenizer", order=tasks, hue_order=list(palette),
                    palette=palette, saturation=1, ax=ax)
        ax.set(xlabel=label, ylabel="")
        ax.legend(title=None, loc="lower right")
    unk.set_title("Unknown tokens on each task's text")
    split.set_title("Word splitting on each task's text")
    return save_figure(fig, path)
