"""What a pruner saves in a fine-tuning sweep, and what it costs in best dev metric.

For each seed, the same sweep runs twice: once with the pruner and once without pruning (``pruner="none"``). Both use
the same search space, the same TPE sampler seed and worker id (so they draw the same start-up configurations), the
same fine-tuning seed, and each its own journal file. The objective is the one of ``tweetbert finetune-sweep``
(``tweetbert.cli.finetune``): ``OptunaReportCallback`` reports the validation metric ``--evaluations-per-epoch``
times per epoch (``sweep.evaluations_per_epoch``; the unpruned sweep scores validation once per epoch, all it needs),
the trial records its optimiser steps (``steps``, also for a pruned trial, before it raises) and returns the dev
metric of the model its training ended with.

Per sweep: the sum of the optimiser steps of all finished trials (pruned trials count the steps they ran), the
validation examples scored (evaluation is not free: each score is a pass over the validation split) and the best
dev metric (the study's best value). Per seed and averaged over seeds: steps pruned / steps unpruned (target
<= 0.35) and the gap in best dev metric, (unpruned - pruned) x 100 points (target <= 0.5).

Task: product reviews generated as the demo's MARC-ja (``tweetbert.demo.tasks.marc_ja_rows``: the closing verdict
decides, a third open with an aspect of the opposite polarity, 5 % label noise), in words the demo base model's
vocabulary keeps, drawn per seed with enough examples that one epoch moves a trial off the majority class by an
amount that depends on its learning rate: so trials differ after their first epoch and a pruner can rank them.
The demo's own target tasks are too small for that (a tiny model sits at the majority class after one epoch).

    python benchmarks/sweep_cost.py                                   # 3 seeds x 10 trials x 2 sweeps
    python benchmarks/sweep_cost.py --trials 20 --pruner median --startup-trials 5 --evaluations-per-epoch 1
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from machine_load import load_report

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = REPO / "results" / "demo" / "demo" / "base_model"
TASK_NAME = "sweep_cost_reviews"
# learning_rate 1e-3..1e-2 (log: the tiny model barely moves below 1e-3), batch 32, epochs 2..4; warm-up and
# weight decay fixed so only those vary.
SPACE = {
    "learning_rate": {"low": 1e-3, "high": 1e-2, "log": True},
    "batch_size": {"choices": [32]},
    "epochs": {"low": 2, "high": 4},
    "warmup_ratio": {"choices": [0.0]},
    "weight_decay": {"choices": [0.0]},
}
TARGET_RATIO = 0.35
TARGET_GAP = 0.5


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_model(model: Path | None, scratch: Path) -> Path:
    if model is not None:
        return model
    if (DEFAULT_MODEL / "config.json").exists():
        return DEFAULT_MODEL
    from tweetbert.demo import write_general_text  # type: ignore[attr-defined]
    from tweetbert.demo.base_model import build_demo_base_model

    log("no demo base model: building one")
    text = scratch / "general_text.txt"
    write_general_text(text)
    build_demo_base_model(text, scratch / "base_model")
    return scratch / "base_model"


def write_reviews(path: Path, sizes: dict[str, int], seed: int) -> Path:
    """A generic table (text, label, split) of generated reviews with the given split sizes, drawn with ``seed``."""
    import numpy as np

    from tweetbert.demo.tasks import marc_ja_rows

    rng = np.random.default_rng([seed, 97])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["text", "label", "split"])
        for split, size in sizes.items():
            writer.writerows((row["sentence"], row["label"], split) for row in marc_ja_rows(size, rng, 0))
    return path


def run_sweep(model: Path, spec, task, space, *, pruner: str, startup_trials: int, warmup_epochs: int,
              evaluations_per_epoch: int, seed: int, n_trials: int, max_length: int, journal: Path) -> dict:
    import optuna

    from tweetbert.finetune.train import finetune
    from tweetbert.sweep.callback import OptunaReportCallback
    from tweetbert.sweep.space import suggest
    from tweetbert.sweep.storage import open_storage
    from tweetbert.sweep.workers import run_worker

    def objective(trial: optuna.Trial) -> float:
        report = OptunaReportCallback(trial, spec.main_metric, evaluations_per_epoch)
        with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(sys.stderr):
            result = finetune(model, task, spec, suggest(trial, space), seed=seed, output_dir=Path(out),
                              callbacks=[report], max_length=max_length, evaluations_per_epoch=evaluations_per_epoch)
        trial.set_user_attr("steps", result["steps"])  # before raising: a pruned trial's steps count too
        report.raise_if_pruned()
        return float(result["objective"])

    study_name = f"sweep-cost-{pruner}-{seed}"
    started = time.perf_counter()
    run_worker(study_name, journal, objective, n_trials, seed=seed, worker_id="w0", pruner=pruner,
               pruner_startup_trials=startup_trials, pruner_warmup_epochs=warmup_epochs,
               evaluations_per_epoch=evaluations_per_epoch)
    seconds = time.perf_counter() - started
    study = optuna.load_study(study_name=study_name, storage=open_storage(journal))
    finished = [t for t in study.trials if t.state in (optuna.trial.TrialState.COMPLETE,
                                                        optuna.trial.TrialState.PRUNED)]
    first = [t.intermediate_values[1] for t in finished if 1 in t.intermediate_values]
    return {
        # trials whose validation metric at the first evaluation equals the most common one: a pruner cannot rank
        # tied trials (e.g. all at the majority-class accuracy), so they survive
        "tied_first": max((first.count(v) for v in set(first)), default=0),
        "steps": sum(int(t.user_attrs.get("steps", 0)) for t in finished),
        "validation_scored": sum(len(t.intermediate_values) for t in finished) * len(task["validation"]),
        "best": study.best_value,
        "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in finished),
        "trials": len(finished),
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10, help="finished trials per sweep (default 10)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--model", type=Path, default=None, help=f"base model directory (default {DEFAULT_MODEL})")
    parser.add_argument("--train-size", type=int, default=1200, help="train examples (default 1200)")
    parser.add_argument("--validation-size", type=int, default=300,
                        help="validation examples, the pruner's values (default 300)")
    parser.add_argument("--dev-size", type=int, default=300, help="dev examples, the objective (default 300)")
    parser.add_argument("--max-length", type=int, default=48, help="tokens per input (default 48)")
    parser.add_argument("--pruner", choices=["successive_halving", "median", "hyperband"],
                        default="successive_halving", help="the pruner compared with no pruning (default "
                                                           "successive_halving)")
    parser.add_argument("--startup-trials", type=int, default=2,
                        help="sweep.pruner_startup_trials: trials the median pruner lets finish first (default 2)")
    parser.add_argument("--warmup-epochs", type=int, default=0,
                        help="sweep.pruner_warmup_epochs: epochs before a trial can be pruned (default 0)")
    parser.add_argument("--evaluations-per-epoch", type=int, default=4,
                        help="sweep.evaluations_per_epoch of the pruned sweep (default 4; the unpruned one uses 1)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if len(seeds) < 1 or args.trials < 1 or args.evaluations_per_epoch < 1:
        parser.error("need at least one seed, one trial and one evaluation per epoch")

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import optuna
    import torch
    import transformers

    from tweetbert.sweep.space import parse_space
    from tweetbert.tasks.registry import table_task

    if args.threads:
        torch.set_num_threads(args.threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    transformers.logging.set_verbosity_error()
    logging.getLogger("tweetbert").setLevel(logging.WARNING)

    sizes = {"train": args.train_size, "validation": args.validation_size, "dev": args.dev_size, "test": 10}
    spec = table_task(TASK_NAME)
    pruning = {"pruner": args.pruner, "startup_trials": args.startup_trials, "warmup_epochs": args.warmup_epochs,
               "evaluations_per_epoch": args.evaluations_per_epoch}
    unpruned = {**pruning, "pruner": "none", "evaluations_per_epoch": 1}
    rows = []
    with tempfile.TemporaryDirectory(prefix="sweep-cost-") as tmp:
        scratch = Path(tmp)
        model = ensure_model(args.model, scratch)
        space = parse_space(SPACE)
        for seed in seeds:
            path = write_reviews(scratch / f"reviews-{seed}.csv", sizes, seed)
            task = spec.loader(TASK_NAME, spec.resolve_options({"path": str(path)}))
            row = {"seed": seed}
            for sweep in (pruning, unpruned):
                pruner = sweep["pruner"]
                log(f"seed {seed}: {args.trials} trials, pruner {pruner} ({sizes})")
                row[pruner] = run_sweep(model, spec, task, space, **sweep, seed=seed, n_trials=args.trials,
                                        max_length=args.max_length, journal=scratch / f"{pruner}-{seed}.journal")
                log(f"  {row[pruner]}")
            rows.append(row)

    metric = spec.main_metric
    print(f"# Sweep cost: {args.pruner} pruner vs no pruning (generated reviews, {args.trials} trials per sweep)\n")
    startup = f"{args.startup_trials} start-up trials, " if args.pruner == "median" else ""
    print(f"Model `{args.model or DEFAULT_MODEL}`; reviews generated per seed (`marc_ja_rows`): train "
          f"{sizes['train']} / validation {sizes['validation']} / dev {sizes['dev']}, max length {args.max_length}; "
          f"space: learning_rate 1e-3..1e-2 (log), batch 32, epochs 2..4; pruner `{args.pruner}` with {startup}"
          f"{args.warmup_epochs} warm-up epochs and {args.evaluations_per_epoch} validation scores per epoch (the "
          "unpruned sweep: 1). Validation examples scored are a cost the step count leaves out: each score is a "
          "forward pass over the validation split, about a third of a training step's work per example.\n")
    for row in rows:
        print(f"## Seed {row['seed']}\n")
        print(f"| sweep | trials | pruned | tied at 1st score | optimizer steps | validation examples scored "
              f"| best dev {metric} | wall s |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for pruner, label in ((args.pruner, f"{args.pruner} pruner"), ("none", "no pruning")):
            r = row[pruner]
            print(f"| {label} | {r['trials']} | {r['pruned']} | {r['tied_first']} | {r['steps']} "
                  f"| {r['validation_scored']} | {r['best']:.4f} | {r['seconds']:.0f} |")
        row["ratio"] = row[args.pruner]["steps"] / row["none"]["steps"]
        row["gap"] = (row["none"]["best"] - row[args.pruner]["best"]) * 100
        print(f"\nsteps pruned / unpruned = {row['ratio']:.3f} (target <= {TARGET_RATIO}); best-dev gap "
              f"(unpruned - pruned) = {row['gap']:+.2f} points (target <= {TARGET_GAP})\n")

    mean_ratio = statistics.fmean(r["ratio"] for r in rows)
    mean_gap = statistics.fmean(r["gap"] for r in rows)
    print("## Totals (mean over seeds)\n")
    print("| seed | steps pruned | steps unpruned | ratio | validation scored pruned | validation scored unpruned "
          "| best dev pruned | best dev unpruned | gap (points) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['seed']} | {r[args.pruner]['steps']} | {r['none']['steps']} | {r['ratio']:.3f} | "
              f"{r[args.pruner]['validation_scored']} | {r['none']['validation_scored']} | "
              f"{r[args.pruner]['best']:.4f} | {r['none']['best']:.4f} | {r['gap']:+.2f} |")
    print(f"| **mean** | | | **{mean_ratio:.3f}** | | | | | **{mean_gap:+.2f}** |\n")
    ratio_ok, gap_ok = mean_ratio <= TARGET_RATIO, mean_gap <= TARGET_GAP
    print(f"- steps ratio {mean_ratio:.3f}: target <= {TARGET_RATIO} {'met' if ratio_ok else 'MISSED'}")
    print(f"- best-dev gap {mean_gap:+.2f} points: target <= {TARGET_GAP} {'met' if gap_ok else 'MISSED'}")


if __name__ == "__main__":
    with load_report():
        main()
