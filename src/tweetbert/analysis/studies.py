"""How many trials each fine-tuning sweep finished, pruned and lost, from the sweeps' own ``trials.tsv`` files.

The selection reads only each study's best trial; this table says how much evidence stands behind it. A study
with many failed trials (workers killed for memory, a storage outage) or one still holding running trials (a
killed worker on a journal storage) is visible here without opening any storage. The counts come from
``trials.tsv`` (:func:`tweetbert.sweep.results.trials_table`, one row per trial with its state name), which every
sweep writes next to its ``best.json``: ``finetune/<model>/<task>/trials.tsv``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from tweetbert.errors import InputError
from tweetbert.plots.html_table import write_html_table

COUNT_COLUMNS = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}
"""Always shown: Optuna's state name -> the table's column. Complete + pruned are the sweep's *finished* trials,
the ones ``sweep.n_trials`` counts (:mod:`tweetbert.sweep.workers`)."""
SURPLUS = "SURPLUS"
"""A FAIL trial that gave up the last slot to another worker's (``surplus`` in trials.tsv): no crash, so it is
counted apart from ``failed``."""
RARE_COLUMNS = {SURPLUS: "surplus", "RUNNING": "running", "WAITING": "waiting"}
"""Shown only when some study has such trials (a sweep normally ends with none)."""
TRIAL_COUNT_OUTPUTS = {
    "table": "TSV: one row per model x task study with its trials by state",
    "html": "the same table as an HTML page for the report",
}


def study_of(path: Path) -> tuple[str, str]:
    """(model, task) of ``finetune/<model>/<task>/trials.tsv``: the sweep's own location names its study."""
    path = Path(path)
    if len(path.parts) < 3:
        raise InputError(path, "expected a sweep's finetune/<model>/<task>/trials.tsv")
    return path.parent.parent.name, path.parent.name


def count_states(path: Path) -> dict[str, int]:
    """Trials of one ``trials.tsv`` by state name, surplus trials (see :data:`SURPLUS`) apart from FAIL."""
    table = pd.read_csv(path, sep="\t", usecols=lambda column: column in ("state", "surplus"))
    if "state" not in table.columns:
        raise InputError(path, "no 'state' column: not a trials.tsv of a sweep", column="state")
    states = table["state"].astype(str)
    if "surplus" in table.columns:
        surplus = table["surplus"].astype(str).str.lower() == "true"
        states = states.mask(surplus & (states == "FAIL"), SURPLUS)
    return {state: int(count) for state, count in states.value_counts().items()}


def trial_counts(paths: Iterable[Path]) -> pd.DataFrame:
    """One row per study (sorted by task, then model): total trials, then complete/pruned/failed, and
    surplus/running/waiting when any study has some. A state Optuna adds later still counts in ``trials``."""
    rows = []
    for path in paths:
        model, task = study_of(path)
        counts = count_states(path)
        rows.append({"task": task, "model": model, "trials": sum(counts.values()),
                     **{column: counts.get(state, 0) for state, column in (COUNT_COLUMNS | RARE_COLUMNS).items()}})
    columns = ["task", "model", "trials", *COUNT_COLUMNS.values(), *RARE_COLUMNS.values()]
    table = pd.DataFrame(rows, columns=columns).sort_values(["task", "model"], ignore_index=True)
    rare = [column for column in RARE_COLUMNS.values() if not table[column].any()]
    return table.drop(columns=rare).astype({column: "int64" for column in columns[2:] if column not in rare})


def write_trial_counts(paths: Iterable[Path], outputs: dict[str, Path]) -> pd.DataFrame:
    """The counts as TSV and as the report's HTML page; returns the table."""
    table = trial_counts(paths)
    outputs["table"].parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(outputs["table"], sep="\t", index=False)
    note = ("complete: trained to the end, the trials the best is chosen from; pruned: stopped early by the pruner. "
            "Both are finished trials, which sweep.n_trials counts. failed: crashed, or lost with their worker "
            "(rerun, not counted); surplus: gave up the last slot to another worker; running: left by a killed "
            "worker.")
    write_html_table(table, outputs["html"], title="Trials of every sweep by state", note=note)
    return table
