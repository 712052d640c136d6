"""One model, one corpus, one probe class: one colour in every chart (the README's rule), read from what each plot
function actually drew, not from the palette module's tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import Collection
from matplotlib.colors import to_hex, to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from tweetbert.plots import palette
from tweetbert.plots.analysis import plot_downstream, plot_topk, plot_tsne
from tweetbert.plots.corpus import plot_diversity, plot_user_contribution
from tweetbert.plots.cost import plot_score_by_cost
from tweetbert.plots.pretrain import plot_loss_by_epochs, plot_loss_by_weight_decay, plot_loss_curves
from tweetbert.plots.selection import plot_candidates, plot_dev_by_epochs
from tweetbert.plots.task_vocabulary import plot_task_vocabulary
from tweetbert.plots.tokenizer import plot_length_distributions, plot_overlap, plot_vocab_composition

CLASSES = ["food", "places", "people", "times", "prefectures", "hiragana", "katakana", "romaji", "kanji", "emoji"]
SETS = {"nouns": ["food", "places", "people", "times", "prefectures"], "basic": ["hiragana", "katakana", "romaji"],
        "extended": ["kanji", "emoji", "romaji"]}


def _handle_colour(handle) -> str | None:
    if isinstance(handle, Line2D):
        colour = handle.get_markerfacecolor() if handle.get_linestyle() in ("None", "") else handle.get_color()
        return to_hex(colour)
    if isinstance(handle, Patch):
        face = handle.get_facecolor()
        return to_hex(face if face[3] > 0 else handle.get_edgecolor())
    if isinstance(handle, Collection) and len(handle.get_facecolor()):
        return to_hex(handle.get_facecolor()[0])
    return None


def legend_colours(fig) -> dict[str, str]:
    """Each legend entry's colour, keyed by the thing it names (what a label adds in brackets or after a comma
    dropped: 'dedup (1 epoch)' and 'validation loss, dedup' both name the corpus dedup)."""
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    entries: dict[str, str] = {}
    for legend in legends:
        for handle, text in zip(legend.legend_handles, legend.get_texts()):
            name = text.get_text().split(" (")[0].split(", ")[-1].split("\n")[0]
            colour = _handle_colour(handle)
            if colour is not None:
                assert entries.setdefault(name, colour) == colour, f"{name!r} has two colours in one chart"
    return entries


def drawn_colours(fig) -> set[str]:
    """Every colour the data artists of the figure's axes were drawn in."""
    colours = set()
    for ax in fig.axes:
        for line in ax.get_lines():
            colours |= {to_hex(line.get_color()), to_hex(line.get_markerfacecolor())}
        for collection in ax.collections:
            colours |= {to_hex(c) for c in collection.get_facecolor() if to_rgba(c)[3] > 0}
            colours |= {to_hex(c) for c in collection.get_edgecolor() if to_rgba(c)[3] > 0}
        for patch in ax.patches:
            colours |= {to_hex(patch.get_facecolor()), to_hex(patch.get_edgecolor())}
    return colours


def _close(a: str, b: str) -> bool:
    return bool(np.abs(np.subtract(to_rgba(a)[:3], to_rgba(b)[:3])).max() < 0.06)


