"""What the study did cost: device-hours of every pre-training run by stage, the other GPU rules' wall time, and each
candidate's pre-training cost next to its selection score.

A run's ``metrics.json`` splits its wall time into loading, training, validation, checkpointing and other; times
the processes (GPUs) it ran on, that is its device-seconds. The other GPU rules (sweeps, calibration) are timed by
Snakemake's ``benchmark:`` files, one GPU each. A candidate taken from an epoch checkpoint of a longer run costs
that run's share up to its epoch (run cost x epoch / run epochs), so every candidate is priced as if trained alone
up to where it stopped (the run's one-time loading included pro rata).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tweetbert.errors import InputError
from tweetbert.modeling.candidates import Candidate
from tweetbert.modeling.cost_inputs import read_json

STAGES = ("loading", "training", "validation", "checkpointing", "other")
"""The parts of a run's wall time in its metrics.json ``time_seconds``."""
BENCHMARKED_RULES = {"calibrate_batch_size": "batch-size calibration", "finetune_sweep": "fine-tuning sweeps",
                     "finetune_sweep_peer": "fine-tuning sweeps"}
"""GPU rules besides pre-training whose benchmark files count, by the stage they belong to."""
PHASE_LABELS = {"candidates": "pre-training: candidate runs", "exploration": "pre-training: exploration-only runs"}


@dataclass(frozen=True)
class RunMeasure:
    """One pre-training run's device-seconds by stage (wall seconds x processes)."""

    run: str
    device: str
    seconds: Mapping[str, float]
    epochs: int

    @property
    def hours(self) -> float:
        return sum(self.seconds.values()) / 3600


def read_run(path: Path) -> RunMeasure:
    """A run's metrics.json (its folder is named by the run). Wall time in no named stage (a run from before the time
    breakdown: all of it) counts as other."""
    record = read_json(path)
    for key in ("wall_seconds", "settings"):
        if key not in record:
            raise InputError(path, "missing key", column=key)
    count = int(record.get("device_count", 1))
    times = record.get("time_seconds") or {}
    seconds = {stage: float(times.get(stage, 0.0)) for stage in STAGES if stage != "other"}
    seconds["other"] = max(float(record["wall_seconds"]) - sum(seconds.values()), 0.0)
    device = str(record.get("device_name") or record.get("device", "unknown"))
    return RunMeasure(path.parent.name, f"{device} x {count}" if count > 1 else device,
                      {stage: value * count for stage, value in seconds.items()}, int(record["settings"]["epochs"]))


def benchmark_seconds(directory: Path, target_tasks: list[str]) -> dict[str, tuple[int, float]]:
    """Stage -> (jobs, wall seconds) of the benchmarked GPU rules under ``directory`` (one folder per rule); sweeps
    split into the selection's (target tasks) and the downstream benchmarks'."""
    totals: dict[str, tuple[int, float]] = {}
    for rule, stage in BENCHMARKED_RULES.items():
        for path in sorted((directory / rule).rglob("*.tsv")):
            name = stage
            if stage == "fine-tuning sweeps":  # {model}/{task}/{worker}.tsv or {model}/{task}.tsv
                task = path.relative_to(directory / rule).parts[1].removesuffix(".tsv")
                name += ": selection" if task in target_tasks else ": downstream benchmarks"
            table = pd.read_csv(path, sep="\t")
            if "s" not in table.columns:
                raise InputError(path, "not a Snakemake benchmark file", column="s")
            jobs, seconds = totals.get(name, (0, 0.0))
            totals[name] = (jobs + 1, seconds + float(table["s"].sum()))
    return totals


