"""What a comparison table shows besides one number per model: test sizes, 95 % intervals, the seeds' spread.

The selection's data table (``controls.tsv``) keeps numbers only; the page a reader sees composes them into
``0.769 [0.712, 0.821]`` and ``0.765 ± 0.010`` cells, with short model aliases and a key for the full slugs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from tweetbert.analysis.bootstrap import interval_text
from tweetbert.errors import InputError
from tweetbert.modeling.candidates import Candidate

LOW, HIGH, SIZE = "95% low", "95% high", "n"
SEEDS_MEAN, SEEDS_SD, SEEDS = "seeds mean", "seeds sd", "seeds"


def seed_fields(record: Mapping[str, Any], path: object) -> dict[str, Any]:
    """A best.json's seed summary of its main metric as aggregate-table columns (empty without seed runs)."""
    seeds = record.get("seeds")
    if not seeds:
        return {}
    metric = record["main_metric"]
    try:
        return {"seeds": len(seeds["runs"]), "dev_seeds_mean": float(seeds["dev"][metric]["mean"]),
                "dev_seeds_sd": seeds["dev"][metric]["sd"], "test_seeds_mean": float(seeds["test"][metric]["mean"]),
                "test_seeds_sd": seeds["test"][metric]["sd"]}
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(path, f"malformed seed summary ({error!r})", column="seeds") from None


def model_aliases(models: Sequence[str]) -> dict[str, str]:
    """Candidates as ``<corpus>-<k>`` (k in slug order within the corpus); controls keep their names."""
    by_corpus: dict[str, list[str]] = {}
    for model in sorted(set(models)):
        try:
            by_corpus.setdefault(Candidate.from_slug(model).corpus, []).append(model)
        except ValueError:
            continue
    aliases = {model: model for model in models}
    for corpus, slugs in by_corpus.items():
        aliases.update({slug: f"{corpus}-{k}" for k, slug in enumerate(slugs, start=1)})
    return aliases


def alias_key(aliases: Mapping[str, str]) -> str:
    """The key under a table: each alias that abbreviates a slug, and the slug."""
    pairs = [f"{alias} = {model}" for model, alias in aliases.items() if alias != model]
    return f"Models: {'; '.join(pairs)}." if pairs else ""


def with_uncertainty(controls: pd.DataFrame, intervals: pd.DataFrame, seeds: pd.DataFrame,
                     metric: Mapping[str, str]) -> pd.DataFrame:
    """``controls`` with, per target task, the test size, the test score's 95 % bounds and the seeds' mean, sd and
    count, matched by model (published rows, which have no test items here, stay empty)."""
    table = controls.copy()
    bounds = {(row.task, row.model): row for row in intervals.itertuples() if row.metric == metric.get(row.task)}
    spread = {(row.task, row.model): row for row in seeds.itertuples()}
    for task in metric:
        prefix = f"{task} test {metric[task]}"
        found = [bounds.get((task, model)) for model in table["model"]]
        table[f"{prefix} {SIZE}"] = pd.array([row.n if row else None for row in found], dtype="Int64")
        table[f"{prefix} {LOW}"] = [row.low if row else None for row in found]
        table[f"{prefix} {HIGH}"] = [row.high if row else None for row in found]
        runs = [spread.get((task, model)) for model in table["model"]]
        table[f"{task} {SEEDS_MEAN}"] = [row.test_seeds_mean if row else None for row in runs]
        table[f"{task} {SEEDS_SD}"] = [row.test_seeds_sd if row else None for row in runs]
        table[f"{task} {SEEDS}"] = pd.array([row.seeds if row else None for row in runs], dtype="Int64")
    return table.astype({c: "float64" for c in table.columns if c.endswith((LOW, HIGH, SEEDS_MEAN, SEEDS_SD))})


def interval_cell(row: pd.Series, prefix: str) -> str:
    low, high = row.get(f"{prefix} {LOW}"), row.get(f"{prefix} {HIGH}")
    return "" if pd.isna(low) or pd.isna(high) else interval_text(low, high)


def seeds_cell(row: pd.Series, task: str) -> str:
    mean, sd, k = row.get(f"{task} {SEEDS_MEAN}"), row.get(f"{task} {SEEDS_SD}"), row.get(f"{task} {SEEDS}")
    if pd.isna(mean):
        return ""
    return f"{mean:.3f} ± {sd:.3f} (k={int(k)})" if not pd.isna(sd) else f"{mean:.3f} (k={int(k)})"


def shown_controls(table: pd.DataFrame, metric: Mapping[str, str], aliases: Mapping[str, str]) -> pd.DataFrame:
    """The page's version of the controls table: aliases for slugs, and per task dev, test, its interval (with
    the test size in the head) and the seeds' mean ± sd where there were seed runs."""
    shown = pd.DataFrame({"role": table["role"], "model": [aliases.get(m, m) for m in table["model"]]})
    if "parameters" in table:
        shown["parameters"] = table["parameters"]
    for task in metric:
        dev, test = f"{task} dev {metric[task]}", f"{task} test {metric[task]}"
        shown[dev] = table[dev]
        shown[test] = table[test]
        sizes = table.get(f"{test} {SIZE}", pd.Series(dtype="Int64")).dropna()
        if f"{test} {LOW}" in table and table[f"{test} {LOW}"].notna().any():
            size = f", n={int(sizes.iloc[0])}" if len(sizes) else ""
            shown[f"{task} test 95% CI{size}"] = [interval_cell(row, test) for _, row in table.iterrows()]
        if f"{task} {SEEDS_MEAN}" in table and table[f"{task} {SEEDS_MEAN}"].notna().any():
            shown[f"{task} test over seeds"] = [seeds_cell(row, task) for _, row in table.iterrows()]
    return shown


def seeds_table(aggregate: pd.DataFrame) -> pd.DataFrame:
    """The aggregate's seed columns, one row per (model, task) that had seed runs."""
    if "seeds" not in aggregate:
        return pd.DataFrame(columns=["model", "task", "seeds", "test_seeds_mean", "test_seeds_sd"])
    found = aggregate[aggregate["seeds"].notna()]
    return found[["model", "task", "seeds", "test_seeds_mean", "test_seeds_sd"]].reset_index(drop=True)
