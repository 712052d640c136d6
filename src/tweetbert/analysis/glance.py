"""The report's first page: the study's question answered at a glance.

Which candidate was selected, whether it passed the selection gate and whether the selection is a tie within
noise (with the base model against the random-init control, which says what "beats base" is worth); its test
scores on the target tasks next to the controls and the published numbers; the headline rows of the top-K probe
and of the downstream benchmark.
Every number here is read from a table another stage wrote; this page only chooses the rows a reader wants first.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from tweetbert.plots.html_table import html_page, table_fragment

HEADLINE_KS = (1, 10)
NEXT_STEPS = ("1. Corpus: how much deduplication and balancing removed, and the leakage-safe splits",
              "2. Tokenizer: the new vocabularies against the base model's, on tweets and on each task's text",
              "3. Pre-training: every candidate's validation loss",
              "4. Fine-tuning: every sweep, candidates vs controls, the selection",
              "5. Analysis: t-SNE probes, top-K accuracy, acceptability, the downstream benchmark")


def _test_columns(table: pd.DataFrame) -> list[str]:
    return [column for column in table.columns if " test " in f" {column} "]


def target_table(controls: pd.DataFrame) -> pd.DataFrame:
    """The selected model, the controls and the published rows, on the target tasks' test scores."""
    columns = _test_columns(controls)
    rows = controls[controls["role"].str.startswith("selected") | controls["role"].isin(["control", "published"])]
    labels = [column for column in ("role", "model", "parameters") if column in rows.columns]
    return rows[[*labels, *columns]].reset_index(drop=True)


def topk_table(topk: pd.DataFrame) -> pd.DataFrame:
    """Accuracy at the headline Ks by model (measured first, then published), as percentages."""
    kept = topk[topk["k"].isin(HEADLINE_KS)]
    wide = kept.pivot_table(index=["source", "model"], columns="k", values="accuracy", sort=False) * 100
    wide.columns = [f"top-{k} %" for k in wide.columns]
    return wide.reset_index()


def downstream_headline(downstream: pd.DataFrame) -> pd.DataFrame:
    """Each task's main test metric (its first column) for the selected model, the controls and published rows."""
    first_of_task: dict[str, str] = {}
    for column in downstream.columns[2:]:
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


def glance_page(selection: Mapping[str, Any], controls: pd.DataFrame, topk: pd.DataFrame | None,
                downstream: pd.DataFrame | None) -> str:
    target = target_table(controls)
    sections = [f"<h2>{html.escape(_gate_sentence(selection))}</h2>", _tie_paragraph(selection),
                table_fragment(target, title="Target tasks: test scores (fractions; bold: best per column)",
                               best_columns=[c for c in target.columns if c not in ("role", "model")],
                               note="Published: the reference study's test scores on these tasks."
                               if (target["role"] == "published").any() else "")]
    if topk is not None:
        shown = topk_table(topk)
        sections.append(table_fragment(shown, title="Top-K masked-token accuracy on held-out text", digits=1,
                                       best_columns=[c for c in shown.columns if c.startswith("top-")]))
    if downstream is not None:
        shown = downstream_headline(downstream)
        sections.append(table_fragment(
            shown, title="Downstream benchmark: each task's main test metric",
            best_columns=[c for c in shown.columns if c not in ("role", "model")]))
    steps = "".join(f"<li>{html.escape(step)}</li>" for step in NEXT_STEPS)
    sections.append(f"<p>Where the details are, by category of this report:</p><ul>{steps}</ul>")
    return html_page("Results at a glance", "\n".join(sections))


def write_glance(selection: Path, controls: Path, topk: Path | None, downstream: Path | None, out: Path) -> None:
    import json

    def table(path: Path | None) -> pd.DataFrame | None:
        return None if path is None else pd.read_csv(path, sep="\t")  # stages' own outputs

    page = glance_page(json.loads(Path(selection).read_text(encoding="utf-8")), table(controls), table(topk),
                       table(downstream))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(page, encoding="utf-8")
