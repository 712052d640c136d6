"""Whole-demo budget: the demo DAG end to end from an empty working directory, against the 5-minute target.

Runs ``snakemake --cores N`` with the repository's Snakefile and ``config.yaml`` in a fresh directory (so nothing
of an earlier run is reused), then ``--report``, and prints the wall time of each and where the time went: the
summed seconds of every job per rule, from the start and finish times Snakemake logs (jobs overlap on N cores, so
these sum to more than the wall time). It also measures what one fine-tuning job pays before its first trial (a
fresh interpreter importing the fine-tuning stage: PyTorch, transformers' model and Trainer modules, Optuna) and
prints that start-up times the number of fine-tuning jobs: a floor no trial setting can lower. A benchmark, not a
test: run it by hand on a quiet machine.

    .venv/bin/python benchmarks/demo_budget.py                 # ~8.5 min on 2 cores
    .venv/bin/python benchmarks/demo_budget.py --keep /tmp/demo --cores 2
    .venv/bin/python benchmarks/demo_budget.py --from-run /tmp/demo   # the tables of a finished run, no new run
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
from machine_load import load_report

REPO = Path(__file__).resolve().parents[1]
BUDGET_S = 5 * 60
FINETUNE_RULES = ("finetune_sweep", "finetune_sweep_peer")
START_UP = ("import tweetbert.cli.finetune, optuna; from tweetbert.finetune import train; "
            "from tweetbert.sweep import callback, job, keep, objective, workers; from tweetbert.demo import task_specs")
"""What a fine-tuning job imports before its first trial."""
_STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
_STARTED = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
_JOB = re.compile(r"^\s+jobid: (\d+)$")
_FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$")


def _snakemake(workdir: Path, *args: str) -> float:
    """Runs snakemake in ``workdir`` and returns its wall seconds; a failure prints its log tail and exits."""
    executable = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    run = subprocess.run([executable, "--snakefile", str(REPO / "Snakefile"), "--configfile",
                          str(REPO / "config.yaml"), "--directory", str(workdir), *args],
                         cwd=workdir, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{run.stderr[-3000:]}")
    return seconds


def logged_jobs(log: Path) -> pd.DataFrame:
    """Every job of one Snakemake log: rule, start and finish (the log's one-second stamps)."""
    started: dict[str, tuple[str, datetime]] = {}
    rows, stamp, rule = [], None, None
    for line in log.read_text(errors="replace").splitlines():
        if match := _STAMP.match(line):
            stamp = datetime.strptime(match.group(1), "%a %b %d %H:%M:%S %Y")
        elif match := _STARTED.match(line):
            rule = match.group(1)
        elif (match := _JOB.match(line)) and rule is not None:
            started[match.group(1)] = (rule, stamp)
            rule = None
        elif match := _FINISHED.match(line):
            job_rule, begun = started.pop(match.group(1))
            rows.append({"rule": job_rule, "start": begun, "finish": stamp})
    return pd.DataFrame(rows, columns=["rule", "start", "finish"])


def job_seconds(jobs: pd.DataFrame) -> pd.DataFrame:
    """Jobs and summed seconds per rule."""
    seconds = (pd.to_datetime(jobs["finish"]) - pd.to_datetime(jobs["start"])).dt.total_seconds()
    return (jobs.assign(seconds=seconds).groupby("rule").agg(jobs=("seconds", "size"), seconds=("seconds", "sum"))
            .sort_values("seconds", ascending=False))


def start_up_seconds(repeats: int = 3) -> float:
    """The median wall seconds of a fresh interpreter importing what a fine-tuning job imports."""
    times = []
    for _ in range(repeats):
        begun = time.perf_counter()
        subprocess.run([sys.executable, "-c", START_UP], check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        times.append(time.perf_counter() - begun)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="run in this (empty or new) directory and keep it")
    parser.add_argument("--from-run", type=Path, help="no new run: the tables of the finished run in this directory")
    args = parser.parse_args()
    workdir = args.from_run or args.keep or Path(tempfile.mkdtemp(prefix="tweetbert-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if args.from_run is None:
            _snakemake(workdir, "--cores", str(args.cores))
            report = _snakemake(workdir, "--cores", str(args.cores), "--report", "report.html")
        logs = sorted((workdir / ".snakemake" / "log").glob("*.snakemake.log"))
        jobs = pd.concat([logged_jobs(log) for log in logs])
        workflow_log = max(logs, key=lambda log: len(logged_jobs(log)))
        text = workflow_log.read_text(errors="replace")
        stamps = [datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
                  for m in map(_STAMP.match, text.splitlines()) if m]
        workflow = (stamps[-1] - stamps[0]).total_seconds()
        if args.from_run is not None:
            report = (workdir / "report.html").stat().st_mtime - workflow_log.stat().st_mtime
    finally:
        if args.keep is None and args.from_run is None:
            shutil.rmtree(workdir, ignore_errors=True)
    table = job_seconds(jobs)
    start_up = start_up_seconds()
    print(f"## Demo workflow on {args.cores} cores\n")
    print("| step | wall s |\n|---|---:|")
    print(f"| `snakemake --cores {args.cores}` (whole DAG, {len(jobs)} jobs) | {workflow:.0f} |")
    print(f"| `snakemake --report report.html` | {report:.0f} |")
    total = workflow + report
    print(f"| **total** | **{total:.0f}** ({total / 60:.1f} min; target {BUDGET_S / 60:.0f} min: "
          f"{'met' if total <= BUDGET_S else 'MISSED'}, {total / BUDGET_S:.2f} of it) |\n")
    print("Job seconds by rule (every job, from Snakemake's log; jobs run in parallel):\n")
    print("| rule | jobs | seconds | share |\n|---|---:|---:|---:|")
    for row in table.itertuples():
        print(f"| `{row.Index}` | {row.jobs} | {row.seconds:.0f} | {row.seconds / table['seconds'].sum():.0%} |")
    finetune_jobs = int(table.loc[table.index.isin(FINETUNE_RULES), "jobs"].sum())
    floor = finetune_jobs * start_up
    print(f"\nStart-up of one fine-tuning job (a fresh interpreter importing its modules, median of 3): "
          f"{start_up:.1f} s. {finetune_jobs} fine-tuning jobs x {start_up:.1f} s = {floor:.0f} job-seconds, "
          f"{floor / args.cores:.0f} s of wall on {args.cores} cores ({floor / args.cores / BUDGET_S:.2f} of the "
          f"target) before any trial runs.")


if __name__ == "__main__":
    with load_report():
        main()
