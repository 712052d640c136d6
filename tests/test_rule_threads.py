"""Threads declared are threads used: each job's threads reach its command, and the command holds its pools to them."""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest
from dry_run import REPO, demo_config

from tweetbert.cli import build_parser

CORES = 8  # more than one, so that PARALLEL_THREADS rules plan with several threads
POOL_OPTIONS = ("--threads", "--workers")


def _stage_options(stage: str) -> set[str]:
    parser = build_parser(stage)
    sub = next(action for action in parser._actions if action.dest == "command")
    return set(sub.choices[stage]._option_string_actions)


def _invocations(command: str) -> list[list[str]]:
    """The ``tweetbert`` invocations of a shell command, each as its words."""
    found, current = [], None
    for word in shlex.split(command):
        if word in ("&&", "||", ";", "|"):
            current = None
        elif current is None and word == "tweetbert":
            current = []
            found.append(current)
        elif current is not None:
            current.append(word)
    return found


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> list[tuple[str, int, str]]:
    """(rule, threads, shell command) of every job of the demo's DAG, planned with several cores."""
    import yaml
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, Quietness, ResourceSettings

    workdir = tmp_path_factory.mktemp("threads")
    configfile = workdir / "planned.yaml"
    configfile.write_text(yaml.safe_dump(demo_config(), allow_unicode=True), encoding="utf-8")
    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        workflow = api.workflow(resource_settings=ResourceSettings(cores=CORES),
                                config_settings=ConfigSettings(configfiles=[configfile]),
                                snakefile=REPO / "Snakefile", workdir=workdir)
        workflow.dag(DAGSettings()).execute_workflow(executor="dryrun")
        return [(job.rule.name, job.threads, job.shellcmd) for job in workflow._workflow.dag.jobs if job.shellcmd]


def test_every_job_passes_its_threads_to_the_one_command_it_runs(planned):
    rules = {rule for rule, _, _ in planned}
    assert {"normalize", "train_tokenizer", "tokenize_corpus", "build_base_model", "probe_embeddings"} <= rules
    assert any(threads > 1 for _, threads, _ in planned)
    for rule, threads, command in planned:
        invocations = _invocations(command)
        assert len(invocations) == 1, (rule, command)  # one command writes the stage's files, its pages too
        words = invocations[0]
        stage, options = words[0], _stage_options(words[0])
        passed = [int(words[i + 1]) for i, word in enumerate(words[:-1]) if word in POOL_OPTIONS]
        if options & set(POOL_OPTIONS):
            assert passed == [threads], (rule, threads, command)
        else:  # a command that cannot be told its threads runs one (the CLI holds every pool to one)
            assert threads == 1, (rule, stage, threads)


def test_every_rule_the_slurm_profile_sizes_hands_its_threads_on():
    import yaml

    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text(encoding="utf-8"))
    rules = "\n".join(path.read_text(encoding="utf-8") for path in (REPO / "workflow" / "rules").glob("*.smk"))
    for rule in profile["set-threads"]:
        body = rules.split(f"rule {rule}:\n", 1)[1].split("\nrule ", 1)[0]
        shell = body.split("shell:", 1)[1]
        assert "--threads {threads}" in shell or "--workers {threads}" in shell, rule


_POOLS = """
import os, sys
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from tweetbert.threads import limit_threads
limit_threads(int(sys.argv[1]))  # after the imports, as in the CLI: rayon's pool starts later
before = len(os.listdir("/proc/self/task"))
tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
texts = [" ".join(f"w{i}x{j}y{i * j}" for j in range(100)) for i in range(1000)]
tokenizer.train_from_iterator(texts, trainer=trainers.WordPieceTrainer(vocab_size=500, show_progress=False))
tokenizer.encode_batch(texts)
print(len(os.listdir("/proc/self/task")) - before, torch.get_num_threads())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
@pytest.mark.parametrize("threads", [1, 3])
def test_the_tokenizers_trainer_and_torch_use_exactly_the_threads_given(threads):
    run = subprocess.run([sys.executable, "-c", _POOLS, str(threads)], check=False, capture_output=True, text=True,
                         timeout=300, env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    started, torch_threads = map(int, run.stdout.split()[-2:])
    assert torch_threads == threads
    assert started == (0 if threads == 1 else threads)  # rayon's pool (one thread: none, the work stays in this one)


_MAIN = """
import os
import torch  # loaded before the stage runs, as a stage's argument parsing may load it
from tweetbert.cli import main
try:
    main(["calibrate-batch-size", "--model", "/nonexistent", "--max-seq-length", "8", "--output", "/dev/null",
          *{extra}])
except Exception:
    pass  # the stage fails on the missing model; its limits are set by then
print(os.environ["RAYON_NUM_THREADS"], os.environ["TOKENIZERS_PARALLELISM"], torch.get_num_threads())
"""


@pytest.mark.parametrize(("extra", "expected"), [([], "1 false 1"), (["--threads", "2"], "2 true 2")])
def test_the_cli_holds_a_stage_to_its_threads_option(extra, expected):
    run = subprocess.run([sys.executable, "-c", _MAIN.format(extra=extra)], check=False, capture_output=True,
                         text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert run.stdout.strip().splitlines()[-1] == expected, run.stderr[-2000:]
