"""The report's first page: the selection verdict and the headline rows, read from the stages' tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tweetbert.analysis.glance import glance_page, topk_table

REPO = Path(__file__).resolve().parents[1]

SELECTION = {"model": "dedup-lr1e-04", "gate": {"selected_passes": False, "note": "Gate: no candidate beat base."}}
CONTROLS = pd.DataFrame({"role": ["selected", "best dedup", "control", "published"],
                         "model": ["dedup-lr1e-04", "dedup-lr1e-04", "base", "Japanese BERT base"],
                         "jts1k dev accuracy": [0.70, 0.70, 0.72, None],
                         "jts1k test accuracy": [0.69, 0.69, 0.71, 0.644]})
TOPK = pd.DataFrame({"model": ["base", "base", "base", "adapted", "adapted", "adapted"],
                     "source": ["measured"] * 6, "k": [1, 10, 100] * 2,
                     "accuracy": [0.04, 0.43, 0.63, 0.17, 0.47, 0.70], "n": [1000] * 6})


def test_the_page_says_when_the_selected_model_fails_the_gate_and_shows_test_scores_only():
    page = glance_page(SELECTION, CONTROLS, TOPK, None)
    assert "does NOT pass the selection gate" in page and "Gate: no candidate beat base." in page
    assert "jts1k test accuracy" in page and "jts1k dev accuracy" not in page
    assert "best dedup" not in page  # the selected model's duplicate row is left out
    assert "<b>0.710</b>" in page  # base wins this column
    assert "reference study" in page  # a published row is present, so the note says what it is


def test_topk_headline_keeps_top1_and_top10_as_percentages():
    table = topk_table(TOPK)
    assert list(table.columns) == ["source", "model", "top-1 %", "top-10 %"]
    assert table.set_index("model").loc["adapted", "top-1 %"] == 17.0


def test_no_published_note_without_published_rows_and_no_downstream_section_without_benchmarks():
    page = glance_page({**SELECTION, "gate": {"selected_passes": True, "note": ""}},
                       CONTROLS[CONTROLS["role"] != "published"], None, None)
    assert "passes the selection gate" in page and "reference study" not in page
    assert "Downstream" not in page and "Top-K" not in page


def test_a_tie_is_said_in_words_and_never_as_the_best():
    tie = {**SELECTION, "tie": True, "runner_up": "dedup-ep4",
           "tie_note": "Tie: dedup-lr1e-04 and dedup-ep4 are within noise on development (margin 0.000 < 0.041)."}
    page = glance_page(tie, CONTROLS, None, None)
    assert "Tie: dedup-lr1e-04 and dedup-ep4 are within noise on development (margin 0.000 &lt; 0.041)." in page
    assert "tied within noise with the runner-up" in page and "the best of those that failed" not in page
    assert "the best of those that failed" in glance_page(SELECTION, CONTROLS, None, None)


def test_the_gate_note_with_its_base_vs_random_context_reaches_the_page():
    context = ("Context: base 0.427 vs random-init 0.431 (mean dev): on this data the base model is no better "
               "than a randomly initialised one, so beating it says little.")
    selection = {"model": "dedup-lr1e-04", "tie": False, "tie_note": "Not a tie: dedup-lr1e-04 leads.",
                 "gate": {"selected_passes": True, "note": f"Gate: 1 candidate(s) beat base. {context}"}}
    page = glance_page(selection, CONTROLS, None, None)
    assert context in page and "Not a tie" in page


def test_the_first_page_states_each_gain_with_its_interval_test_size_and_chance_flags():
    controls = CONTROLS.assign(**{"jts1k test accuracy n": [225, 225, 225, None],
                                  "jts1k test accuracy 95% low": [0.63, 0.63, 0.65, None],
                                  "jts1k test accuracy 95% high": [0.75, 0.75, 0.77, None],
                                  "jts1k seeds mean": [0.68, 0.68, 0.70, None],
                                  "jts1k seeds sd": [0.01, 0.01, 0.02, None], "jts1k seeds": [2, 2, 2, None]})
    differences = pd.DataFrame({"task": ["jts1k", "jts1k"], "metric": ["accuracy", "mcc"],
                                "model": ["dedup-lr1e-04"] * 2, "versus": ["base", "base"], "n": [225, 225],
                                "difference": [-0.02, -0.03], "low": [-0.07, -0.1], "high": [0.03, 0.04],
                                "verdict": ["within noise"] * 2})
    downstream = pd.DataFrame({"role": ["selected", "control", "chance"], "model": ["dedup-lr1e-04", "base", "chance"],
                               "jsts pearson": [0.031, 0.2, 0.0],
                               "jsts pearson at_or_below_chance": [True, False, None]})
    page = glance_page(SELECTION, controls, None, downstream, differences, demo=True)
    assert "-0.020 [-0.070, +0.030]" in page and "within noise" in page and "mcc" not in page
    assert "jts1k 95% CI, n=225" in page and "[0.630, 0.750]" in page and "0.680 ± 0.010 (k=2)" in page
    assert "At or below chance:</b> dedup-lr1e-04: jsts pearson 0.031." in page
    assert "generated stand-ins" in page and '<a href="selection/controls.html">' in page
    assert page.index("Gain of the selected model") < page.index("Target tasks: test scores")


def test_the_report_landing_page_copies_the_page_up_to_its_marker_which_the_page_holds_once():
    from tweetbert.analysis.glance import DETAILS_MARKER

    page = glance_page(SELECTION, CONTROLS, TOPK, None)
    assert page.count(DETAILS_MARKER) == 1 and page.index("Selected candidate") < page.index(DETAILS_MARKER)
    assert DETAILS_MARKER in (REPO / "workflow" / "report" / "workflow.rst").read_text(encoding="utf-8")