def cost_table(runs: list[RunMeasure], phase_of: Mapping[str, str],
               benchmarks: Mapping[str, tuple[int, float]]) -> pd.DataFrame:
    """Device-hours by stage: the total, each stage's sum, then every run (its phase, device and stages)."""
    columns = [f"{stage}_h" for stage in STAGES]
    run_rows = [{"item": run.run, "phase": phase_of[run.run], "jobs": 1, "device": run.device,
                 **{f"{stage}_h": run.seconds[stage] / 3600 for stage in STAGES}, "device_hours": run.hours}
                for run in sorted(runs, key=lambda run: (phase_of[run.run], run.run))]
    runs_frame = pd.DataFrame(run_rows, columns=["item", "phase", "jobs", "device", *columns, "device_hours"])
    stage_rows = []
    for phase, label in PHASE_LABELS.items():
        rows = runs_frame[runs_frame["phase"] == phase]
        if len(rows):
            stage_rows.append({"item": label, "phase": phase, "jobs": len(rows),
                               "device": ", ".join(sorted(rows["device"].unique())),
                               **rows[[*columns, "device_hours"]].sum().to_dict()})
    stage_rows += [{"item": stage, "jobs": jobs, "device_hours": seconds / 3600}
                   for stage, (jobs, seconds) in sorted(benchmarks.items())]
    stages = pd.DataFrame(stage_rows, columns=runs_frame.columns)
    total = {"item": "total", "jobs": int(stages["jobs"].sum()), **stages[[*columns, "device_hours"]].sum().to_dict()}
    table = pd.concat([pd.DataFrame([total]), stages, runs_frame], ignore_index=True)
    table["share"] = table["device_hours"] / total["device_hours"] if total["device_hours"] else float("nan")
    return table.astype({"jobs": "int64"})[[*runs_frame.columns, "share"]]


def candidate_costs(produced_by: Mapping[str, tuple[str, int]], runs: Mapping[str, RunMeasure],
                    selection: Mapping[str, Any], source: Path) -> pd.DataFrame:
    """Each selection candidate's pre-training device-hours (its run's, pro rata up to its epoch) and its score in
    the selection record ``source``."""
    scores = {entry["model"]: entry["score"] for entry in selection["ranking"]}
    rows = []
    for slug, (run, epoch) in sorted(produced_by.items()):
        if slug not in scores:
            raise InputError(source, f"candidate {slug} has no entry in the ranking", column="ranking")
        measure = runs[run]
        candidate = Candidate.from_slug(slug)
        rows.append({"model": slug, "corpus": candidate.corpus, "epochs": epoch, "run": run,
                     "setting": dataclasses.replace(candidate, epochs=0).slug.replace("-ep0-", "-"),
                     "device_hours": measure.hours * epoch / measure.epochs, "score": scores[slug],
                     "selected": slug == selection["model"]})
    return pd.DataFrame(rows)


def score_label(selection: Mapping[str, Any]) -> str:
    """The y-axis of the chart: what the selection's score is."""
    statistic = {"mean_dev": "mean", "min_dev": "minimum"}.get(selection["rule"], selection["rule"])
    return f"selection score ({statistic} dev over {', '.join(selection['target_tasks'])})"


def write_costs(runs_dir: Path, candidates: Mapping[str, tuple[str, int]], explored: Mapping[str, tuple[str, int]],
                benchmarks: Path, selection_path: Path, paths: Mapping[str, Path]) -> None:
    """The cost table (TSV, HTML) and the candidates' score-by-cost table and chart."""
    from tweetbert.plots.cost import plot_score_by_cost
    from tweetbert.plots.html_table import write_html_table

    selection = read_json(selection_path)
    phase_of = {run: "exploration" for run, _ in explored.values()}
    phase_of.update({run: "candidates" for run, _ in candidates.values()})
    runs = {run: read_run(runs_dir / run / "metrics.json") for run in sorted(phase_of)}
    table = cost_table(list(runs.values()), phase_of, benchmark_seconds(benchmarks, list(selection["target_tasks"])))
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(paths["table"], sep="\t", index=False, float_format="%.6g")
    devices = ", ".join(sorted({run.device for run in runs.values()}))
    write_html_table(table, paths["table_html"], digits=3,
                     title=f"Measured device-hours by stage and pre-training run ({devices})",
                     note="Device-hours: wall seconds x processes (GPUs) / 3600. Pre-training runs from their "
                          "metrics.json; the other GPU rules from Snakemake's benchmark files (wall time, one "
                          "device each).")
    costs = candidate_costs(candidates, runs, selection, selection_path)
    costs.to_csv(paths["candidates"], sep="\t", index=False, float_format="%.6g")
    plot_score_by_cost(costs, paths["plot"], score_label=score_label(selection), device=devices)
