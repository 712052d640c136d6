"""Report tables as HTML pages: every cell shown, long tables sortable, bold only for a real winner."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd

from tweetbert.plots.html_table import SORTABLE_FROM_ROWS, html_table, winners


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.bold: list[str] = []
        self._in_bold = False
        self._in_cell = False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")
            self._in_cell = True
        elif tag == "b":
            self._in_bold = True

    def handle_endtag(self, tag):
        if tag == "b":
            self._in_bold = False
        elif tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data):
        if self._in_cell:
            self.rows[-1][-1] += data
        if self._in_bold:
            self.bold.append(data)


def _parse(page: str) -> _Cells:
    parser = _Cells()
    parser.feed(page)
    return parser


def test_every_cell_is_in_the_page_with_escaped_text():
    table = pd.DataFrame({"model": ["<base>", "adapted"], "accuracy": [0.5, 0.625], "tweets": [1200, 3]})
    cells = _parse(html_table(table, title="t"))
    assert cells.rows == [["model", "accuracy", "tweets"], ["<base>", "0.500", "1,200"], ["adapted", "0.625", "3"]]


def test_bold_marks_the_winner_and_nothing_when_all_values_tie():
    table = pd.DataFrame({"model": ["a", "b", "c"], "dev": [0.978, 0.978, 0.978], "test": [0.1, 0.3, 0.2],
                          "loss": [2.5, 1.25, 3.0]})
    cells = _parse(html_table(table, title="t", best_columns=["dev", "test", "loss"], lower_is_better=["loss"]))
    assert cells.bold == ["0.300", "1.250"]
    assert winners(pd.DataFrame({"x": [0.0, 0.0]}), "x", 3) == set()


def test_only_long_tables_get_the_sorting_script():
    short = pd.DataFrame({"n": range(SORTABLE_FROM_ROWS - 1)})
    long = pd.DataFrame({"n": range(SORTABLE_FROM_ROWS)})
    assert "<script>" not in html_table(short, title="t")
    page = html_table(long, title="t")
    assert "<script>" in page and '<th class="sort">n</th>' in page


def test_small_and_large_numbers_and_whole_float_columns_show_as_they_are():
    table = pd.DataFrame({"learning_rate": [5e-4, 1e-4], "epsilon": [1e-8, 1e-6], "tokens_per_s": [36290.9, 812.25],
                          "epochs": [1.0, 2.0], "macro_f1": [0.0, 0.0], "accuracy": [0.7689, 1.0]})
    page = html_table(table, title="t")
    for shown in ("5.0e-04", "1.0e-04", "1.0e-08", "36,290.9", "812.250", "<td class=\"num\">2</td>",
                  "<td class=\"num\">0.000</td>", "0.769", "1.000"):
        assert shown in page, shown
    assert "0.001" not in page and "36290.900" not in page and "2.000" not in page