def _tsne_data(items_per_class: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    rows, scores = [], []
    for set_name, classes in {"all": CLASSES, **SETS}.items():
        for model in ("base", "adapted"):
            for representation in ("[CLS] output", "input embedding"):
                for label in classes:
                    unknown = model == "base" and label == "romaji"
                    for i in range(items_per_class):
                        rows.append({"set": set_name, "model": model, "representation": representation,
                                     "class": label, "item": f"{label}{i}", "x": rng.normal(), "y": rng.normal(),
                                     "unknown": unknown})
                comparable = set_name not in ("basic", "extended")
                scores.append({"set": set_name, "model": model, "representation": representation,
                               "silhouette": 0.2 if comparable else None,
                               "own_silhouette": None if model == "base" and not comparable else 0.3,
                               "items": items_per_class * len(classes),
                               "unknown_items": items_per_class * (model == "base" and "romaji" in classes),
                               "note": "" if comparable else "base reads all 12 items as [UNK]"})
    return pd.DataFrame(rows), pd.DataFrame(scores)


def _pretrain_table() -> pd.DataFrame:
    rows = []
    for phase, corpus, lr, wd, epochs, loss in [
        ("exploration", "dedup", 5e-4, 0.0, 1, 3.1), ("exploration", "dedup", 5e-4, 0.03, 1, 3.0),
        ("exploration", "dedup", 1e-3, 0.0, 1, 3.3), ("candidates", "dedup", 5e-4, 0.03, 1, 3.0),
        ("candidates", "dedup", 5e-4, 0.03, 2, 2.8), ("candidates", "balanced", 5e-4, 0.03, 1, 3.2),
        ("candidates", "balanced", 5e-4, 0.03, 2, 2.9)]:
        rows.append({"candidate": f"{corpus}-{lr}-{wd}-{epochs}", "phase": phase, "corpus": corpus,
                     "learning_rate": lr, "weight_decay": wd, "epochs": epochs, "validation_loss": loss})
    return pd.DataFrame(rows)


def _curve(start: float) -> pd.DataFrame:
    steps = np.arange(0, 100, 10)
    return pd.DataFrame({"step": steps, "epoch": steps / 100, "learning_rate": 1e-4,
                         "train_loss": start - steps / 100 + 0.05 * np.sin(steps),
                         "validation_loss": np.where(steps % 50 == 0, start - steps / 120, np.nan)})


def render_every_chart(tmp_path) -> dict[str, object]:
    """Each plot function that colours models, corpora, tokenizers or probe classes, on small generated data."""
    figures = {}
    coordinates, scores = _tsne_data()
    for set_name in ("all", *SETS):
        figures[f"tsne {set_name}"] = plot_tsne(coordinates[coordinates["set"] == set_name],
                                                scores[scores["set"] == set_name], tmp_path / f"tsne_{set_name}.png",
                                                classes=CLASSES)
    topk = pd.DataFrame([{"model": m, "k": k, "accuracy": a, "source": s} for k in (1, 5) for m, a, s in
                         [("base", 0.3, "ours"), ("adapted", 0.5, "ours"), ("published: tweet model", 0.6,
                                                                             "published")]])
    figures["topk"] = plot_topk(topk, tmp_path / "topk.png")
    downstream = pd.DataFrame({"role": ["selected", "control", "control", "published", "chance"],
                               "model": ["dedup-lr1e-04", "base", "random", "published: Japanese BERT", "chance"],
                               "jnli accuracy": [0.8, 0.7, 0.4, 0.75, 0.33],
                               "marc_ja accuracy": [0.9, 0.85, 0.5, 0.9, 0.5]})
    figures["downstream"] = plot_downstream(downstream, tmp_path / "downstream.png")
    table = _pretrain_table()
    figures["weight decay"] = plot_loss_by_weight_decay(table, 5e-4, tmp_path / "wd.png")
    figures["epochs"] = plot_loss_by_epochs(table, tmp_path / "epochs.png")
    figures["loss curves"] = plot_loss_curves({"dedup-a": _curve(4.0), "balanced-a": _curve(4.2)},
                                              {"dedup-a": "dedup", "balanced-a": "balanced"}, tmp_path / "c.png")
    corpora = ["raw", "dedup", "balanced"]
    contribution = pd.DataFrame([{"corpus": c, "tweets_per_user": n, "users": 10 * (4 - n)}
                                 for c in corpora for n in (1, 2, 3)])
    figures["user contribution"] = plot_user_contribution(contribution, tmp_path / "users.png")
    diversity = pd.DataFrame([{"feature": f, "corpus": c, "sample_size": 100, "entropy_bits": 5.0, "types": 50}
                              for f in ("1-gram", "hashtag") for c in corpora])
    figures["diversity"] = plot_diversity(diversity, tmp_path / "diversity.png")
    cost = pd.DataFrame({"corpus": ["dedup", "dedup", "balanced"], "setting": ["a", "a", "b"], "epochs": [1, 2, 1],
                         "device_hours": [0.1, 0.2, 0.1], "score": [0.5, 0.6, 0.55],
                         "selected": [False, True, False]})
    figures["cost"] = plot_score_by_cost(cost, tmp_path / "cost.png", score_label="score", device="cpu")
    tokenizers = ["base", "dedup", "balanced"]
    figures["overlap"] = plot_overlap(pd.DataFrame({"tokenizer": tokenizers, "overlap_with_base": [1, 0.5, 0.4],
                                                    "unk_rate": [0.02, 0.0, 0.0],
                                                    "tokens_per_word": [1.2, 1.1, 1.1]}), "base", tmp_path / "o.png")
    lengths = pd.DataFrame([{"tokenizer": t, "length": n, "tweets": 5, "cumulative_share": n / 4}
                            for t in tokenizers for n in (2, 3, 4)])
    figures["lengths"] = plot_length_distributions(lengths, tmp_path / "lengths.png")
    composition = pd.DataFrame([{"tokenizer": t, "family": f, "share": 0.25}
                                for t in tokenizers for f in ("hiragana", "katakana", "kanji", "romaji")])
    figures["composition"] = plot_vocab_composition(composition, tmp_path / "composition.png")
    vocabulary = pd.DataFrame([{"task": task, "tokenizer": t, "unk_rate": 0.01, "words_split": 0.2}
                               for task in ("jnli", "sentiment3") for t in tokenizers])
    figures["task vocabulary"] = plot_task_vocabulary(vocabulary, tmp_path / "vocabulary.png")
    candidates = pd.DataFrame([{"model": f"{corpus}-{epochs}", "task": task, "kind": "candidate", "corpus": corpus,
                                "epochs": epochs, "main_metric": "accuracy", "best_dev": 0.5 + epochs / 10}
                               for corpus in ("dedup", "balanced") for epochs in (1, 2) for task in ("jts1k", "jtdd")]
                              + [{"model": "base", "task": task, "kind": "control", "corpus": None, "epochs": None,
                                  "main_metric": "accuracy", "best_dev": 0.55} for task in ("jts1k", "jtdd")])
    figures["candidates"] = plot_candidates(candidates, {"model": "dedup-2", "target_tasks": ["jts1k", "jtdd"]},
                                            tmp_path / "candidates.png")
    figures["dev by epochs"] = plot_dev_by_epochs(candidates, ["jts1k", "jtdd"], tmp_path / "dev_epochs.png")
    return figures


@pytest.fixture(scope="module")
def charts(tmp_path_factory):
    return {name: (fig, legend_colours(fig)) for name, fig in render_every_chart(tmp_path_factory.mktemp("charts")).items()}


def test_a_thing_keeps_one_colour_across_every_chart(charts):
    seen: dict[str, tuple[str, str]] = {}
    for chart, (_, entries) in charts.items():
        for name, colour in entries.items():
            first_chart, first = seen.setdefault(name, (chart, colour))
            assert colour == first, f"{name!r} is {colour} in {chart} but {first} in {first_chart}"
    assert seen["base"][1] == palette.BASE and seen["dedup-lr1e-04"][1] == palette.ADAPTED
    assert seen["adapted"][1] == palette.ADAPTED
    assert seen["dedup"][1] == palette.CORPORA["dedup"] and seen["balanced"][1] == palette.CORPORA["balanced"]
    assert {"romaji", "hiragana", "food", "raw", "published: tweet model"} <= set(seen)


def test_no_two_things_in_one_chart_share_a_colour(charts):
    for chart, (_, entries) in charts.items():
        names = list(entries)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                assert not _close(entries[a], entries[b]), f"{chart}: {a!r} and {b!r} share {entries[a]}"


def test_every_legend_colour_is_one_the_chart_drew(charts):
    for chart, (fig, entries) in charts.items():
        drawn = drawn_colours(fig)
        for name, colour in entries.items():
            if name.startswith("[UNK]"):
                continue  # a legend-only marker: the crosses are drawn in their class's colour
            assert colour in drawn, f"{chart}: {name!r} is {colour} in the legend but never drawn"


def test_a_tsne_class_is_drawn_in_one_colour_on_the_joint_and_every_set_map(charts):
    joint = charts["tsne all"][1]
    for set_name, classes in SETS.items():
        entries = charts[f"tsne {set_name}"][1]
        assert {c: entries[c] for c in classes} == {c: joint[c] for c in classes}
    unknown = next(colour for name, colour in joint.items() if name.startswith("[UNK]"))
    assert all(not _close(unknown, joint[c]) for c in CLASSES), "the [UNK] marker must not look like a class"
    assert len(set(joint.values())) == len(joint)


def test_an_all_unknown_set_shows_the_adapted_models_own_silhouette_and_says_why_base_has_none(charts):
    titles = [ax.get_title() for ax in charts["tsne basic"][0].axes]
    adapted = [title for title in titles if title.startswith("adapted")]
    base = [title for title in titles if title.startswith("base")]
    assert adapted and all("0.300" in title and "not comparable" in title for title in adapted)
    assert base and all("[UNK]" in title and "n/a" not in title for title in base)


def test_a_lone_point_is_labelled_and_a_phase_with_one_epoch_count_gets_a_note_not_a_panel(charts, tmp_path):
    epochs = charts["epochs"][0]
    assert [ax.get_title().split(":")[0] for ax in epochs.axes] == ["candidates"]
    assert any("exploration: all 3 points" in text.get_text() for text in epochs.texts)
    single = plot_loss_by_weight_decay(_pretrain_table().query("weight_decay == 0.0"), 5e-4, tmp_path / "one.png")
    (ax,) = single.axes
    assert "only weight decay 0" in ax.get_title()
    assert [text.get_text() for text in ax.texts] == ["3.100"]
