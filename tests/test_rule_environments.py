"""Each rule runs in the environment its hardware needs: rules asking for a GPU get the CUDA build of PyTorch."""

from __future__ import annotations

from pathlib import Path

import yaml
from dry_run import REPO, demo_config


def _rules(workdir: Path) -> list:
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, Quietness, ResourceSettings

    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(demo_config(), allow_unicode=True), encoding="utf-8")
    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        workflow = api.workflow(resource_settings=ResourceSettings(cores=1),
                                config_settings=ConfigSettings(configfiles=[configfile]),
                                snakefile=REPO / "Snakefile", workdir=workdir)
        return list(workflow._workflow.rules)


def test_gpu_rules_use_the_cuda_environment_and_the_others_the_cpu_one(tmp_path):
    rules = [rule for rule in _rules(tmp_path) if rule.conda_env is not None]
    assert len(rules) > 20
    for rule in rules:
        wants_gpu = "gpu" in dict(rule.resources)
        env = Path(str(rule.conda_env)).name
        assert env == ("tweetbert-cuda.yaml" if wants_gpu else "tweetbert-cpu.yaml"), rule.name


def test_environment_files_hold_what_their_names_say():
    envs = REPO / "workflow" / "envs"
    cpu = yaml.safe_load((envs / "tweetbert-cpu.yaml").read_text(encoding="utf-8"))
    cuda = yaml.safe_load((envs / "tweetbert-cuda.yaml").read_text(encoding="utf-8"))
    cpu_pip = next(item["pip"] for item in cpu["dependencies"] if isinstance(item, dict))
    cuda_pip = next(item["pip"] for item in cuda["dependencies"] if isinstance(item, dict))
    assert any("whl/cpu" in line for line in cpu_pip) and "--constraint ../../requirements/cpu.pins" in cpu_pip
    assert not any("whl/cpu" in line or "cpu" in line.rsplit("/", 1)[-1] for line in cuda_pip)
    assert "--constraint ../../requirements/cuda.pins" in cuda_pip
    locks = REPO / "requirements"
    assert "\ntorch==2.13.0+cpu \\\n" in (locks / "cpu.lock").read_text()
    assert "\ntorch==2.13.0 \\\n" in (locks / "cuda.lock").read_text()
