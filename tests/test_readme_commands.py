"""Every snakemake command line in the README is one a user can paste: parsed by Snakemake's own argument parser."""

import re
import shlex
from pathlib import Path

import pytest
import yaml
from snakemake.cli import get_argument_parser

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def readme_snakemake_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL)
    lines = [line.split(" #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith("snakemake ")]


COMMANDS = readme_snakemake_commands()


def run_name_of(args) -> str:
    """The run_name of the config a command uses: its --configfile, the profile's, or the demo's config.yaml."""
    configfiles = list(args.configfile or [])
    if not configfiles and args.profile:
        profile = yaml.safe_load((REPO / args.profile[-1] / "config.yaml").read_text())
        configfiles = [profile["configfile"]] if "configfile" in profile else []
    config = yaml.safe_load((REPO / (configfiles[-1] if configfiles else "config.yaml")).read_text())
    return config["run_name"]


def test_the_readme_shows_the_cluster_and_local_commands():
    assert len(COMMANDS) >= 6
    assert any("--forcerun" in command for command in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_readme_command_parses_with_its_targets_as_targets(command):
    words = shlex.split(command)[1:]
    args = get_argument_parser().parse_args(words)
    paths = [word for word in words if word.startswith("results/")]
    assert set(paths) <= set(args.targets), f"{paths} are not targets in: {command}"
    for option in ("forcerun", "until", "omit_from"):
        assert not any("/" in value for value in (getattr(args, option, None) or [])), command
    for path in paths:
        assert path.startswith(f"results/{run_name_of(args)}/"), f"{path} is not where this config writes: {command}"
    for profile in args.profile or []:
        assert (REPO / profile / "config.yaml").exists(), command
    for configfile in args.configfile or []:
        assert (REPO / configfile).exists(), command
