"""The corpus half of the DAG at scale: every corpus stage's wall time, CPU time and peak memory at N tweets.

For each size it generates N tweets with the demo generator and runs the corpus targets of `configs/scale.yaml`
(the study's corpus settings, `demo.n_tweets` set to N) with Snakemake in a fresh directory, one job at a time, so each job runs in its own
process with exactly the arguments its rule passes. The job's process tree (its shell, the `tweetbert` process and
any worker processes) is sampled every `--interval` seconds: wall seconds, CPU seconds (user + system, summed
over the tree's processes) and the peak of the tree's summed RSS and PSS (RSS counts a page shared by forked
workers once per process; PSS splits it, so it is what the tree really occupies).

Printed, with the target beside each figure:
1. per stage and size: jobs, wall s, CPU s, peak RSS and PSS;
2. per stage: bytes per tweet at the largest size (per row of its shard for the signature jobs) and the growth
   from the smallest to the largest size (wall and RSS), against the size ratio;
3. a projection to the study's 60M raw tweets on one 32-core node: each stage's CPU seconds per tweet times 60M,
   spread over the cores its jobs use there (jobs per stage x `set-threads` of `profiles/slurm/config.yaml`,
   at most 32), and its memory from the measured slope, with the `mem_mb` the profile should ask for;
4. the load average before and after (figures taken while other work ran are off by up to 2.7x); the one after
   counts the run's own last job, so only the one before warns.

A benchmark, not a test: run it by hand on a quiet machine.

    .venv/bin/python benchmarks/corpus_scale.py                                # 1M and 3M tweets
    .venv/bin/python benchmarks/corpus_scale.py --sizes 1000000 10000000       # the issue's full run
    .venv/bin/python benchmarks/corpus_scale.py --sizes 200000 --keep /tmp/scale
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import yaml
from machine_load import load_report

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "scale.yaml"
PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
RUN = "scale"
TARGETS = [f"results/{RUN}/corpus/{corpus}/split.parquet" for corpus in ("dedup", "balanced")] + [
    f"results/{RUN}/corpus/stats/summary.tsv"] + [
    f"results/{RUN}/tokenizer/{corpus}/max_seq_length.json" for corpus in ("dedup", "balanced")]
# DAG order; the stage of a job is the first `tweetbert <stage>` of its shell command.
STAGES = ("demo-data", "ingest", "normalize", "dedup-signatures", "dedup-bands", "dedup", "balance", "split",
          "corpus-stats", "char-coverage", "train-tokenizer", "length-histogram")
NOT_OF_THE_STUDY = {"demo-data"}  # users bring their corpus: not projected
STUDY_TWEETS = 60_000_000
NODE_CORES = 32
GB = 1e9
RSS_TARGET_GB = 3.0  # every stage at 10M tweets
PER_ROW_TARGET_GB = 8.0  # signature and band jobs at 60M with the study's shards and groups
HOUR_TARGET_S = 3600.0  # the corpus half at 60M on one 32-core node
PER_ROW_STAGES = {"dedup-signatures", "dedup-bands"}
_STAGE = re.compile(r"\btweetbert ([a-z-]+)")


@dataclass
class Job:
    stage: str
    started: float
    ended: float = 0.0
    cpu: dict[int, float] = field(default_factory=dict)  # pid -> last seen user + system seconds
    peak_rss: int = 0
    peak_pss: int = 0


@dataclass
class StageRun:
    jobs: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    peak_rss: int = 0
    peak_pss: int = 0


def load_per_core() -> float:
    return os.getloadavg()[0] / (os.cpu_count() or 1)


def _tree_memory(processes: list[psutil.Process], job: Job) -> None:
    rss = pss = 0
    for process in processes:
        try:
            info = process.memory_full_info()
            times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        rss, pss = rss + info.rss, pss + info.pss
        job.cpu[process.pid] = times.user + times.system
    job.peak_rss, job.peak_pss = max(job.peak_rss, rss), max(job.peak_pss, pss)


def run_size(n_tweets: int, workdir: Path, cores: int, interval: float) -> list[Job]:
    """Runs the corpus targets at ``n_tweets`` in ``workdir``, one job at a time, sampling each job's tree."""
    executable = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    config = yaml.safe_load(CONFIG.read_text())
    config["demo"]["n_tweets"] = n_tweets
    (workdir / "scale.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    command = [executable, *TARGETS, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
               "--configfile", str(workdir / "scale.yaml"), "--cores", str(cores),
               "--default-resources", "serial=1", "--resources", "serial=1", "--quiet", "rules"]
    jobs: dict[int, Job] = {}
    with open(workdir / "snakemake.log", "w") as log:
        snakemake = psutil.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
        _sample_jobs(snakemake, jobs, interval)
        snakemake.wait()
    if snakemake.returncode != 0:
        sys.exit(f"snakemake failed at {n_tweets} tweets (exit {snakemake.returncode}); see {workdir / 'snakemake.log'}")
    return list(jobs.values())


