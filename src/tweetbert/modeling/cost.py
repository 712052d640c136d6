"""GPU-hour projection of a study before it runs: tokens to process over one GPU's tokens/s, stage by stage.

The arithmetic is deliberately plain, so a reader can check it: a trained token costs 1/tokens_per_second; a
scored (forward-only) token a third of that (a backward pass costs about two forwards); a checkpoint a fixed
number of seconds. The runs are those the workflow plans (:mod:`tweetbert.modeling.candidates`, as
``workflow/rules/common.smk`` expands them); sweeps count every trial as running all its epochs (a pruner only
makes them cheaper, so the sweep rows are upper bounds) and every model as costing what BERT-base does per token.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from tweetbert.modeling.candidates import Candidate, expand_phases, explored_runs, training_runs
from tweetbert.modeling.cost_inputs import CorpusSize, TaskSize, Throughput

FORWARD_COST = 1 / 3
"""Cost of a scored token relative to a trained one (forward only vs forward + backward)."""
DEFAULT_CHECKPOINT_SECONDS = 5.0
"""Seconds one checkpoint stalls training: BERT-base's weights and AdamW state (~1.3 GB) copied off the GPU (the
file is written in the background)."""
CALIBRATION_HOURS = 5 / 60
"""One batch-size calibration job: a few steps at each batch size tried."""
ANALYSIS_JOB_HOURS = 5 / 60
"""Loading two models and the t-SNE probes, per analysis job (probe_embeddings, topk_accuracy)."""


@dataclass(frozen=True)
class RunCost:
    """GPU-hours of one pre-training run."""

    training: float
    validation: float
    checkpointing: float

    @property
    def total(self) -> float:
        return self.training + self.validation + self.checkpointing


@dataclass(frozen=True)
class Stage:
    name: str
    jobs: int
    hours: float
    basis: str


@dataclass(frozen=True)
class Plan:
    """The stages and every input they rest on, each value with its source."""

    run_name: str
    stages: list[Stage]
    speed: Throughput
    checkpoint: tuple[float, str]  # seconds per checkpoint, source
    corpora: Mapping[str, CorpusSize]
    batch_sizes: Mapping[str, tuple[int, str]]
    tasks: Mapping[str, TaskSize]

    @property
    def total(self) -> float:
        return sum(stage.hours for stage in self.stages)


def pretrain_run_cost(epochs: int, corpus: CorpusSize, batch_size: int, fixed: Mapping[str, Any],
                      tokens_per_second: float, checkpoint_seconds: float) -> RunCost:
    """One run of ``epochs`` over the corpus's train split, with its validations and checkpoints.

    Validation scores ``eval_examples`` texts (null or absent: the whole validation split) at the start, every
    ``eval_every`` steps and at each epoch's end; a checkpoint is written every ``save_every`` steps or, where
    ``save_every_minutes`` asks for more, that often, plus one model per epoch with ``epoch_checkpoints``.
    """
    steps = epochs * math.ceil(corpus.train_texts / batch_size)
    training = epochs * corpus.train_texts * corpus.tokens_per_text / tokens_per_second
    evaluations = 1 + epochs + steps // fixed["eval_every"]
    scored = corpus.validation_texts
    if fixed.get("eval_examples") is not None:
        scored = min(int(fixed["eval_examples"]), scored)
    validation = evaluations * scored * corpus.tokens_per_text * FORWARD_COST / tokens_per_second
    checkpoints = steps // fixed["save_every"] if fixed.get("save_every") else 0
    if fixed.get("save_every_minutes"):
        checkpoints = max(checkpoints, round(training / 60 / fixed["save_every_minutes"]))
    checkpoints += epochs if fixed.get("epoch_checkpoints") else 0
    return RunCost(training / 3600, validation / 3600, checkpoints * checkpoint_seconds / 3600)


def planned_runs(config: Mapping[str, Any]) -> dict[str, list[Candidate]]:
    """The training runs of each phase as the workflow plans them; explored points a candidate run covers are not
    runs of their own."""
    fixed = config["pretrain"]["fixed"]
    points = expand_phases(config["pretrain"]["grids"], fixed, config["corpora"])
    of_candidate = training_runs(points["candidates"], fixed["epoch_checkpoints"])
    of_explored = explored_runs(points["exploration"], of_candidate, fixed["epoch_checkpoints"])
    candidates = {run.slug: run for run, _ in of_candidate.values()}
    explored = {run.slug: run for run, _ in of_explored.values() if run.slug not in candidates}
    return {"candidates": sorted(candidates.values()), "exploration": sorted(explored.values())}


def pretrain_stages(config: Mapping[str, Any], corpora: Mapping[str, CorpusSize], batch_sizes: Mapping[str, int],
                    speed: Throughput, checkpoint_seconds: float) -> list[Stage]:
    """One row per phase: the candidates' runs and the runs only the exploration needs."""
    fixed = config["pretrain"]["fixed"]
    planned = planned_runs(config)
    stages = []
    for phase, label in (("candidates", "candidate runs"), ("exploration", "exploration-only runs")):
        runs = planned[phase]
        if not runs:
            continue
        costs = [pretrain_run_cost(run.epochs, corpora[run.corpus], batch_sizes[run.corpus], fixed,
                                   speed.tokens_per_second, checkpoint_seconds) for run in runs]
        parts = {name: sum(getattr(cost, name) for cost in costs) for name in ("training", "validation",
                                                                               "checkpointing")}
        epochs = sum(run.epochs for run in runs)
        basis = (f"{len(runs)} run{'s' * (len(runs) != 1)}, {epochs} epoch{'s' * (epochs != 1)} in all; "
                 + " + ".join(f"{name} {hours:,.2f} h" for name, hours in parts.items()))
        stages.append(Stage(f"pre-training: {label}", len(runs), sum(parts.values()), basis))
    return stages


