"""Which pre-training candidate to keep: every sweep's ``best.json`` in one table, a ranking on the dev split of the
target tasks, and the comparison with the controls (and the published numbers) that justifies the choice.

Only dev scores rank candidates: the test split is touched once, for the selected configurations, so test numbers
appear in the tables but never decide anything. Every main metric in the task registry is higher-is-better.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tweetbert.analysis.ties import base_context_note, base_vs_random, tie_record
from tweetbert.analysis.uncertainty import seed_fields
from tweetbert.errors import InputError
from tweetbert.modeling.candidates import Candidate
from tweetbert.reference_results import reference_results
from tweetbert.report_labels import CANDIDATE, CONTROL

PUBLISHED = "published"
PARAMETERS = "parameters"
"""Column of the control table: the encoder's parameter count (without the task head), e.g. 110.6M."""
_REQUIRED_KEYS = ("model", "task", "main_metric", "best_dev")


REFERENCE_RESULTS: dict[str, dict[str, float]] = reference_results()["target_tasks"]
"""Test accuracy (as a fraction) of the reference study, by task and model, for the report's published rows."""

# rule -> (score, secondary tie-break); both over the target tasks' dev values.
RULES: dict[str, tuple[Callable[[list[float]], float], Callable[[list[float]], float]]] = {
    "mean_dev": (lambda values: math.fsum(values) / len(values), min),
    "min_dev": (min, lambda values: math.fsum(values) / len(values)),
}
_TIE_DECIMALS = 12
"""Scores are compared rounded, so equal accuracies averaged in a different float order still tie."""


def _slug_fields(model: str) -> tuple[str, str | None, int | None]:
    try:
        candidate = Candidate.from_slug(model)
    except ValueError:
        return CONTROL, None, None
    return CANDIDATE, candidate.corpus, candidate.epochs


