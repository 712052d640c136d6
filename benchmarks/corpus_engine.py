"""Why the corpus stages use pyarrow batches and numpy, not an out-of-core engine: `balance` side by side with DuckDB.

`balance` is the corpus stage most like a query (drop duplicates, keep the first 100 tweets of each user by a
seeded order, keep the input order), so it is the fairest place to ask whether an engine would do the stages'
work better. Both run in a fresh process on the same dedup-annotated corpus with the same number of threads:

- ours: `tweetbert balance` as the rule calls it (pyarrow record batches, dictionary-encoded user ids, numpy);
- DuckDB: one `COPY (SELECT ... row_number() OVER (PARTITION BY user_id ORDER BY hash(id)) ...) TO` statement,
  with the file's row order kept (`file_row_number`), writing zstd Parquet too.

The two orders differ (DuckDB's `hash` is not our blake2b of seed and id), so the rows kept differ but their
number must not: both keep min(tweets, 100) per user. Printed: wall seconds, CPU seconds and peak RSS of each
process, the rows each kept, DuckDB's figures ÷ ours, and the load average before and after.

    .venv/bin/pip install duckdb           # not a dependency of the workflow
    .venv/bin/python benchmarks/corpus_engine.py --annotated /tmp/scale/n10000000/results/scale/corpus/dedup_annotated.parquet
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
from machine_load import load_report

DUCKDB = """
import duckdb, sys
source, target, threads, cap = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute(f'''COPY (
    SELECT id, user_id, created_at, text, cluster_id, is_duplicate FROM (
        SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY hash(id), file_row_number) AS rank
        FROM read_parquet('{source}', file_row_number = true) WHERE NOT is_duplicate)
    WHERE rank <= {cap} ORDER BY file_row_number
) TO '{target}' (FORMAT parquet, COMPRESSION zstd)''')
"""


# Runs a command and prints its rusage: each measured command gets its own parent, so ru_maxrss is its own peak.
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": time.perf_counter() - start, "cpu": usage.ru_utime + usage.ru_stime,
                  "peak_mb": usage.ru_maxrss / 1024}))
"""


def timed(command: list[str]) -> dict:
    """Wall and CPU seconds and peak RSS (its largest process's) of a command run in a fresh process."""
    return json.loads(subprocess.run([sys.executable, "-c", MEASURE, *command], check=True, capture_output=True,
                                     text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotated", required=True, type=Path, help="a dedup_annotated.parquet")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--max-per-user", type=int, default=100)
    args = parser.parse_args()
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        settings = json.dumps({"max_per_user": args.max_per_user, "seed": 0})
        duck = timed([sys.executable, "-c", DUCKDB, str(args.annotated), str(out / "duckdb.parquet"),
                      str(args.threads), str(args.max_per_user)])
        ours = timed([str(bin_dir / "tweetbert"), "balance", "--input", str(args.annotated), "--output",
                      str(out / "ours.parquet"), "--stats", str(out / "ours.json"), "--settings", settings])
        rows = {name: pq.ParquetFile(out / f"{name}.parquet").metadata.num_rows for name in ("ours", "duckdb")}
    after = os.getloadavg()[0] / (os.cpu_count() or 1)
    n = pq.ParquetFile(args.annotated).metadata.num_rows
    print(f"\n## balance on {n:,} rows, {args.threads} threads (load average per core {load:.2f} before, "
          f"{after:.2f} after)\n")
    if load > 0.5:  # the load after counts the benchmark's own runs
        print("**Warning: the load average exceeded 0.5 per core before the run; other work was running.**\n")
    print("| tool | wall s | CPU s | peak RSS MB | rows kept |\n|---|---:|---:|---:|---:|")
    for name, figures in (("ours (pyarrow + numpy)", ours), ("DuckDB", duck)):
        key = "ours" if name.startswith("ours") else "duckdb"
        print(f"| {name} | {figures['wall']:.1f} | {figures['cpu']:.1f} | {figures['peak_mb']:.0f} | {rows[key]:,} |")
    print(f"\nDuckDB ÷ ours: wall {duck['wall'] / ours['wall']:.2f}, CPU {duck['cpu'] / ours['cpu']:.2f}, peak RSS "
          f"{duck['peak_mb'] / ours['peak_mb']:.2f}; same number of rows kept: {rows['ours'] == rows['duckdb']}.")


if __name__ == "__main__":
    with load_report():
        main()
