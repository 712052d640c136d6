"""Downstream benchmarks: the selected model against the base model (and other controls) on SNS and JGLUE tasks.

Every number is a test score of the best trial of the model's sweep on that task (the same sweep machinery as the
selection). The reference study's published scores join as extra rows so a reader sees at once whether the
replication lands where the study did; the best value of each column is bold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tweetbert.analysis.selection import (
    PUBLISHED, REFERENCE_RESULTS, aggregate, html_with_bold, markdown_with_bold, split_notes, write_tsv,
)
from tweetbert.reference_results import reference_results
from tweetbert.settings import mirrors, setting

SELECTED = "selected"
CONTROL = "control"
TWEET_MODEL = "tweet model"
JAPANESE_BERT = "Japanese BERT"

PUBLISHED_DOWNSTREAM: dict[str, dict[str, dict[str, float]]] = {
    **{task: {"accuracy": {TWEET_MODEL: REFERENCE_RESULTS[task]["tweet model (dedup)"],
                           JAPANESE_BERT: REFERENCE_RESULTS[task]["Japanese BERT base"]}}
       for task in ("jts1k", "jtdd")},
    **reference_results()["downstream"],
}
"""Test scores of the reference study (tweet model vs Japanese BERT; BERT v3 on JGLUE), by task and metric. The
study's WRIME-emotion F1 does not say how it averages; it is shown under macro F1."""

SNS_TASKS = ("jts1k", "jtdd", "jtbr", "wrime_emotion", "wrime_sentiment")
JGLUE_TASKS = ("marc_ja", "jsts", "jcola", "jnli", "jsquad", "jcommonsenseqa")


@mirrors("downstream")
@dataclass(frozen=True)
class DownstreamSettings:
    tasks: list[str] = setting([])
    controls: list[str] | None = None  # None: the controls that are the base model (the workflow resolves them)


def _task_order(tasks: Sequence[str]) -> list[str]:
    """SNS tasks, then JGLUE, then any other task, each group in its published order."""
    known = [task for task in SNS_TASKS + JGLUE_TASKS if task in tasks]
    return known + [task for task in tasks if task not in known]


def _metrics(table: pd.DataFrame, task: str) -> list[str]:
    """The task's test metrics, main metric first."""
    from tweetbert.tasks.registry import TASKS

    rows = table[table["task"] == task]
    main = str(rows["main_metric"].iloc[0])
    names = TASKS[task].metrics if task in TASKS else (main,)
    present = [name for name in names if f"test_{name}" in table.columns and rows[f"test_{name}"].notna().any()]
    return [main] + [name for name in present if name != main] if main in present else present


def downstream_table(table: pd.DataFrame, selected: str, controls: Sequence[str], tasks: Sequence[str],
                     published: Mapping[str, Mapping[str, Mapping[str, float]]] | None = PUBLISHED_DOWNSTREAM
                     ) -> pd.DataFrame:
    """Rows: the selected model, each control, then the published models; columns ``<task> <metric>`` (test)."""
    missing = [(model, task) for model in [selected, *controls] for task in tasks
               if table[(table["model"] == model) & (table["task"] == task)].empty]
    if missing:
        raise ValueError(f"no sweep result for (model, task) {missing}")
    columns: dict[str, tuple[str, str]] = {}
    for task in _task_order(tasks):
        for metric in _metrics(table, task):
            columns[f"{task} {metric}"] = (task, metric)
    rows = []
    for role, model in [(SELECTED, selected), *((CONTROL, control) for control in controls)]:
        found = table[table["model"] == model].set_index("task")
        rows.append({"role": role, "model": model,
                     **{column: found.at[task, f"test_{metric}"] for column, (task, metric) in columns.items()}})
    labels = list(dict.fromkeys(label for task in tasks for by_metric in (published or {}).get(task, {}).values()
                                for label in by_metric))
    for label in labels:
        rows.append({"role": PUBLISHED, "model": label,
                     **{column: (published or {}).get(task, {}).get(metric, {}).get(label)
                        for column, (task, metric) in columns.items()}})
    result = pd.DataFrame(rows, columns=["role", "model", *columns])
    return result.astype({column: "float64" for column in columns})


DOWNSTREAM_OUTPUTS = {
    "table": "TSV of the benchmark table",
    "markdown": "the table as Markdown, best per column bold",
    "html": "the table as HTML, best per column bold",
    "plot": "PNG of the main metric by task",
}


def write_downstream(best_files: Sequence[Path], selected: str, controls: Sequence[str], tasks: Sequence[str],
                     paths: Mapping[str, Path]) -> dict[str, Path]:
    """The benchmark table (TSV, Markdown, HTML) and its plot at ``paths`` (:data:`DOWNSTREAM_OUTPUTS`)."""
    from tweetbert.plots.analysis import plot_downstream

    table = downstream_table(aggregate(best_files), selected, controls, tasks)
    paths = {name: Path(paths[name]) for name in DOWNSTREAM_OUTPUTS}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    write_tsv(table, paths["table"])
    paths["markdown"].write_text(markdown_with_bold(table), encoding="utf-8")
    paths["html"].write_text(html_with_bold(table, title="Downstream benchmarks", note=(
        f"Test scores. Selected: the candidate the sweeps chose ({selected}). Bold: best per column. "
        "Published rows: the reference study (Japanese BERT v3 on JGLUE; its WRIME-emotion F1 is shown under "
        f"macro F1). Splits: {split_notes(best_files, tasks)}")), encoding="utf-8")
    plot_downstream(table, paths["plot"])
    return paths
