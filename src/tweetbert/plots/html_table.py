"""Tables as standalone HTML pages, the form a Snakemake report shows inside the page (a TSV is only a download).

Long tables sort by a click on a column head. A best value is bold only where it wins: a column whose shown values
are all equal (every model at the majority-class accuracy, a column of zeros) has no winner and nothing bold.
This is the one table writer: every stage writes its page with :func:`write_html_table` (or composes
several :func:`table_fragment` into one :func:`html_page`), and :func:`markdown_table` gives the same cells as Markdown.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

SORTABLE_FROM_ROWS = 12

_STYLE = ("body{font-family:sans-serif;margin:0.5em}table{border-collapse:collapse}"
          "th,td{border:1px solid #ccc;padding:3px 8px}td.num{text-align:right;font-variant-numeric:tabular-nums}"
          "th.sort{cursor:pointer}th.sort:after{content:' \\2195';color:#999}caption{text-align:left;"
          "font-weight:bold;padding-bottom:4px}p.note{max-width:60em;color:#333}")
# Sorts the clicked column, numerically where both cells parse as numbers; a second click reverses.
_SORT_SCRIPT = """<script>
document.querySelectorAll("th.sort").forEach(function (th, column) {
  th.addEventListener("click", function () {
    var body = th.closest("table").tBodies[0], up = th.dataset.up !== "1";
    th.dataset.up = up ? "1" : "0";
    var key = function (row) { var t = row.cells[column].innerText.trim(), n = parseFloat(t.replace(/,/g, ""));
                               return isNaN(n) ? t : n; };
    Array.from(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b), c = (typeof x === typeof y) ? (x < y ? -1 : x > y ? 1 : 0)
                                                              : (typeof x === "number" ? -1 : 1);
      return up ? c : -c;
    }).forEach(function (row) { body.appendChild(row); });
  });
});
</script>"""


def _shown(value: object, digits: int, whole: bool = False) -> str:
    """A cell's text. ``digits`` decimals suit scores between 0.01 and 1000; a smaller number (a learning rate of
    5e-4) shows in scientific notation rather than rounded to 0.001 or 0.000, a larger one (tokens/s) with
    thousands separators and one decimal, and a ``whole`` column's floats (epochs read back as 1.0) as integers."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and whole:
        return f"{value:,.0f}"
    if isinstance(value, float):
        if value and abs(value) < 10.0 ** (1 - digits):
            return f"{value:.{max(digits - 2, 1)}e}"
        if abs(value) >= 1000:
            return f"{value:,.1f}"
        return f"{value:.{digits}f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _whole(column: pd.Series) -> bool:
    """A float column of whole numbers (counts and epochs that went through a float), told from a score column at
    0.0 or 1.0 throughout by a value above 1."""
    values = pd.to_numeric(column, errors="coerce").dropna()
    return (pd.api.types.is_float_dtype(column) and bool((values == values.round()).all())
            and bool((values.abs() > 1).any()))


def winners(table: pd.DataFrame, column: str, digits: int, higher_is_better: bool = True,
            among: Sequence[bool] | None = None) -> set[int]:
    """Row positions holding the column's best shown value, or none when every shown value is the same; with
    ``among``, only the rows it marks compete (a chance baseline is a reference, not a contender)."""
    values = pd.to_numeric(table[column], errors="coerce").round(digits)
    if among is not None:
        values = values.where(pd.Series(list(among), index=values.index, dtype=bool))
    present = values.dropna()
    if present.nunique() < 2:
        return set()
    best = present.max() if higher_is_better else present.min()
    return {position for position, value in enumerate(values) if value == best}


Marks = Mapping[str, Sequence[str]]
"""Text appended to cells, by column, one entry per row (empty for none): e.g. " (≤ chance)"."""


