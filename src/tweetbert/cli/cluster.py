"""Cluster stage: cluster-usage, what a SLURM run of the workflow spent per rule according to sacct."""

from __future__ import annotations

import argparse
from pathlib import Path

from tweetbert.cli import command, output_options, output_paths

USAGE_OUTPUTS = {
    "table": "TSV, one row per rule: jobs, retries, GPU-/CPU-hours, CPU efficiency, memory and time against requests",
    "html": "the same table as an HTML page for the report",
}


def _usage_args(p: argparse.ArgumentParser) -> None:
    run = p.add_mutually_exclusive_group()
    run.add_argument("--run-id", metavar="UUID",
                     help="the snakemake run's SLURM run ID, the name of all its jobs (its log has 'SLURM run ID: …')")
    run.add_argument("--snakemake-log", type=Path, metavar="LOG",
                     help="a snakemake log naming the run ID (default: the newest .snakemake/log/*.snakemake.log "
                          "of a run that submitted SLURM jobs; with --sacct-file: every job in the file)")
    run.add_argument("--comment-prefix", metavar="PREFIX",
                     help="instead of one run, the jobs since --since whose comment starts with PREFIX "
                          "(rule_ for every workflow job, rule_pretrain_candidate for one rule's)")
    p.add_argument("--since", metavar="TIME",
                   help="sacct -S: the earliest start (default: the run's start from its log, else 30 days ago)")
    p.add_argument("--sacct-file", type=Path, metavar="PATH",
                   help="a saved `sacct -P` output (with its header, or -n in the stage's field order) to read "
                        "instead of calling sacct")
    p.add_argument("--log-dir", type=Path, default=Path(".snakemake", "log"), metavar="DIR",
                   help="where snakemake's logs are (default: .snakemake/log)")
    output_options(p, USAGE_OUTPUTS)
    p.add_argument("--plot", type=Path, default=None, metavar="PATH", help="also a PNG of GPU- and CPU-hours per rule")


@command("cluster-usage", "What a SLURM run spent per rule, from sacct: GPU-/CPU-hours, CPU efficiency, peak memory "
                          "and wall time against the requests, retries.", _usage_args)
def cluster_usage(args: argparse.Namespace) -> None:
    from tweetbert.analysis import cluster_usage as usage
    from tweetbert.errors import InputError

    if args.comment_prefix is not None and args.since is None and args.sacct_file is None:
        raise InputError("--comment-prefix", "needs --since: without a run ID nothing else bounds the jobs")
    run_id, log_path = args.run_id, args.snakemake_log
    if run_id is None and args.comment_prefix is None and not (log_path is None and args.sacct_file is not None):
        log_path = log_path or usage.latest_cluster_log(args.log_dir)
        run_id = usage.run_id_in_log(log_path)
        if run_id is None:
            raise InputError(log_path, f"names no SLURM run ID ({usage.RUN_ID_MARK!r}): not a SLURM run's log")
    elif run_id is not None and args.since is None and args.log_dir.is_dir():
        log_path = usage.find_run_log(run_id, args.log_dir)
    if args.sacct_file is not None:
        if not args.sacct_file.is_file():
            raise InputError(args.sacct_file, "no such file")
        text, source = args.sacct_file.read_text(encoding="utf-8", errors="replace"), args.sacct_file
    else:
        text, source = usage.run_sacct(args.since or usage.default_since(log_path), run_id), "sacct"
    jobs = usage.select_jobs(usage.read_sacct(text, source), run_id=run_id, comment_prefix=args.comment_prefix)
    if run_id is not None:
        what = f"run {run_id}"
    else:
        what = f"jobs commented {args.comment_prefix}…" if args.comment_prefix else f"jobs in {args.sacct_file.name}"
    table = usage.write_usage(jobs, what, {**output_paths(args, USAGE_OUTPUTS), "plot": args.plot})
    print(table.to_string(index=False, float_format=lambda value: f"{value:.2f}"))