def _read_best(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(path, f"not valid JSON ({error.msg})", row=error.lineno) from error
    if not isinstance(record, dict):
        raise InputError(path, "expected a JSON object")
    for key in _REQUIRED_KEYS:
        if key not in record:
            raise InputError(path, "missing key", column=key)
    dev = record["best_dev"]
    if isinstance(dev, bool) or not isinstance(dev, (int, float)) or not math.isfinite(dev):
        raise InputError(path, f"must be a finite number, got {dev!r}", column="best_dev")
    test = record.get("test")
    if test is not None and not isinstance(test, dict):
        raise InputError(path, f"must be an object of metrics or null, got {test!r}", column="test")
    return record


def aggregate(best_files: Sequence[Path]) -> pd.DataFrame:
    """One row per (model, task) sweep, sorted by (model, task), with ``test_<metric>`` for every test metric seen."""
    rows: list[dict[str, Any]] = []
    source: dict[tuple[str, str], Path] = {}
    main_metric: dict[str, tuple[str, Path]] = {}
    for path in best_files:
        record = _read_best(path)
        model, task, metric = str(record["model"]), str(record["task"]), str(record["main_metric"])
        if (model, task) in source:
            raise InputError(path, f"a second result for model {model!r} on task {task!r} "
                                   f"(the first is {source[(model, task)]})")
        source[(model, task)] = Path(path)
        known = main_metric.setdefault(task, (metric, Path(path)))
        if known[0] != metric:
            raise InputError(path, f"main metric {metric!r} of task {task!r} differs from {known[0]!r} in {known[1]}",
                             column="main_metric")
        kind, corpus, epochs = _slug_fields(model)
        row = {"model": model, "task": task, "kind": kind, "corpus": corpus, "epochs": epochs, "main_metric": metric,
               "best_dev": float(record["best_dev"]), "n_trials": record.get("n_trials"),
               "parameters": record.get("parameters")}
        row.update({f"test_{name}": value for name, value in (record.get("test") or {}).items()})
        row.update(seed_fields(record, path))
        rows.append(row)
    base = ["model", "task", "kind", "corpus", "epochs", "main_metric", "best_dev", "n_trials", "parameters"]
    tests = sorted({key for row in rows for key in row if key.startswith("test_") and "seeds" not in key})
    seeds = [c for c in SEED_COLUMNS if any(c in row for row in rows)]
    table = pd.DataFrame(rows, columns=base + tests + seeds)
    table = table.astype({"epochs": "Int64", "n_trials": "Int64", "parameters": "Int64", "best_dev": "float64",
                          **{column: "float64" for column in tests + seeds if column != "seeds"},
                          **({"seeds": "Int64"} if seeds else {})})
    return table.sort_values(["model", "task"], kind="stable").reset_index(drop=True)


SEED_COLUMNS = ("seeds", "dev_seeds_mean", "dev_seeds_sd", "test_seeds_mean", "test_seeds_sd")
"""Aggregate columns of sweeps whose best configuration was fine-tuned with several seeds (selection.seeds)."""


def _dev_by_model(table: pd.DataFrame, models: Sequence[str], target_tasks: Sequence[str]) -> dict[str, list[float]]:
    """Each model's dev score per target task: the seeds' mean where there were seed runs, else the best trial's."""
    seeded = table["dev_seeds_mean"] if "dev_seeds_mean" in table else pd.Series(float("nan"), index=table.index)
    dev = {(model, task): (best if pd.isna(mean) else mean)
           for model, task, best, mean in zip(table["model"], table["task"], table["best_dev"], seeded)}
    values: dict[str, list[float]] = {}
    for model in models:
        for task in target_tasks:
            if (model, task) not in dev:
                raise ValueError(f"model {model!r} has no result for target task {task!r}")
        values[model] = [dev[(model, task)] for task in target_tasks]
    return values


def main_metric(table: pd.DataFrame, task: str) -> str:
    names = table.loc[table["task"] == task, "main_metric"]
    if names.empty:
        raise ValueError(f"no model has a result for target task {task!r}")
    return str(names.iloc[0])


def _check_targets(target_tasks: Sequence[str]) -> list[str]:
    tasks = [str(task) for task in target_tasks]
    if not tasks:
        raise ValueError("no target tasks to select a model on")
    if len(set(tasks)) != len(tasks):
        raise ValueError(f"target tasks repeat a task: {tasks}")
    return tasks


def _beats(values: Sequence[float], controls: Mapping[str, Sequence[float]]) -> bool:
    """Strictly better dev metric than every control on every target task (compared rounded, like ties)."""
    return all(round(value, _TIE_DECIMALS) > round(other[i], _TIE_DECIMALS)
               for other in controls.values() for i, value in enumerate(values))


def gate_note(selection: Mapping[str, Any]) -> str:
    """One sentence on the gate for tables, captions and logs; loud when the selected model fails it."""
    gate = selection["gate"]
    if not gate["require_beats"]:
        return "No gate: selection.require_beats is empty."
    controls = ", ".join(gate["require_beats"])
    tie = selection.get("tie", False)
    if gate["selected_passes"]:
        which = (f"the selected model ties {selection['runner_up']} for the top of them (see the tie note)" if tie
                 else "the selected model is the best of them")
        context = f" {base_context_note(selection.get('base_vs_random'))}" if "base" in gate["require_beats"] else ""
        return (f"Gate: {len(gate['passed'])} candidate(s) beat {controls} on every target task (dev); "
                f"{which}.{context}").rstrip()
    which = (f"one of the two top-scoring candidates (tied with {selection['runner_up']})" if tie
             else "the best-scoring candidate")
    return (f"NO CANDIDATE PASSES THE GATE: none beats {controls} on every target task (dev). "
            f"The selected model is {which} and does not pass the gate.")


def selection_note(selection: Mapping[str, Any]) -> str:
    """The gate sentence, then whether the selection is a tie (and by what criterion)."""
    return f"{gate_note(selection)} {selection.get('tie_note', '')}".rstrip()


def select_best(table: pd.DataFrame, target_tasks: Sequence[str], rule: str = "mean_dev",
                require_beats: Sequence[str] = (), *,
                examples: Mapping[tuple[str, str], int] | None = None) -> dict[str, Any]:
    """The candidate (never a control) with the highest score over the target tasks' dev values, with the ranking.

    The gate of the reference study comes first: only candidates that beat every control in ``require_beats`` on
    every target task's dev metric are eligible. When none does, the best-scoring candidate is still returned (the
    workflow finishes) with ``gate.selected_passes`` false, so every later output can say so.
    Ties go to the better secondary statistic (the minimum for ``mean_dev``), then to fewer pre-training epochs
    (cheaper to reproduce), then to slug order, so the choice never depends on file order.
    ``tie`` says whether the runner-up is within noise of the selected model on mean dev (criterion in
    :mod:`tweetbert.analysis.ties`; ``examples``, the dev split sizes by (model, task), give the noise), and
    ``base_vs_random`` compares the ``base`` and ``random`` controls where both have every target task.
    """
    if rule not in RULES:
        raise ValueError(f"unknown selection rule {rule!r} (known: {sorted(RULES)})")
    tasks = _check_targets(target_tasks)
    candidates = table[table["kind"] == CANDIDATE]
    if candidates.empty:
        raise ValueError("no candidate among the models; controls are never selected")
    controls = sorted(set(table.loc[table["kind"] == CONTROL, "model"]))
    for name in require_beats:
        if name not in controls:
            raise ValueError(f"selection.require_beats names {name!r}, which has no results among the controls "
                             f"({', '.join(controls) or 'none'})")
    gate_values = _dev_by_model(table, list(require_beats), tasks)
    epochs = dict(zip(candidates["model"], candidates["epochs"]))
    values = _dev_by_model(candidates, sorted(epochs), tasks)
    passes = {model: _beats(v, gate_values) for model, v in values.items()}
    score_of, secondary_of = RULES[rule]
    scored = {model: (score_of(v), secondary_of(v)) for model, v in values.items()}
    ranking = sorted(scored, key=lambda m: (not passes[m], -round(scored[m][0], _TIE_DECIMALS),
                                            -round(scored[m][1], _TIE_DECIMALS), int(epochs[m]), m))
    selection = {"model": ranking[0], "rule": rule, "score": scored[ranking[0]][0], "target_tasks": tasks,
                 "gate": {"require_beats": list(require_beats), "passed": [m for m in ranking if passes[m]],
                          "selected_passes": passes[ranking[0]]},
                 "ranking": [{"model": model, "score": scored[model][0], "passes_gate": passes[model]}
                             for model in ranking]}
    selection |= tie_record(ranking, passes, values, tasks, rule, epochs, examples)
    complete = [m for m in controls if set(tasks) <= set(table.loc[table["model"] == m, "task"])]
    selection["base_vs_random"] = base_vs_random(_dev_by_model(table, complete, tasks), tasks, examples)
    selection["gate"]["note"] = gate_note(selection)
    return selection


def control_table(table: pd.DataFrame, target_tasks: Sequence[str], published: Mapping[str, Mapping[str, float]] | None,
                  *, rule: str = "mean_dev", require_beats: Sequence[str] = ()) -> pd.DataFrame:
    """The selected candidate, the best candidate of each corpus, every control and (optionally) published results.

    Columns ``<task> dev <metric>`` / ``<task> test <metric>`` hold the main metric of each target task; a model
    without a result (or without a test score) leaves the cell empty. Published rows are test numbers, and only for
    target tasks that ``published`` covers.
    """
    tasks = _check_targets(target_tasks)
    selection = select_best(table, tasks, rule, require_beats)
    metric = {task: main_metric(table, task) for task in tasks}
    dev_columns = {task: f"{task} dev {metric[task]}" for task in tasks}
    test_columns = {task: f"{task} test {metric[task]}" for task in tasks}

    def measured(role: str, model: str) -> dict[str, Any]:
        counts = table.loc[table["model"] == model, "parameters"].dropna()
        row: dict[str, Any] = {"role": role, "model": model,
                               PARAMETERS: f"{counts.iloc[0] / 1e6:.1f}M" if len(counts) else None}
        for task in tasks:
            found = table[(table["model"] == model) & (table["task"] == task)]
            test_column = f"test_{metric[task]}"
            row[dev_columns[task]] = found["best_dev"].iloc[0] if len(found) else None
            row[test_columns[task]] = (found[test_column].iloc[0] if len(found) and test_column in found else None)
        return row

    selected_role = "selected" if selection["gate"]["selected_passes"] else "selected (FAILS GATE)"
    candidates = table[table["kind"] == CANDIDATE]
    best_of = {corpus: select_best(candidates[candidates["corpus"] == corpus], tasks, rule)["model"]
               for corpus in sorted(candidates["corpus"].unique())}
    # The selected model is also the best of its corpus: one row with both roles, not the same model twice.
    also = [f"best {corpus}" for corpus, model in best_of.items() if model == selection["model"]]
    rows = [measured(" · ".join([selected_role, *also]), selection["model"])]
    rows += [measured(f"best {corpus}", model) for corpus, model in best_of.items() if model != selection["model"]]
    for model in sorted(table.loc[table["kind"] == CONTROL, "model"].unique()):
        rows.append(measured(CONTROL, model))
    if published:
        covered = [task for task in tasks if task in published]
        labels = list(dict.fromkeys(label for task in covered for label in published[task]))
        for label in labels:
            row: dict[str, Any] = {"role": PUBLISHED, "model": label, PARAMETERS: None}
            for task in tasks:
                row[dev_columns[task]] = None
                row[test_columns[task]] = published[task].get(label) if task in covered else None
            rows.append(row)
    columns = ["role", "model", PARAMETERS] + [c for task in tasks for c in (dev_columns[task], test_columns[task])]
    result = pd.DataFrame(rows, columns=columns)
    return result.astype({column: "float64" for column in columns[3:]})


def split_notes(best_files: Sequence[Path], tasks: Sequence[str]) -> str:
    """Which data played validation, development and test for each task, from the ``splits`` of its best.json.

    Published datasets ship fewer than four splits (JGLUE: train/valid; WRIME: train/dev/test), so a table of
    numbers must say, per task, which published split or carved share each role used.
    """
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(map(Path, best_files)):
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("task") in tasks and record.get("splits"):
            found.setdefault(record["task"], record["splits"])
    return " ".join(
        f"{task}: " + "; ".join(f"{role} = {found[task][role]['source']}" for role in ("validation", "dev", "test"))
        + "." for task in tasks if task in found)


def write_tsv(table: pd.DataFrame, path: Path) -> None:
    table.to_csv(path, sep="\t", index=False, na_rep="", lineterminator="\n")
