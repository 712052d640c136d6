"""Peak memory of a command and everything it starts, e.g. `python benchmarks/peak_memory.py -- make test`.

Samples the process tree every interval and prints two peaks of the summed memory: RSS, which counts a shared
page once per process that maps it (MeCab's dictionary, torch's libraries and mmapped model files appear many
times), and PSS, which splits each shared page between the processes sharing it, so that the sum is what the
tree really occupies. It also prints the processes at the PSS peak.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import psutil
from machine_load import load_report


def tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def sample(processes: list[psutil.Process]) -> list[tuple[int, int, str]]:
    """(rss, pss, command) of each process still alive."""
    rows = []
    for process in processes:
        try:
            info = process.memory_full_info()
            rows.append((info.rss, info.pss, " ".join(process.cmdline())[:100]))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command after --")
    started = time.monotonic()
    child = subprocess.Popen(command)
    root = psutil.Process(child.pid)
    peak_rss, peak_pss, at_peak = 0, 0, []
    while child.poll() is None:
        rows = sample(tree(root))
        rss, pss = sum(row[0] for row in rows), sum(row[1] for row in rows)
        peak_rss = max(peak_rss, rss)
        if pss > peak_pss:
            peak_pss, at_peak = pss, sorted(rows, key=lambda row: -row[1])[:8]
        time.sleep(args.interval)
    gib = 2**30
    print(f"\n## Peak memory of `{' '.join(command)}` ({time.monotonic() - started:.0f} s, exit {child.returncode})\n")
    print(f"| measure | peak GiB |\n|---|---:|\n| summed RSS (shared pages counted per process) | {peak_rss / gib:.2f} |")
    print(f"| summed PSS (what the process tree occupies) | {peak_pss / gib:.2f} |\n")
    print("At the PSS peak:\n\n| PSS MiB | RSS MiB | process |\n|---:|---:|---|")
    for rss, pss, name in at_peak:
        print(f"| {pss / 2**20:.0f} | {rss / 2**20:.0f} | `{name}` |")
    sys.exit(child.returncode)


if __name__ == "__main__":
    with load_report():
        main()
