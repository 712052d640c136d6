"""Cost stages: plan (the GPU-hours a config will take, before it runs) and pretrain-cost (what it did take)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tweetbert.cli import command, key_value, output_options, output_paths, write_json


def _plan_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--configfile", required=True, type=Path, help="workflow config file (e.g. configs/thesis.yaml)")
    speed = p.add_mutually_exclusive_group()
    speed.add_argument("--tokens-per-second", type=float, metavar="N",
                       help="training tokens/s of one GPU (pre-training and fine-tuning alike)")
    speed.add_argument("--gpu-check", type=Path, metavar="JSON",
                       help="the JSON benchmarks/gpu_check.py wrote: its tokens/s and calibrated batch size")
    p.add_argument("--results", type=Path, default=None,
                   help="the run's results folder, where measured sizes are read (default: results/<run_name>)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="pre-training batch when pretrain.fixed.batch_size is auto and no calibration has run")
    p.add_argument("--raw-tweets", type=int, default=None,
                   help="tweets of the raw corpus, where it is not at raw.path yet (default: counted there)")
    p.add_argument("--checkpoint-seconds", type=float, default=None,
                   help="seconds to write one pre-training checkpoint (default: gpu_check's, else 5)")
    p.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the plan as JSON")


@command("plan", "GPU-hours a config's study will take, by stage, from measured or stated sizes and a throughput.",
         _plan_args)
def plan(args: argparse.Namespace) -> None:
    from tweetbert.config import load_config
    from tweetbert.demo import task_specs  # noqa: F401  (registers the demo's tasks, which its config names)
    from tweetbert.modeling.cost import DEFAULT_CHECKPOINT_SECONDS, format_plan, plan_record, project
    from tweetbert.modeling.cost_inputs import corpus_size, pretrain_batch_size, raw_tweets, task_size, throughput

    config = load_config(args.configfile)
    fixed = config["pretrain"]["fixed"]
    speed = throughput(args.tokens_per_second, args.gpu_check,
                       fixed["batch_size"] if isinstance(fixed["batch_size"], int) else None,
                       bool(fixed.get("compile", False)))
    results = args.results or Path("results") / config["run_name"]
    raw = raw_tweets(config, results, args.raw_tweets)
    corpora = {corpus: corpus_size(config, results, corpus, raw) for corpus in config["corpora"]}
    batches = {corpus: pretrain_batch_size(config, results, corpus, speed, args.batch_size)
               for corpus in config["corpora"]}
    tweet_tokens = corpora[config["corpora"][0]].tokens_per_text
    names = dict.fromkeys([*config["target_tasks"], *config["downstream"]["tasks"]])
    tasks = {task: task_size(config, results, task, tweet_tokens) for task in names}
    if args.checkpoint_seconds is not None:
        checkpoint = (args.checkpoint_seconds, "given (--checkpoint-seconds)")
    elif speed.checkpoint_seconds is not None:
        checkpoint = (float(speed.checkpoint_seconds), f"measured: {args.gpu_check}")
    else:
        checkpoint = (DEFAULT_CHECKPOINT_SECONDS, "assumed: BERT-base's state copied off the GPU, ~1.3 GB")
    result = project(config, corpora, tasks, batches, speed, checkpoint)
    print(format_plan(result), end="")
    if args.json is not None:
        write_json(plan_record(result), args.json)


COST_OUTPUTS = {
    "table": "TSV of measured device-hours: the total, each stage, every pre-training run by stage",
    "table_html": "the same table as an HTML page for the report",
    "candidates": "TSV of each candidate's pre-training device-hours and selection score",
    "plot": "PNG of selection score against pre-training device-hours",
}


def _cost_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--candidate", action="append", default=[], type=key_value, metavar="SLUG=RUN:EPOCH",
                   help="a selection candidate, the training run that produces it and the epoch taken from it "
                        "(repeatable)")
    p.add_argument("--explored", action="append", default=[], type=key_value, metavar="SLUG=RUN:EPOCH",
                   help="an exploration point (pre-trained only), as --candidate (repeatable)")
    p.add_argument("--runs", required=True, type=Path, help="directory holding one folder per training run")
    p.add_argument("--benchmarks", required=True, type=Path,
                   help="Snakemake's benchmark folder (one subfolder per rule); missing rules count nothing")
    p.add_argument("--selection", required=True, type=Path, help="select_best's best_model.json")
    output_options(p, COST_OUTPUTS)


def _produced_by(pairs: list[tuple[str, str]]) -> dict[str, tuple[str, int]]:
    """SLUG=RUN:EPOCH pairs as slug -> (run, epoch)."""
    return {slug: (run, int(epoch)) for slug, (run, _, epoch) in
            ((slug, value.rpartition(":")) for slug, value in pairs)}


@command("pretrain-cost", "Measured device-hours per pre-training run and stage, and selection score by cost.",
         _cost_args)
def pretrain_cost(args: argparse.Namespace) -> None:
    from tweetbert.analysis.cost import write_costs

    write_costs(args.runs, _produced_by(args.candidate), _produced_by(args.explored), args.benchmarks,
                args.selection, output_paths(args, COST_OUTPUTS))
