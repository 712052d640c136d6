"""Dry runs of the workflow (`snakemake -n -p`) parsed into planned jobs: what each job would run, not running it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or shutil.which("snakemake")
_HEADER = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
_KEPT = ("input:", "output:", "wildcards:", "Shell command:")


@dataclass(frozen=True, order=True)
class Job:
    rule: str
    text: str
    """The job's input, output, wildcards and shell command lines (what changes when its work changes)."""

    @property
    def command(self) -> str:
        return next((line.removeprefix("Shell command:").strip() for line in self.text.splitlines()
                     if line.startswith("Shell command:")), "")


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "HF_HUB_OFFLINE": "1"}
    command = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), *args]
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=600, check=False)


def _with_config(workdir: Path, config: dict, *args: str) -> subprocess.CompletedProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "dry_run.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    run = snakemake(workdir, "--cores", "1", "--configfile", str(workdir / "dry_run.yaml"), *args)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


def touch(workdir: Path, config: dict, *targets: str) -> None:
    """Marks the existing outputs of every job behind ``targets`` as made with ``config`` (params recorded too)."""
    _with_config(workdir, config, "--touch", "--forceall", *targets)


def dry_run(workdir: Path, config: dict, *args: str) -> list[Job]:
    """The jobs a dry run with ``config`` plans in ``workdir``, sorted (the order of a dry run means nothing)."""
    run = _with_config(workdir, config, "-n", "-p", *args)
    jobs, rule, lines = [], None, []
    for line in (run.stdout + "\n").splitlines():
        header = _HEADER.match(line)
        if header or (rule and not line.strip()):
            if rule:
                jobs.append(Job(rule, "\n".join(lines)))
            rule, lines = (header.group(1) if header else None), []
        elif rule and line.strip().startswith(_KEPT):
            lines.append(line.strip())
    return sorted(jobs)


def demo_config(run_name: str = "dry") -> dict:
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config["run_name"] = run_name
    return config


def planned_jobs(workdir: Path, config: dict) -> list[Job]:
    """Every job of the DAG for ``config`` (needed or not), planned in this process: a fraction of a second each,
    where a ``snakemake -n`` process needs several to start."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, Quietness, ResourceSettings

    workdir.mkdir(parents=True, exist_ok=True)
    configfile = workdir / "planned.yaml"
    configfile.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        workflow = api.workflow(resource_settings=ResourceSettings(cores=1),
                                config_settings=ConfigSettings(configfiles=[configfile]),
                                snakefile=REPO / "Snakefile", workdir=workdir)
        workflow.dag(DAGSettings()).execute_workflow(executor="dryrun")
        return sorted(Job(job.rule.name, f"output: {', '.join(job.output)}\nShell command: {job.shellcmd}")
                      for job in workflow._workflow.dag.jobs)
