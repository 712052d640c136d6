"""Downstream benchmarks: the selected model against the base model (and other controls) on SNS and JGLUE tasks.

Every number is a test score of the best trial of the model's sweep on that task (the same sweep machinery as the
selection). The reference study's published scores join as extra rows so a reader sees at once whether the
replication lands where the study did; the best value of each column is bold. Each task's chance and majority
baselines (:mod:`tweetbert.analysis.baselines`, from the task's own test split) join as rows too, and a score at
or below the higher of them is marked, so a model that learnt nothing is not read as a weak result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from tweetbert.analysis.baselines import BASELINES, Baselines, floor
from tweetbert.analysis.bootstrap import bootstrap_tables, difference_text
from tweetbert.analysis.selection import (
    PUBLISHED,
    REFERENCE_RESULTS,
    aggregate,
    split_notes,
    write_tsv,
)
from tweetbert.plots.html_table import html_page, markdown_table, table_fragment
from tweetbert.reference_results import reference_results

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
                     published: Mapping[str, Mapping[str, Mapping[str, float]]] | None = PUBLISHED_DOWNSTREAM,
                     baselines: Mapping[str, Baselines] | None = None) -> pd.DataFrame:
    """Rows: the selected model, each control, the published models, then (given ``baselines``) the ``chance`` and
    ``majority`` rows; columns ``<task> <metric>`` (test)."""
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
    if baselines is not None:
        for kind in BASELINES:
            rows.append({"role": kind, "model": kind,
                         **{column: baselines.get(task, {}).get(kind, {}).get(metric)
                            for column, (task, metric) in columns.items()}})
    result = pd.DataFrame(rows, columns=["role", "model", *columns])
    return result.astype({column: "float64" for column in columns})


FLAG = "at_or_below_chance"
"""Suffix of the TSV's boolean column next to each score column."""
_TOLERANCE = 1e-9
"""A score equal to the floor up to float noise counts as at it."""


def at_or_below_chance(table: pd.DataFrame) -> pd.DataFrame:
    """Per score cell: whether it is at or below the higher of its column's chance and majority rows (NA for the
    baseline rows themselves, empty cells and columns without a baseline)."""
    scores = [column for column in table.columns if column not in ("role", "model")]
    is_baseline = table["role"].isin(BASELINES)
    flags = pd.DataFrame(index=table.index, columns=scores, dtype="boolean")
    for column in scores:
        values = {role: table.loc[table["role"] == role, column] for role in BASELINES}
        level = floor({role: {column: float(found.iloc[0])} for role, found in values.items() if not found.empty},
                      column)
        if level is None:
            continue
        defined = ~is_baseline & table[column].notna()
        flags.loc[defined, column] = table.loc[defined, column] <= level + _TOLERANCE
    return flags


def _markings(table: pd.DataFrame, digits: int) -> dict:
    """Table options shared by the page and its Markdown: bold is the best shown value among models (not
    baselines), only where the shown values differ; a score at or below chance carries "(≤ chance)"."""
    flags = at_or_below_chance(table)
    scores = [column for column in table.columns if column not in ("role", "model")]
    marks = {column: [" (≤ chance)" if not pd.isna(flag) and bool(flag) else "" for flag in flags[column]]
             for column in scores if column in flags.columns}
    return {"digits": digits, "best_columns": scores, "among": list(~table["role"].isin(BASELINES)), "marks": marks}


def downstream_markdown(table: pd.DataFrame, digits: int = 3) -> str:
    """A pipe table: best model score per column bold, scores at or below chance marked."""
    return markdown_table(table, **_markings(table, digits))


def downstream_html(table: pd.DataFrame, note: str, digits: int = 3, differences: pd.DataFrame | None = None,
                    resamples: int = 0) -> str:
    """A standalone HTML page of the table (Snakemake reports embed it as is), marked like the Markdown; with
    ``differences``, a second table of the selected model minus each control with 95 % intervals."""
    after = ""
    if differences is not None and not differences.empty:
        shown = pd.DataFrame({"task": differences["task"], "metric": differences["metric"],
                              "versus": differences["versus"], "test n": differences["n"],
                              "selected minus versus [95% CI]": [difference_text(row)
                                                                 for _, row in differences.iterrows()],
                              "verdict": differences["verdict"]})
        after = table_fragment(shown, title="Selected model minus each control, on test", note=(
            f"Paired bootstrap over the same test items ({resamples} resamples); 'within noise' when the "
            "interval contains 0."))
    title = "Downstream benchmarks"
    return html_page(title, table_fragment(table, title=title, note=note, **_markings(table, digits))
                     + (f"\n{after}" if after else ""))


DOWNSTREAM_OUTPUTS = {
    "table": "TSV of the benchmark table",
    "markdown": "the table as Markdown, best per column bold",
    "html": "the table as HTML, best per column bold",
    "plot": "PNG of the main metric by task",
    "differences": "TSV of the selected model minus each control per task and metric, with 95 % intervals",
}


def write_downstream(best_files: Sequence[Path], selected: str, controls: Sequence[str], tasks: Sequence[str],
                     paths: Mapping[str, Path], baselines: Mapping[str, Baselines] | None = None, *,
                     predictions: Sequence[Path] = (), resamples: int = 0, seed: int = 0) -> dict[str, Path]:
    """The benchmark table (TSV, Markdown, HTML) and its plot at ``paths`` (:data:`DOWNSTREAM_OUTPUTS`); with
    ``baselines`` (by task) the chance and majority rows, the markers and the TSV's ``<column> at_or_below_chance``
    columns; with ``predictions`` and ``resamples``, the paired differences between the selected model and each
    control."""
    from tweetbert.plots.analysis import plot_downstream

    table = downstream_table(aggregate(best_files), selected, controls, tasks, baselines=baselines)
    paths = {name: Path(paths[name]) for name in DOWNSTREAM_OUTPUTS}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    flagged = table
    if baselines is not None:
        flags = at_or_below_chance(table)
        flagged = pd.concat([table, flags.rename(columns=lambda column: f"{column} {FLAG}")], axis=1)
    write_tsv(flagged, paths["table"])
    differences = bootstrap_tables(list(predictions) if resamples else [], selected, controls, resamples=resamples,
                                   seed=seed)[1]
    write_tsv(differences, paths["differences"])
    paths["markdown"].write_text(downstream_markdown(table), encoding="utf-8")
    baseline_note = (" Chance and majority rows: each task's baselines from its own test split (chance: expected "
                     "score of uniform random guessing; majority: the most frequent test label, each label's "
                     "majority value, the train mean or the most frequent answer position for every example). "
                     "(≤ chance): at or below the higher of the two." if baselines is not None else "")
    paths["html"].write_text(downstream_html(table, note=(
        f"Test scores. Selected: the candidate the sweeps chose ({selected}). Bold: best per column. "
        "Published rows: the reference study (Japanese BERT v3 on JGLUE; its WRIME-emotion F1 is shown under "
        f"macro F1).{baseline_note} Splits: {split_notes(best_files, tasks)}"), differences=differences,
        resamples=resamples), encoding="utf-8")
    plot_downstream(table, paths["plot"])
    return paths