def _cells(table: pd.DataFrame, digits: int, best_columns: Sequence[str], lower_is_better: Sequence[str],
           among: Sequence[bool] | None, marks: Marks) -> list[list[tuple[str, bool]]]:
    """Every row as (text, bold) cells, so the HTML page and its Markdown twin show the same text and winners."""
    bold = {column: winners(table, column, digits, column not in lower_is_better, among)
            for column in best_columns}
    whole = {column for column in table.columns
             if pd.api.types.is_numeric_dtype(table[column]) and _whole(table[column])}
    rows = []
    for position, record in enumerate(table.itertuples(index=False)):
        rows.append([(_shown(value, digits, column in whole) + (marks[column][position] if column in marks else ""),
                      position in bold.get(column, ()))
                     for column, value in zip(table.columns, record, strict=True)])
    return rows


def table_fragment(table: pd.DataFrame, *, title: str, note: str = "", digits: int = 3,
                   best_columns: Sequence[str] = (), lower_is_better: Sequence[str] = (),
                   among: Sequence[bool] | None = None, marks: Marks | None = None) -> str:
    """``table`` as a captioned ``<table>`` (and its note); ``best_columns`` get their winner (among the rows
    ``among`` marks) in bold, ``lower_is_better`` ones the lowest; ``marks`` append text to cells. Long tables get
    sortable heads (see :func:`html_page`)."""
    numeric = [pd.api.types.is_numeric_dtype(table[column]) for column in table.columns]
    head_class = ' class="sort"' if len(table) >= SORTABLE_FROM_ROWS else ""
    head = "".join(f"<th{head_class}>{html.escape(str(column))}</th>" for column in table.columns)
    rows = []
    for cells in _cells(table, digits, best_columns, lower_is_better, among, marks or {}):
        shown = []
        for (text, bold), is_number in zip(cells, numeric, strict=True):
            text = f"<b>{html.escape(text)}</b>" if bold else html.escape(text)
            shown.append(f'<td class="num">{text}</td>' if is_number else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(shown) + "</tr>")
    note_html = f'\n<p class="note">{html.escape(note)}</p>' if note else ""
    return (f"<table>\n<caption>{html.escape(title)}</caption>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
            + "\n".join(rows) + f"\n</tbody>\n</table>{note_html}")


def markdown_table(table: pd.DataFrame, *, digits: int = 3, best_columns: Sequence[str] = (),
                   lower_is_better: Sequence[str] = (), among: Sequence[bool] | None = None,
                   marks: Marks | None = None) -> str:
    """The Markdown twin of :func:`table_fragment` (READMEs, logs): the same cell text, winners in **bold**,
    number columns right-aligned."""
    header = [str(column).replace("|", "\\|") for column in table.columns]
    align = ["---:" if pd.api.types.is_numeric_dtype(table[column]) else "---" for column in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for cells in _cells(table, digits, best_columns, lower_is_better, among, marks or {}):
        lines.append("| " + " | ".join(f"**{text}**" if bold and text else text.replace("|", "\\|")
                                       for text, bold in cells) + " |")
    return "\n".join(lines) + "\n"


def html_page(title: str, body: str) -> str:
    """A standalone page around ``body``; the sorting script comes along where a table has sortable heads."""
    script = f"\n{_SORT_SCRIPT}" if 'class="sort"' in body else ""
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>\n{body}{script}\n</body></html>\n")


def html_table(table: pd.DataFrame, *, title: str, **options) -> str:
    """A page holding one table (options: those of :func:`table_fragment`)."""
    return html_page(title, table_fragment(table, title=title, **options))


def write_html_table(table: pd.DataFrame, path: str | Path, **options) -> Path:
    """Writes :func:`html_table` to ``path``: how every stage writes its table page for the report."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html_table(table, **options), encoding="utf-8")
    return path


def write_tsv_page(tsv: str | Path, path: str | Path, **options) -> Path:
    """The page of a TSV the stage has just written, read back so the page shows exactly the file a reader can
    download (options: those of :func:`table_fragment`, and ``title``)."""
    return write_html_table(pd.read_csv(tsv, sep="\t"), path, **options)
