"""Whole-demo budget: the demo DAG end to end from an empty working directory, against the 15-minute target.

Runs ``snakemake --cores N`` with the repository's Snakefile and ``config.yaml`` in a fresh directory (so nothing
of an earlier run is reused), then ``--report``, and prints the wall time of each and where the time went: the
summed job seconds per rule from the rules' ``benchmark:`` files (jobs overlap on N cores, so these sum to more
than the wall time). A benchmark, not a test: run it by hand on a quiet machine.

    .venv/bin/python benchmarks/demo_budget.py                 # ~10 min on 2 cores
    .venv/bin/python benchmarks/demo_budget.py --keep /tmp/demo --cores 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
BUDGET_S = 15 * 60


def _snakemake(workdir: Path, *args: str) -> float:
    """Runs snakemake in ``workdir`` and returns its wall seconds; a failure prints its log tail and exits."""
    executable = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    run = subprocess.run([executable, "--snakefile", str(REPO / "Snakefile"), "--configfile",
                          str(REPO / "config.yaml"), "--directory", str(workdir), *args],
                         cwd=workdir, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{run.stderr[-3000:]}")
    return seconds


def job_seconds(workdir: Path) -> pd.DataFrame:
    """Jobs and summed seconds per rule, from results/<run_name>/benchmarks/<rule>[/...].tsv."""
    run_name = yaml.safe_load((REPO / "config.yaml").read_text())["run_name"]
    root = workdir / "results" / run_name / "benchmarks"
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        rule = path.relative_to(root).parts[0].removesuffix(".tsv")
        rows.append({"rule": rule, "seconds": float(pd.read_csv(path, sep="\t")["s"].sum())})
    frame = pd.DataFrame(rows, columns=["rule", "seconds"])
    return (frame.groupby("rule").agg(jobs=("seconds", "size"), seconds=("seconds", "sum"))
            .sort_values("seconds", ascending=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="run in this (empty or new) directory and keep it")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="tweetbert-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        workflow = _snakemake(workdir, "--cores", str(args.cores))
        report = _snakemake(workdir, "--cores", str(args.cores), "--report", "report.html")
        table = job_seconds(workdir)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"## Demo workflow on {args.cores} cores\n")
    print("| step | wall s |\n|---|---:|")
    print(f"| `snakemake --cores {args.cores}` (whole DAG) | {workflow:.0f} |")
    print(f"| `snakemake --report report.html` | {report:.0f} |")
    total = workflow + report
    print(f"| **total** | **{total:.0f}** ({total / 60:.1f} min; budget {BUDGET_S / 60:.0f} min: "
          f"{'met' if total <= BUDGET_S else 'MISSED'}, {total / BUDGET_S:.2f} of it) |\n")
    print("Job seconds by rule (rules with a `benchmark:` file; jobs run in parallel):\n")
    print("| rule | jobs | seconds |\n|---|---:|---:|")
    for row in table.itertuples():
        print(f"| `{row.Index}` | {row.jobs} | {row.seconds:.0f} |")


if __name__ == "__main__":
    main()
