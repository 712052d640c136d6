"""What a SLURM run of the workflow spent, rule by rule, from SLURM's own accounting (sacct).

Snakemake's benchmark files time only the rules that declare them and say nothing of what a job asked for. sacct
has both sides of every job: what it was given (CPUs, GPUs, memory, a time limit) and what it used (CPU time, peak
memory, wall time). Side by side per rule they show how to size ``set-resources`` in profiles/slurm/config.yaml
from measurements: a rule whose jobs peak at a fifth of their memory, or end in minutes under a day's limit, asks
for more than it needs and waits longer in the queue for it; one with retries or OUT_OF_MEMORY asks for too little.

snakemake-executor-plugin-slurm names every job of one snakemake run with the run's UUID (``sbatch --name``) and
comments it ``rule_<rule>_wildcards_<values>`` (``rule_<rule>`` for a rule without wildcards): the name selects the
run, the comment the rule, and one rule and wildcards submitted more than once is a retry.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from tweetbert.errors import CheckFailed, InputError

log = logging.getLogger(__name__)

SACCT_FIELDS = ("JobIDRaw", "JobName", "State", "AllocCPUS", "AllocTRES", "ReqMem", "NNodes", "MaxRSS", "Elapsed",
                "Timelimit", "TotalCPU", "Comment")
"""What :func:`run_sacct` asks for, in this order; Comment last, so a ``|`` inside a comment cannot shift a field."""
REQUIRED_FIELDS = ("JobName", "State", "AllocCPUS", "AllocTRES", "Elapsed", "TotalCPU", "Comment")
COMMENT_PREFIX = "rule_"
WILDCARDS_MARK = "_wildcards_"
RUN_ID_MARK = "SLURM run ID:"
SUBMITTED = re.compile(r"has been submitted with SLURM jobid|Submitted array job")
LOG_DIR = Path(".snakemake", "log")
LOG_SUFFIX = ".snakemake.log"
DEFAULT_LOOKBACK = timedelta(days=30)
"""How far back sacct looks when the run's start is unknown (sacct's own default is only since midnight)."""
SACCT_TIME = "%Y-%m-%dT%H:%M:%S"
COLUMNS = ("rule", "jobs", "retries", "not_completed", "gpu_hours", "cpu_hours", "cpu_efficiency", "peak_mem_mb",
           "req_mem_mb", "peak_mem_share", "max_elapsed_min", "time_limit_min", "peak_time_share")

_DURATION = re.compile(r"(?:(?P<days>\d+)-)?(?:(?P<hours>\d+):)?(?P<minutes>\d+):(?P<seconds>\d+(?:\.\d+)?)")
_MEMORY = re.compile(r"(?P<value>\d+(?:\.\d+)?)(?P<unit>[KMGTP]?)(?P<per>n|c|/node|/cpu)?", re.IGNORECASE)
_MEGABYTES = {"": None, "K": 1 / 1024, "M": 1.0, "G": 1024.0, "T": 1024.0**2, "P": 1024.0**3}


def parse_seconds(text: str) -> float | None:
    """A sacct duration in seconds: ``[DD-][HH:]MM:SS[.mmm]`` (TotalCPU drops the hours below one: ``00:14.666``).
    None where there is no number: an empty field, ``UNLIMITED``, ``Partition_Limit``, ``INVALID``."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return None
    parts = {name: float(value) if value else 0.0 for name, value in match.groupdict().items()}
    return ((parts["days"] * 24 + parts["hours"]) * 60 + parts["minutes"]) * 60 + parts["seconds"]


def parse_memory_mb(text: str, *, bare: str = "B") -> float | None:
    """A sacct memory size in MB (SLURM's M, 1024² bytes, the unit of ``mem_mb``): ``526020K``, ``62.50G``,
    ``16000M``. A number without a unit is in ``bare`` (MaxRSS: bytes; ReqMem: MB). None where empty. A per-node or
    per-CPU suffix (``n``/``c``, SLURM before 21.08) is dropped here: see :func:`requested_mb`."""
    match = _MEMORY.fullmatch(text.strip())
    if match is None:
        return None
    factor = _MEGABYTES[match["unit"].upper()]
    if factor is None:
        factor = 1.0 if bare == "M" else 1 / 1024**2
    return float(match["value"]) * factor


