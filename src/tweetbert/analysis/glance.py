"""The report's first page: the study's question answered at a glance.

Which candidate was selected, whether it passed the selection gate and whether the selection is a tie within
noise (with the base model against the random-init control, which says what "beats base" is worth); its gain over
each control on the target tasks with paired-bootstrap intervals and test sizes; its test scores next to the
controls and the published numbers; any score at or below chance; the headline rows of the top-K probe and of the
downstream benchmark.
Every number here is read from a table another stage wrote; this page only chooses the rows a reader wants first.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from tweetbert.analysis.bootstrap import difference_text
from tweetbert.analysis.downstream import FLAG
from tweetbert.analysis.uncertainty import LOW, SIZE, alias_key, interval_cell, model_aliases, seeds_cell
from tweetbert.plots.html_table import html_page, table_fragment

HEADLINE_KS = (1, 10)
NEXT_STEPS = (("1. Corpus", ("how much deduplication and balancing removed, benchmark contamination, the "
                             "leakage-safe splits"), "corpus/stats/summary.html"),
              ("2. Tokenizer", "the new vocabularies against the base model's, on tweets and on each task's text",
               "tokenizer/task_vocabulary.html"),
              ("3. Pre-training", "every candidate's validation loss and loss curves", "pretrain/loss_curves.png"),
              ("4. Fine-tuning", "every sweep, candidates vs controls with intervals, the selection",
               "selection/controls.html"),
              ("5. Analysis", "t-SNE probes, top-K accuracy, acceptability, the downstream benchmark",
               "analysis/downstream/downstream.html"))
"""Report category, what it holds, and a page of it relative to this page (the run's results folder)."""
DETAILS_MARKER = "<!-- where the details are -->"
"""Where the report's landing page stops copying this page (workflow/report/workflow.rst): the links after it lead to
files beside this page, which the report does not hold."""
DEMO_NOTE = ("Demo run: its corpus, base model and tasks are generated stand-ins, so these numbers say the workflow "
             "ran end to end; they are not comparable with the published ones.")


def _test_columns(table: pd.DataFrame) -> list[str]:
    """Each target task's main test score column (not its bounds, size or seed columns)."""
    return [column for column in table.columns if " test " in f" {column} "
            and not column.endswith((f" {LOW}", " 95% high", f" {SIZE}"))]


def aliases_of(controls: pd.DataFrame) -> dict[str, str]:
    """The selection's short model names (its ``alias`` column), so this page names models as the tables do."""
    if "alias" in controls:
        return dict(zip(controls["model"], controls["alias"].fillna(controls["model"]), strict=True))
    return model_aliases(list(controls["model"]))


def target_table(controls: pd.DataFrame) -> pd.DataFrame:
    """The selected model, the controls and the published rows, on the target tasks' test scores, each with its
    95 % interval and (with seed runs) the seeds' mean ± sd."""
    columns = _test_columns(controls)
    rows = controls[controls["role"].str.startswith("selected") | controls["role"].isin(["control", "published"])]
    aliases = aliases_of(controls)
    shown = pd.DataFrame({"role": rows["role"], "model": [aliases[m] for m in rows["model"]]})
    for column in columns:
        shown[column] = rows[column]
        if f"{column} {LOW}" in rows and rows[f"{column} {LOW}"].notna().any():
            size = rows[f"{column} {SIZE}"].dropna()
            head = f"95% CI, n={int(size.iloc[0])}" if len(size) else "95% CI"
            shown[f"{column.split(' ')[0]} {head}"] = [interval_cell(row, column) for _, row in rows.iterrows()]
        task = column.split(" ")[0]
        if f"{task} seeds mean" in rows and rows[f"{task} seeds mean"].notna().any():
            shown[f"{task} test over seeds"] = [seeds_cell(row, task) for _, row in rows.iterrows()]
    return shown.reset_index(drop=True)


def gains_table(differences: pd.DataFrame, main_metrics: Mapping[str, str],
                aliases: Mapping[str, str]) -> pd.DataFrame:
    """The selected model minus each control on each target task's main test metric, with interval and verdict."""
    rows = differences[[main_metrics.get(task) == metric
                        for task, metric in zip(differences["task"], differences["metric"], strict=True)]]
    return pd.DataFrame({"task": rows["task"], "metric": rows["metric"],
                         "versus": [aliases.get(m, m) for m in rows["versus"]], "test n": rows["n"],
                         "selected minus versus [95% CI]": [difference_text(row) for _, row in rows.iterrows()],
                         "verdict": rows["verdict"]}).reset_index(drop=True)


def chance_flags(downstream: pd.DataFrame) -> list[str]:
    """"model: column" for each measured score at or below its task's chance or majority level."""
    flagged = []
    for column in [c for c in downstream.columns if c.endswith(f" {FLAG}")]:
        score = column.removesuffix(f" {FLAG}")
        marked = downstream[downstream[column].astype("boolean").fillna(False)]
        flagged += [f"{model}: {score} {value:.3f}" for model, value in zip(marked["model"], marked[score])]
    return flagged


def topk_table(topk: pd.DataFrame) -> pd.DataFrame:
    """Accuracy at the headline Ks by model (measured first, then published), as percentages."""
    kept = topk[topk["k"].isin(HEADLINE_KS)]
    wide = kept.pivot_table(index=["source", "model"], columns="k", values="accuracy", sort=False) * 100
    wide.columns = [f"top-{k} %" for k in wide.columns]
    return wide.reset_index()


def downstream_headline(downstream: pd.DataFrame) -> pd.DataFrame:
    """Each task's main test metric (its first column) for the selected model, the controls and published rows."""
    first_of_task: dict[str, str] = {}
    for column in [c for c in downstream.columns[2:] if not c.endswith(f" {FLAG}")]:
        first_of_task.setdefault(column.split(" ")[0], column)
    return downstream[["role", "model", *first_of_task.values()]]


def _gate_sentence(selection: Mapping[str, Any]) -> str:
    gate, tie = selection["gate"], selection.get("tie", False)
    failed = ("a top scorer of those that failed, tied within noise with the runner-up" if tie
              else "the best of those that failed")
    verdict = ("passes the selection gate" if gate["selected_passes"]
               else f"does NOT pass the selection gate: no candidate did, so it is {failed}")
    return f"Selected candidate: {selection['model']} — it {verdict}. {gate['note']}"


def _tie_paragraph(selection: Mapping[str, Any]) -> str:
    """best_model.json's tie sentence (the selection is a tie, or by how much it is not); empty for older records."""
    note = selection.get("tie_note")
    return f"<p><b>{html.escape(note)}</b></p>" if note and selection.get("tie") else (
        f"<p>{html.escape(note)}</p>" if note else "")


def _main_metrics(controls: pd.DataFrame) -> dict[str, str]:
    return {column.split(" ")[0]: column.split(" ")[2] for column in _test_columns(controls)}


def glance_page(selection: Mapping[str, Any], controls: pd.DataFrame, topk: pd.DataFrame | None,
                downstream: pd.DataFrame | None, differences: pd.DataFrame | None = None, *,
                demo: bool = False) -> str:
    target = target_table(controls)
    sections = [f"<h2>{html.escape(_gate_sentence(selection))}</h2>", _tie_paragraph(selection)]
    if demo:
        sections.append(f"<p><b>{html.escape(DEMO_NOTE)}</b></p>")
    if differences is not None and not differences.empty:
        sections.append(table_fragment(
            gains_table(differences, _main_metrics(controls), aliases_of(controls)),
            title="Gain of the selected model over each control on the target tasks (test)",
            note="Paired bootstrap over the same test items: 'within noise' when the 95 % interval contains 0."))
    flags = chance_flags(downstream) if downstream is not None else []
    if flags:
        sections.append(f"<p><b>At or below chance:</b> {html.escape('; '.join(flags))}.</p>")
    scores = [c for c in target.columns if c not in ("role", "model") and " test " in f" {c} "
              and "CI" not in c and "seeds" not in c]
    published = "Published: the reference study's test scores on these tasks. " if (
        target["role"] == "published").any() else ""
    sections.append(table_fragment(target, title="Target tasks: test scores (fractions; bold: best per column)",
                                   best_columns=scores, note=f"{published}{alias_key(aliases_of(controls))}".strip()))
    if topk is not None:
        shown = topk_table(topk)
        sections.append(table_fragment(shown, title="Top-K masked-token accuracy on held-out text", digits=1,
                                       best_columns=[c for c in shown.columns if c.startswith("top-")]))
    if downstream is not None:
        shown = downstream_headline(downstream)
        sections.append(table_fragment(
            shown, title="Downstream benchmark: each task's main test metric",
            best_columns=[c for c in shown.columns if c not in ("role", "model")]))
    steps = "".join(f'<li><a href="{html.escape(page)}">{html.escape(category)}</a>: {html.escape(what)}</li>'
                    for category, what, page in NEXT_STEPS)
    sections.append(f"{DETAILS_MARKER}<p>Where the details are, by category of this report (the links open the pages "
                    f"beside this one in the run's results folder):</p><ul>{steps}</ul>")
    return html_page("Results at a glance", "\n".join(sections))


def write_glance(selection: Path, controls: Path, topk: Path | None, downstream: Path | None, out: Path, *,
                 differences: Path | None = None, demo: bool = False) -> None:
    import json

    def table(path: Path | None) -> pd.DataFrame | None:
        return None if path is None else pd.read_csv(path, sep="\t")  # stages' own outputs

    page = glance_page(json.loads(Path(selection).read_text(encoding="utf-8")), table(controls), table(topk),
                       table(downstream), table(differences), demo=demo)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(page, encoding="utf-8")
