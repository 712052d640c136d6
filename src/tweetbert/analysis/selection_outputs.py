"""The selection step's files: the aggregate, the record of the choice, the comparison with the controls with its
intervals and seeds, the paired differences, and the candidates' plots.

Every number comes from :mod:`tweetbert.analysis.selection` (the ranking) and :mod:`tweetbert.analysis.bootstrap`
(the intervals); this module only decides what each file holds and how a page shows it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from tweetbert.analysis.bootstrap import bootstrap_tables, difference_text
from tweetbert.analysis.selection import (
    REFERENCE_RESULTS,
    aggregate,
    control_table,
    main_metric,
    select_best,
    selection_note,
    split_notes,
    write_tsv,
)
from tweetbert.analysis.ties import dev_examples
from tweetbert.analysis.uncertainty import alias_key, model_aliases, seeds_table, shown_controls, with_uncertainty
from tweetbert.plots.html_table import html_page, markdown_table, table_fragment, write_tsv_page

SELECTION_OUTPUTS = {
    "aggregate": "TSV of every sweep's best trial",
    "aggregate_html": "the same table as an HTML page for the report",
    "best_model": "JSON record of the selection: model, gate, ranking, tie and base vs random-init",
    "controls": "TSV of the candidates vs the controls (and the published results), with test sizes, 95 % bounds "
                "and the seeds' spread",
    "controls_html": "the same table as HTML, best per column bold, intervals and seeds as cells",
    "intervals": "TSV of every model's test metrics on the target tasks with paired-bootstrap 95 % intervals",
    "differences": "TSV of the selected model minus each control and each corpus's best, with 95 % intervals",
    "differences_html": "the same differences as HTML",
    "controls_markdown": "the same table as Markdown",
    "candidates_scatter": "PNG scatter of the candidates' dev metrics",
    "epochs": "PNG of the dev metric by pre-training epochs",
}


def difference_page(differences: pd.DataFrame, aliases: Mapping[str, str], *, resamples: int) -> str:
    """The differences as a page: one row per (task, metric, other model), the gap with its interval and verdict."""
    shown = pd.DataFrame({"task": differences["task"], "metric": differences["metric"],
                          "selected": [aliases.get(m, m) for m in differences["model"]],
                          "versus": [aliases.get(m, m) for m in differences["versus"]],
                          "test n": differences["n"],
                          "difference [95% CI]": [difference_text(row) for _, row in differences.iterrows()],
                          "verdict": differences["verdict"]})
    note = (f"Paired bootstrap over the same test items ({resamples} resamples): the selected model's score minus "
            f"the other's; 'within noise' when the interval contains 0. {alias_key(aliases)}").strip()
    return html_page("Selected model minus each control",
                     table_fragment(shown, title="Selected model minus each control, on test", note=note))


def write_selection(best_files: Sequence[Path], target_tasks: Sequence[str], paths: Mapping[str, Path], *,
                    predictions: Sequence[Path] = (), rule: str = "mean_dev", require_beats: Sequence[str] = (),
                    resamples: int = 1000, seed: int = 0,
                    published: Mapping[str, Mapping[str, float]] | None = REFERENCE_RESULTS) -> dict[str, Path]:
    """Every artefact of the selection step, at ``paths`` (one per name of :data:`SELECTION_OUTPUTS`); returns them.

    ``predictions`` are the sweeps' per-example test outputs behind the intervals (``resamples`` 0: none)."""
    from tweetbert.plots.selection import plot_candidates, plot_dev_by_epochs  # matplotlib only when plotting

    paths = {name: Path(paths[name]) for name in SELECTION_OUTPUTS}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    table = aggregate(best_files)
    selection = select_best(table, target_tasks, rule, require_beats, examples=dev_examples(best_files))
    controls = control_table(table, target_tasks, published, rule=rule, require_beats=require_beats)
    measured = [m for m in dict.fromkeys(controls["model"]) if m in set(table["model"])]
    intervals, differences = bootstrap_tables(list(predictions) if resamples else [], selection["model"],
                                              [m for m in measured if m != selection["model"]],
                                              resamples=resamples, seed=seed)
    metric = {task: main_metric(table, task) for task in selection["target_tasks"]}
    controls = with_uncertainty(controls, intervals, seeds_table(table), metric)
    # Numbered over every candidate, so an alias names one candidate on every page of the run.
    everyone = model_aliases(list(table["model"]))
    aliases = {model: everyone.get(model, model) for model in controls["model"]}
    controls["alias"] = [aliases[model] for model in controls["model"]]
    write_tsv(table, paths["aggregate"])
    write_tsv_page(paths["aggregate"], paths["aggregate_html"], title="Every sweep: best development and test scores")
    paths["best_model"].write_text(json.dumps(selection, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_tsv(controls, paths["controls"])
    write_tsv(intervals, paths["intervals"])
    write_tsv(differences, paths["differences"])
    paths["differences_html"].write_text(difference_page(differences, aliases, resamples=resamples),
                                         encoding="utf-8")
    uncertainty = (f"95% CI: paired bootstrap over the test items ({resamples} resamples); over seeds: the best "
                   "configuration fine-tuned again with other seeds, mean ± sd of its test score." if resamples else "")
    note = (f"{selection_note(selection)} Dev: the development score of each sweep's best trial, on the model its "
            f"training ended with; test: that same model, scored once. {uncertainty} Bold: best per column. "
            f"Published rows are test scores of the reference study. "
            f"{split_notes(best_files, selection['target_tasks'])} {alias_key(aliases)}").strip()
    shown = shown_controls(controls, metric, aliases)
    scores = [c for task in metric for c in (f"{task} dev {metric[task]}", f"{task} test {metric[task]}")]
    paths["controls_html"].write_text(html_page("Selected model vs controls", table_fragment(
        shown, title="Selected model vs controls", note=note, best_columns=scores)), encoding="utf-8")
    plain = controls[[*controls.columns[:3], *scores]]
    paths["controls_markdown"].write_text(
        f"{selection_note(selection)}\n\n{markdown_table(plain, best_columns=scores)}", encoding="utf-8")
    plot_candidates(table, selection, paths["candidates_scatter"])
    plot_dev_by_epochs(table, selection["target_tasks"], paths["epochs"])
    return paths