def requested_mb(text: str, cpus: int, nodes: int) -> float | None:
    """A job's ReqMem in MB for the whole job: older SLURM writes ``4000Mc`` (per CPU) or ``16000Mn`` (per node)."""
    match = _MEMORY.fullmatch(text.strip())
    size = parse_memory_mb(text, bare="M")
    if match is None or size is None:
        return None
    per = (match["per"] or "").lower()
    if per in ("c", "/cpu"):
        return size * max(cpus, 1)
    if per in ("n", "/node"):
        return size * max(nodes, 1)
    return size


def gpu_count(tres: str) -> int:
    """GPUs in an AllocTRES list (``billing=2,cpu=2,gres/gpu:a100=1,gres/gpu=1,node=1``): ``gres/gpu`` counts all of
    them; the typed entries are summed only where SLURM wrote no untyped one."""
    typed = 0
    for item in tres.split(","):
        key, _, value = item.partition("=")
        if key == "gres/gpu":
            return int(float(value or 0))
        if key.startswith("gres/gpu:"):
            typed += int(float(value or 0))
    return typed


def rule_of(comment: str) -> tuple[str, str]:
    """(rule, wildcards) of the plugin's job comment ``rule_<rule>_wildcards_<values>``."""
    rule, _, wildcards = comment.removeprefix(COMMENT_PREFIX).partition(WILDCARDS_MARK)
    return rule or "unknown", wildcards


@dataclass(frozen=True)
class Job:
    """One SLURM job (its allocation) with its steps' peak memory."""

    job_id: str
    rule: str
    wildcards: str
    state: str
    cpus: int
    gpus: int
    elapsed: float
    limit: float | None
    cpu_time: float
    requested_mb: float | None
    peak_mb: float | None


def read_sacct(text: str, source: str | Path) -> list[dict[str, str]]:
    """The rows of ``sacct -P`` output as field -> value: named by the header line where there is one (a saved file
    may hold any fields in any order), else in :data:`SACCT_FIELDS` order (``-n``, as :func:`run_sacct` asks)."""
    lines = [line for line in text.splitlines() if line.strip()]
    fields = list(SACCT_FIELDS)
    first = 0
    if lines and {"JobID", "JobIDRaw"} & set(lines[0].split("|")):
        fields, first = lines[0].split("|"), 1
        if fields and fields[-1] == "":  # -p (--parsable) ends every line with a delimiter
            fields.pop()
    missing = [field for field in REQUIRED_FIELDS if field not in fields]
    if missing:
        raise InputError(source, f"sacct output without the field(s) {', '.join(missing)}: save it with "
                                 f"`sacct -P --format={','.join(SACCT_FIELDS)}`", row=1)
    rows = []
    for number, line in enumerate(lines[first:], start=first + 1):
        values = line.split("|")
        if len(values) == len(fields) + 1 and values[-1] == "":
            values.pop()
        if len(values) > len(fields) and fields[-1] == "Comment":
            values[len(fields) - 1:] = ["|".join(values[len(fields) - 1:])]
        if len(values) != len(fields):
            raise InputError(source, f"{len(values)} fields where the header has {len(fields)}", row=number)
        rows.append(dict(zip(fields, values, strict=True)))
    return rows