def mean_epochs(space: Mapping[str, Any]) -> float:
    """The mean of the sweep space's epochs (a range's integers, or its choices)."""
    from optuna.distributions import CategoricalDistribution

    from tweetbert.sweep.space import parse_space

    epochs = parse_space(space)["epochs"]
    if isinstance(epochs, CategoricalDistribution):
        return sum(epochs.choices) / len(epochs.choices)
    values = range(epochs.low, epochs.high + 1, epochs.step)
    return sum(values) / len(values)


def sweep_hours(task: TaskSize, n_trials: int, epochs: float, evaluations_per_epoch: int,
                tokens_per_second: float) -> float:
    """One study: each trial trains ``epochs`` over train and scores validation ``evaluations_per_epoch`` times an
    epoch and dev once; the best trial's model is scored on test once."""
    examples, tokens = task.examples, task.tokens_per_example
    trained = epochs * examples["train"]
    scored = evaluations_per_epoch * epochs * examples["validation"] + examples["dev"]
    per_trial = (trained + FORWARD_COST * scored) * tokens
    return (n_trials * per_trial + FORWARD_COST * examples["test"] * tokens) / tokens_per_second / 3600


def downstream_controls(config: Mapping[str, Any]) -> list[str]:
    """The controls benchmarked next to the selected model (as ``get_downstream_controls`` in common.smk)."""
    named = config["downstream"]["controls"]
    if named is not None:
        return list(named)
    return [name for name, location in sorted(config["controls"].items())
            if location in ("base", config["base_model"])]


def _sweep_stage(name: str, models: int, tasks: Sequence[TaskSize], n_trials: int, config: Mapping[str, Any],
                 speed: Throughput) -> Stage:
    sweep = config["sweep"]
    epochs = mean_epochs(sweep["space"])
    hours = models * sum(sweep_hours(task, n_trials, epochs, sweep["evaluations_per_epoch"],
                                     speed.tokens_per_second) for task in tasks)
    studies = models * len(tasks)
    jobs = studies * sweep["jobs_per_study"]  # each running sweep.workers processes
    basis = (f"{models} models x {len(tasks)} tasks x {n_trials} trials of {epochs:g} epochs (mean of the space), "
             "all run in full")
    return Stage(name, jobs, hours, basis)


def finetune_stages(config: Mapping[str, Any], tasks: Mapping[str, TaskSize], n_candidates: int,
                    speed: Throughput) -> list[Stage]:
    """The selection's sweeps (every candidate and control on every target task) and the benchmark sweeps of the
    selected model and the downstream controls on the other downstream tasks (target tasks reuse the former)."""
    stages = []
    targets = [tasks[name] for name in config["target_tasks"]]
    if targets:
        stages.append(_sweep_stage("fine-tuning sweeps: selection", n_candidates + len(config["controls"]), targets,
                                   config["sweep"]["n_trials"], config, speed))
    others = [tasks[name] for name in config["downstream"]["tasks"] if name not in config["target_tasks"]]
    if targets and others:
        trials = config["downstream"]["n_trials"] or config["sweep"]["n_trials"]
        stages.append(_sweep_stage("fine-tuning sweeps: downstream benchmarks", 1 + len(downstream_controls(config)),
                                   others, trials, config, speed))
    return stages


def calibration_stage(config: Mapping[str, Any]) -> list[Stage]:
    """One calibration job per pre-trained corpus, where the batch size is ``auto``."""
    if config["pretrain"]["fixed"]["batch_size"] != "auto":
        return []
    corpora = {run.corpus for runs in planned_runs(config).values() for run in runs}
    return [Stage("batch-size calibration", len(corpora), len(corpora) * CALIBRATION_HOURS,
                  f"assumed {CALIBRATION_HOURS * 60:.0f} min per corpus")]


