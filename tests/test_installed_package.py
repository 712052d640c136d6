"""A plain (non-editable) install works away from the source checkout: package data comes with it.

The package is installed with pip into a temporary folder, which is put first on PYTHONPATH, and used from a
directory outside the repository; a module that found its files through the source tree would fail here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, str]:
    """Environment whose `tweetbert` is a non-editable install in a temporary folder."""
    site = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    shutil.copytree(REPO, build / "src-copy", ignore=shutil.ignore_patterns(
        ".git", ".venv", "results", "logs", ".snakemake", "*.egg-info", "__pycache__", "report.html"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(build / "src-copy")], check=True, timeout=600)
    shutil.rmtree(build)
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1"}
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=False, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_installed_package_is_imported_from_the_install_not_the_checkout(installed, tmp_path):
    run = _run([sys.executable, "-c", "import tweetbert; print(tweetbert.__file__)"], installed, tmp_path)
    assert run.returncode == 0, run.stderr
    assert Path(run.stdout.strip()).is_relative_to(Path(installed["PYTHONPATH"]))


def test_installed_cli_shows_help_of_every_stage(installed, tmp_path):
    cli = [sys.executable, "-c", "import sys; from tweetbert.cli import main; sys.exit(main())"]
    run = _run([*cli, "--help"], installed, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "pretrain-candidate" in run.stdout
    dedup = _run([*cli, "dedup", "--help"], installed, tmp_path)
    assert dedup.returncode == 0, dedup.stderr
    assert "--threshold" in dedup.stdout


def test_installed_package_plans_the_demo_from_a_copy_of_the_workflow(installed, tmp_path):
    for name in ("Snakefile", "config.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "workflow", tmp_path / "workflow")
    snakemake = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"
    run = _run([snakemake, "--dry-run", "--cores", "1", "--quiet", "rules"], installed, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "pretrain_candidate" in run.stdout