def select_jobs(rows: Iterable[Mapping[str, str]], *, run_id: str | None = None,
                comment_prefix: str | None = None) -> list[Job]:
    """The allocations of one run (job name ``run_id``) or whose comment starts with ``comment_prefix``. Allocation
    fields come from each job's main row (its JobID has no ``.``); MaxRSS is the largest of its rows, since SLURM
    measures it in the steps (``.batch``, ``.extern``, ``.0``) and leaves the main row's empty."""
    mains: dict[str, Mapping[str, str]] = {}
    peaks: dict[str, float] = {}
    for row in rows:
        job_id = row.get("JobIDRaw") or row.get("JobID", "")
        parent, dot, _ = job_id.partition(".")
        rss = parse_memory_mb(row.get("MaxRSS", ""), bare="B")
        if rss is not None:
            peaks[parent] = max(peaks.get(parent, 0.0), rss)
        if dot or (run_id is not None and row["JobName"] != run_id):
            continue
        if comment_prefix is not None and not row["Comment"].startswith(comment_prefix):
            continue
        mains[parent] = row
    jobs = []
    for job_id, row in mains.items():
        cpus = int(row["AllocCPUS"] or 0)
        rule, wildcards = rule_of(row["Comment"])
        jobs.append(Job(job_id=job_id, rule=rule, wildcards=wildcards, state=row["State"].split(" ")[0],
                        cpus=cpus, gpus=gpu_count(row["AllocTRES"]), elapsed=parse_seconds(row["Elapsed"]) or 0.0,
                        limit=parse_seconds(row.get("Timelimit", "")),
                        cpu_time=parse_seconds(row["TotalCPU"]) or 0.0,
                        requested_mb=requested_mb(row.get("ReqMem", ""), cpus, int(row.get("NNodes") or 1)),
                        peak_mb=peaks.get(job_id)))
    if any(job.rule == "unknown" for job in jobs):
        log.warning("jobs without the plugin's rule comment count as rule 'unknown': the cluster keeps comments "
                    "only with AccountingStoreFlags=job_comment in slurm.conf")
    return jobs


def _largest(values: Iterable[float | None]) -> float:
    present = [value for value in values if value is not None and not math.isnan(value)]
    return max(present) if present else math.nan


def _share(used: float | None, given: float | None) -> float | None:
    return used / given if used is not None and given else None


def usage_table(jobs: Iterable[Job]) -> pd.DataFrame:
    """One row per rule, most GPU-hours first (then CPU-hours): jobs, retries (jobs of one rule and wildcards beyond
    the first), states other than COMPLETED, GPU- and CPU-hours allocated (elapsed x GPUs or CPUs), CPU efficiency
    (TotalCPU / allocated CPU time), the peak memory and the longest wall time against what was asked for. Shares
    are each job's own (a retry may ask for more), the largest of the rule's jobs."""
    by_rule: dict[str, list[Job]] = {}
    for job in jobs:
        by_rule.setdefault(job.rule, []).append(job)
    rows = []
    for rule, group in by_rule.items():
        allocated = sum(job.elapsed * job.cpus for job in group)
        states = Counter(job.state for job in group if job.state != "COMPLETED")
        rows.append({
            "rule": rule, "jobs": len(group),
            "retries": sum(count - 1 for count in Counter(job.wildcards for job in group).values()),
            "not_completed": ", ".join(f"{state} {count}" for state, count in sorted(states.items())),
            "gpu_hours": sum(job.elapsed * job.gpus for job in group) / 3600, "cpu_hours": allocated / 3600,
            "cpu_efficiency": sum(job.cpu_time for job in group) / allocated if allocated else math.nan,
            "peak_mem_mb": _largest(job.peak_mb for job in group),
            "req_mem_mb": _largest(job.requested_mb for job in group),
            "peak_mem_share": _largest(_share(job.peak_mb, job.requested_mb) for job in group),
            "max_elapsed_min": max(job.elapsed for job in group) / 60,
            "time_limit_min": _largest(job.limit / 60 if job.limit is not None else None for job in group),
            "peak_time_share": _largest(_share(job.elapsed, job.limit) for job in group),
        })
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table = table.sort_values(["gpu_hours", "cpu_hours", "rule"], ascending=[False, False, True], ignore_index=True)
    return table.astype({"jobs": "int64", "retries": "int64"})


def run_id_in_log(path: Path) -> str | None:
    """The last SLURM run ID a snakemake log names (the plugin logs ``SLURM run ID: <uuid>`` once per run)."""
    found = None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if RUN_ID_MARK in line:
            found = line.split(RUN_ID_MARK, 1)[1].strip() or found
    return found


def log_started(path: Path) -> datetime | None:
    """When the snakemake run of a log began: Snakemake names its logs by their start (``2025-01-31T093015.123456``)."""
    try:
        return datetime.strptime(path.name.removesuffix(LOG_SUFFIX), "%Y-%m-%dT%H%M%S.%f")
    except ValueError:
        return None