def analysis_stage(config: Mapping[str, Any], corpora: Mapping[str, CorpusSize], speed: Throughput) -> list[Stage]:
    """The probes of the selected model: two GPU jobs, each loading two models; top-K scores its texts once per
    model (``probes.max_examples``; null: as many as a corpus's test split)."""
    if not config["target_tasks"]:
        return []
    largest = max(corpora.values(), key=lambda size: size.train_texts)
    ratios = config["split"]["ratios"]
    texts = config["probes"]["max_examples"] or round(largest.train_texts / ratios["train"] * ratios["test"])
    scoring = 2 * texts * largest.tokens_per_text * FORWARD_COST / speed.tokens_per_second / 3600
    return [Stage("analysis (probes, top-K)", 2, 2 * ANALYSIS_JOB_HOURS + scoring,
                  f"assumed {ANALYSIS_JOB_HOURS * 60:.0f} min per job + 2 models x {texts:,} texts scored")]


def project(config: Mapping[str, Any], corpora: Mapping[str, CorpusSize], tasks: Mapping[str, TaskSize],
            batch_sizes: Mapping[str, tuple[int, str]], speed: Throughput, checkpoint: tuple[float, str]) -> Plan:
    """Every GPU stage of the study, in the order the workflow runs them."""
    n_candidates = len(expand_phases(config["pretrain"]["grids"], config["pretrain"]["fixed"],
                                     config["corpora"])["candidates"])
    sizes = {corpus: size for corpus, (size, _) in batch_sizes.items()}
    stages = [*calibration_stage(config),
              *pretrain_stages(config, corpora, sizes, speed, checkpoint[0]),
              *finetune_stages(config, tasks, n_candidates, speed),
              *analysis_stage(config, corpora, speed)]
    return Plan(config["run_name"], stages, speed, checkpoint, corpora, batch_sizes, tasks)


ASSUMPTIONS = (
    f"a scored (forward-only) token costs {FORWARD_COST:.2f} of a trained one; a trained token 1/(tokens/s)",
    ("sweeps: every trial runs all its epochs (a pruner only makes them cheaper) and every model costs what "
    "BERT-base does per token (large controls cost about 3x as much)"),
    "one GPU per job; start-up, data loading and tokenising are not counted",
)


def _input_lines(plan: Plan) -> list[str]:
    lines = [f"throughput: {plan.speed.tokens_per_second:,.0f} training tokens/s of one GPU, {plan.speed.source}",
             f"checkpoint: {plan.checkpoint[0]:g} s each, {plan.checkpoint[1]}"]
    for name, corpus in plan.corpora.items():
        batch, batch_source = plan.batch_sizes[name]
        lines += [(f"corpus {name}: {corpus.train_texts:,} train / {corpus.validation_texts:,} validation texts, "
                  f"{corpus.texts_source}"),
                  f"  {corpus.tokens_per_text:.1f} tokens per text, {corpus.tokens_source}",
                  f"  batch {batch}, {batch_source}"]
    for name, task in plan.tasks.items():
        sizes = " / ".join(f"{count:,} {role}" for role, count in task.examples.items())
        lines.append(f"task {name}: {sizes}, {task.source}; {task.tokens_per_example:g} tokens per example, "
                     f"{task.tokens_source}")
    return lines + [f"assumed: {item}" for item in ASSUMPTIONS]


def format_plan(plan: Plan) -> str:
    """The table (stage, jobs, GPU-hours, share, basis), the total and the inputs it rests on."""
    total = plan.total
    rows = [(stage.name, f"{stage.jobs:,}", f"{stage.hours:,.2f}", f"{stage.hours / total:.1%}" if total else "-",
             stage.basis) for stage in plan.stages]
    rows.append(("total", f"{sum(stage.jobs for stage in plan.stages):,}", f"{total:,.2f}", "100.0%", ""))
    head = ("stage", "jobs", "GPU-hours", "share", "basis")
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(4)]

    def line(row: Sequence[str]) -> str:
        cells = [row[0].ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(row[1:4], widths[1:])), row[4]]
        return "  ".join(cells).rstrip()

    rule = "-" * (sum(widths) + 2 * 3)
    body = [line(head), rule, *map(line, rows[:-1]), rule, line(rows[-1])]
    return "\n".join([f"GPU-hour projection of run {plan.run_name!r}", "", *body, "", "Inputs:",
                      *(f"  {item}" for item in _input_lines(plan))]) + "\n"


def plan_record(plan: Plan) -> dict[str, Any]:
    """The plan as JSON-ready data (``tweetbert plan --json``)."""
    return {"run_name": plan.run_name, "total_gpu_hours": plan.total,
            "stages": [{**asdict(stage), "share": stage.hours / plan.total if plan.total else None}
                       for stage in plan.stages],
            "throughput": asdict(plan.speed),
            "checkpoint_seconds": {"value": plan.checkpoint[0], "source": plan.checkpoint[1]},
            "corpora": {name: {**asdict(size), "batch_size": plan.batch_sizes[name][0],
                               "batch_size_source": plan.batch_sizes[name][1]} for name, size in plan.corpora.items()},
            "tasks": {name: asdict(size) for name, size in plan.tasks.items()},
            "assumptions": list(ASSUMPTIONS)}