def _sample_jobs(snakemake: psutil.Popen, jobs: dict[int, Job], interval: float) -> None:
    """Samples every job's process tree until Snakemake exits; a job is a direct child running `tweetbert`."""
    while snakemake.poll() is None:
        now = time.perf_counter()
        try:
            shells = snakemake.children()
        except psutil.NoSuchProcess:
            break
        for shell in shells:
            try:
                stage = _STAGE.search(" ".join(shell.cmdline()))
                tree = [shell, *shell.children(recursive=True)]
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            if stage is None:
                continue
            job = jobs.setdefault(shell.pid, Job(stage.group(1), now))
            job.ended = now
            _tree_memory(tree, job)
        time.sleep(interval)


def by_stage(jobs: list[Job]) -> dict[str, StageRun]:
    stages: dict[str, StageRun] = {}
    for job in jobs:
        run = stages.setdefault(job.stage, StageRun())
        run.jobs += 1
        run.wall += job.ended - job.started
        run.cpu += sum(job.cpu.values())
        run.peak_rss, run.peak_pss = max(run.peak_rss, job.peak_rss), max(run.peak_pss, job.peak_pss)
    return stages


def study_settings() -> tuple[dict[str, int], int, int]:
    """Threads per job on the cluster (the profile's set-threads, by stage) and the study's shards and groups."""
    profile = yaml.safe_load(PROFILE.read_text())
    threads = {rule.replace("_", "-"): int(value) for rule, value in profile.get("set-threads", {}).items()}
    thesis = yaml.safe_load((REPO / "configs" / "thesis.yaml").read_text())
    return threads, int(thesis["dedup"]["shards"]), int(thesis["dedup"]["band_groups"])


def jobs_at_study(stage: str, shards: int, groups: int) -> int:
    return {"dedup-signatures": shards, "dedup-bands": groups, "split": 2, "char-coverage": 2,
            "train-tokenizer": 2, "length-histogram": 2}.get(stage, 1)


def rows_per_job(stage: str, n_tweets: int, shards: int) -> float:
    """Rows a job holds per-row arrays for: its shard's for a signature job, every row otherwise."""
    return n_tweets / shards if stage == "dedup-signatures" else n_tweets


def mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(results: dict[int, dict[str, StageRun]], loads: tuple[float, float], scale_shards: int,
           kept_share: float) -> None:
    sizes = sorted(results)
    small, large = sizes[0], sizes[-1]
    print(f"\n## Corpus stages at scale (load average per core: {loads[0]:.2f} before, {loads[1]:.2f} after, which "
          f"counts the run's own last job)\n")
    if loads[0] > 0.5:
        print("**Warning: the load average exceeded 0.5 per core before the run; other work was running and the "
              "figures are high.**\n")
    print("| stage | tweets | jobs | wall s | CPU s | peak RSS GB | peak PSS GB | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for stage in STAGES:
        for n in sizes:
            run = results[n].get(stage)
            if run is None:
                continue
            target = ""
            if n >= 10_000_000 and stage not in PER_ROW_STAGES | NOT_OF_THE_STUDY:
                target = f"RSS ≤ {RSS_TARGET_GB:g} GB: {mark(run.peak_rss / GB <= RSS_TARGET_GB)}"
            print(f"| {stage} | {n:,} | {run.jobs} | {run.wall:.1f} | {run.cpu:.1f} | {run.peak_rss / GB:.2f} | "
                  f"{run.peak_pss / GB:.2f} | {target} |")

    threads, shards, groups = study_settings()
    ratio = large / small
    print(f"\n## Growth from {small:,} to {large:,} tweets (×{ratio:g}) and memory per tweet\n")
    print(f"| stage | wall ×  | RSS × | bytes per row at {large:,} | target |")
    print("|---|---:|---:|---:|---|")
    for stage in STAGES:
        a, b = results[small].get(stage), results[large].get(stage)
        if a is None or b is None:
            continue
        per_row = b.peak_rss / rows_per_job(stage, large, scale_shards)
        growth = b.wall / max(a.wall, 1e-9)
        target = f"wall × ≤ {1.1 * ratio:g}: {mark(growth <= 1.1 * ratio)}" if len(sizes) > 1 else ""
        print(f"| {stage} | {growth:.2f} | {b.peak_rss / max(a.peak_rss, 1):.2f} | {per_row:.0f} | {target} |")

    print(f"\n## Projection to {STUDY_TWEETS / 1e6:.0f}M raw tweets on one {NODE_CORES}-core node "
          f"(thesis: {shards} shards, {groups} band groups; threads from {PROFILE.relative_to(REPO)})\n")
    print("| stage | CPU µs per tweet | cores used | projected wall s | projected peak GB per job | "
          "suggested mem_mb | target |")
    print("|---|---:|---:|---:|---:|---:|---|")
    total = serial = 0.0
    for stage in STAGES:
        b = results[large].get(stage)
        if b is None or stage in NOT_OF_THE_STUDY:
            continue
        cores = min(NODE_CORES, jobs_at_study(stage, shards, groups) * threads.get(stage, 1))
        wall = b.cpu / large * STUDY_TWEETS / cores
        total += wall
        serial += wall if cores == 1 else 0.0
        a = results[small].get(stage, b)
        rows_small = rows_per_job(stage, small, scale_shards)
        rows_large = rows_per_job(stage, large, scale_shards)
        rows_study = rows_per_job(stage, STUDY_TWEETS, shards)
        slope = (b.peak_rss - a.peak_rss) / (rows_large - rows_small) if rows_large > rows_small else 0.0
        slope = max(slope, 0.0) if len(sizes) > 1 else b.peak_rss / rows_large
        intercept = b.peak_rss - slope * rows_large if len(sizes) > 1 else 0.0
        projected = intercept + slope * rows_study
        mem_mb = int(math.ceil(projected * 1.25 / 1e6 / 1000) * 1000)
        target = (f"≤ {PER_ROW_TARGET_GB:g} GB: {mark(projected / GB <= PER_ROW_TARGET_GB)}"
                  if stage in PER_ROW_STAGES else "")
        print(f"| {stage} | {b.cpu / large * 1e6:.1f} | {cores} | {wall:.0f} | {projected / GB:.2f} | {mem_mb} | "
              f"{target} |")
    print(f"\nProjected corpus half at {STUDY_TWEETS / 1e6:.0f}M: **{total:.0f} s ({total / 3600:.2f} h)**, target ≤ "
          f"{HOUR_TARGET_S / 3600:g} h: {mark(total <= HOUR_TARGET_S)}. Of it, {serial:.0f} s "
          f"({serial / max(total, 1e-9):.0%}) are stages that use one core (they cap it). Stages are summed as if run "
          f"one after another, and each is projected from {large:,} generated tweets at the raw count, so stages "
          f"after dedup are over-estimated (the study's dedup keeps 46 % of its tweets, the generated corpus's "
          f"{kept_share:.0%}).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 3_000_000])
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between samples of a job's tree")
    parser.add_argument("--keep", type=Path, help="run in this directory and keep its results")
    args = parser.parse_args()
    scale_shards = int(yaml.safe_load(CONFIG.read_text())["dedup"]["shards"])
    before = load_per_core()
    results = {}
    for n in sorted(args.sizes):
        workdir = (args.keep or Path(tempfile.mkdtemp(prefix="corpus-scale-"))) / f"n{n}"
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"{n:,} tweets in {workdir} (load per core {load_per_core():.2f})", file=sys.stderr)
        started = time.perf_counter()
        results[n] = by_stage(run_size(n, workdir, args.cores, args.interval))
        dedup = json.loads((workdir / "results" / RUN / "corpus" / "dedup.json").read_text())
        kept_share = dedup["kept"] / dedup["rows"]
        print(f"  {time.perf_counter() - started:.0f} s", file=sys.stderr)
        if args.keep is None:
            shutil.rmtree(workdir.parent, ignore_errors=True)
    report(results, (before, load_per_core()), scale_shards, kept_share)


if __name__ == "__main__":
    with load_report():
        main()