def latest_cluster_log(directory: Path = LOG_DIR) -> Path:
    """The newest snakemake log of a run that submitted SLURM jobs. A log that names a run ID but submitted nothing is
    skipped: ``snakemake --profile profiles/slurm cluster_usage`` is such a run itself (its rule is local), and it
    is always the newest."""
    logs = sorted(directory.glob(f"*{LOG_SUFFIX}"), key=lambda path: (log_started(path) or datetime.min, path.name),
                  reverse=True)
    for path in logs:
        text = path.read_text(encoding="utf-8", errors="replace")
        if RUN_ID_MARK in text and SUBMITTED.search(text):
            return path
    raise InputError(directory, f"no snakemake log (*{LOG_SUFFIX}) of a run that submitted SLURM jobs: run this in "
                                "the workflow's directory after a `--profile profiles/slurm` run, or give --run-id")


def find_run_log(run_id: str, directory: Path = LOG_DIR) -> Path | None:
    """The snakemake log that names ``run_id``, where the workflow's directory still has it."""
    for path in sorted(directory.glob(f"*{LOG_SUFFIX}")):
        if run_id_in_log(path) == run_id:
            return path
    return None


def default_since(log_path: Path | None, now: datetime | None = None) -> str:
    """sacct's ``-S``: the run's start from its log's name, else :data:`DEFAULT_LOOKBACK` before now."""
    started = log_started(log_path) if log_path is not None else None
    if started is None:
        started = (now or datetime.now()) - DEFAULT_LOOKBACK
    return started.strftime(SACCT_TIME)


def run_sacct(since: str, run_id: str | None) -> str:
    """``sacct -P -n`` for the jobs since ``since`` (only those named ``run_id`` where given), every step included."""
    if shutil.which("sacct") is None:
        raise InputError("sacct", "not found on PATH: run cluster-usage where SLURM's commands are (the login node), "
                                  "or give a saved `sacct -P` output with --sacct-file")
    command = ["sacct", "-P", "-n", "-S", since, f"--format={','.join(SACCT_FIELDS)}"]
    if run_id is not None:
        command += ["--name", run_id]
    run = subprocess.run(command, check=False, capture_output=True, text=True)
    if run.returncode != 0:
        message = (run.stderr.strip().splitlines() or [f"exit status {run.returncode}"])[0]
        raise InputError("sacct", f"failed: {message}")
    return run.stdout


def summary_note(table: pd.DataFrame, what: str) -> str:
    """The HTML table's note: the run, its totals and how to read the shares."""
    gpu, cpu = table["gpu_hours"].sum(), table["cpu_hours"].sum()
    return (f"{what}: {int(table['jobs'].sum())} SLURM jobs, {int(table['retries'].sum())} retries, "
            f"{gpu:.2f} GPU-hours and {cpu:.2f} CPU-hours allocated (elapsed x GPUs or CPUs). cpu_efficiency: "
            "TotalCPU / (elapsed x CPUs). peak_mem_share: MaxRSS / ReqMem, peak_time_share: elapsed / time limit, "
            "each the largest of the rule's jobs; far below 1 means set-resources asks for more than the rule uses.")


def write_usage(jobs: list[Job], what: str, paths: Mapping[str, Path | None]) -> pd.DataFrame:
    """The table as TSV (``table``) and HTML (``html``) and, where ``plot`` is given, its hours as a bar chart."""
    from tweetbert.plots.cluster_usage import plot_usage
    from tweetbert.plots.html_table import write_html_table

    if not jobs:
        raise CheckFailed(f"no SLURM jobs of {what} in sacct's records: check the run ID (or --since) and that "
                          "the run submitted its jobs from this account")
    table = usage_table(jobs)
    for path in paths.values():
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(paths["table"], sep="\t", index=False, float_format="%.6g")
    write_html_table(table, paths["html"], title=f"Cluster usage by rule ({what})", digits=2,
                     note=summary_note(table, what))
    if paths.get("plot") is not None:
        plot_usage(table, paths["plot"], title=what)
    return table
