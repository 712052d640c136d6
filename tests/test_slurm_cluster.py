"""The SLURM profile for real: the smoke DAG through `snakemake --profile profiles/slurm` on a running cluster.

Start a one-node cluster first (CI does): `eval "$(tests/cluster/slurm.sh start)"`. The profile runs as shipped;
only its site variables ($TWEETBERT_…) and sizes for a small machine (--max-threads) come from outside.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from postgres_db import fresh_database, not_configured, server_url
from smoke_config import REPO, smoke_config

from tweetbert.sweep.storage import open_storage
from tweetbert.sweep.workers import FINISHED

RUN_NAME = "slurm"
SITE_VARIABLES = ("TWEETBERT_ACCOUNT", "TWEETBERT_PARTITION", "TWEETBERT_GPU_PARTITION", "TWEETBERT_GPU_MODEL")
GPU_RULES = {"calibrate_batch_size", "pretrain_candidate", "finetune_sweep", "finetune_sweep_peer", "probe_embeddings",
             "topk_accuracy"}
PRETRAIN_COMMENT = "rule_pretrain_candidate_wildcards_"  # the plugin's job comment: rule_<rule>_wildcards_<values>
MAX_THREADS = 2  # --max-threads for this machine
# Hang guard only: a normal run takes 10-20 minutes on a 2-core machine; loaded CI machines are much slower.
HANG_GUARD_SECONDS = 3 * 3600


def cluster_problem() -> str | None:
    if shutil.which("sbatch") is None:
        return "SLURM is not installed here"
    missing = [name for name in SITE_VARIABLES if not os.environ.get(name)]
    if missing:
        return f"{', '.join(missing)} not set"
    run = subprocess.run(["sinfo", "-h", "-o", "%P %t"], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        return f"no SLURM controller answers ({run.stderr.strip()[:200]})"
    return None


PROBLEM = cluster_problem()
pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(PROBLEM is not None, reason=f"NO SLURM CLUSTER, the profile is NOT tested: {PROBLEM}; start "
                                                   "one with `eval \"$(tests/cluster/slurm.sh start)\"`"),
]


def slurm(*args: str) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=True).stdout


def pretrain_jobs_in_training(workdir: Path) -> list[str]:
    """Running pretrain_candidate jobs whose trainer is past its first validation (its SIGTERM handler is set)."""
    jobs = []
    for line in slurm("squeue", "-h", "-t", "RUNNING", "-o", "%i|%k").splitlines():
        job_id, comment = line.split("|", 1)
        if not comment.startswith(PRETRAIN_COMMENT):
            continue
        run = comment.removeprefix(PRETRAIN_COMMENT)
        log = workdir / "logs" / RUN_NAME / "pretrain_candidate" / f"{run}.log"
        if log.exists() and "step 0: validation loss" in log.read_text(errors="replace"):
            jobs.append(job_id)
    return jobs


def job_state(job_id: str) -> str:
    states = slurm("sacct", "-X", "-n", "-P", "-j", job_id, "--format=State").split()
    return states[0] if states else "PENDING"


def snakemake_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "HF_HUB_OFFLINE": "1"}


def snakemake_command(workdir: Path, configfile: Path) -> list[str]:
    """The shipped SLURM profile, sized for this machine."""
    return [shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake",
            "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
            "--profile", str(REPO / "profiles" / "slurm"), "--configfile", str(configfile),
            "--max-threads", str(MAX_THREADS), "--slurm-init-seconds-before-status-checks", "2"]


@pytest.fixture(scope="module")
def cluster_run(tmp_path_factory):
    """Runs the smoke DAG on the cluster, sending SIGTERM to one pre-training job while it trains."""
    workdir = tmp_path_factory.mktemp("slurm")
    config = smoke_config(RUN_NAME)
    # Every rule of the smoke DAG, with fewer models to sweep: a 2-core cluster runs its ~45 jobs one or two at a time.
    config["pretrain"]["grids"] = [{"corpus": ["dedup", "balanced"], "epochs": [1]}]
    config["controls"] = {"base": "base"}
    config["sweep"]["workers"] = 2  # as on a cluster: each study's job runs two worker processes on its GPU
    config["pretrain"]["fixed"]["eval_every"] = 10  # a longer training loop, so there is time to interrupt it
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    env = snakemake_env()
    command = snakemake_command(workdir, workdir / "config.yaml")
    log_path = workdir / "snakemake.log"
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    interrupted, missed = None, []
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            while process.poll() is None:
                assert time.monotonic() < deadline, f"hang guard: still running after {HANG_GUARD_SECONDS} s"
                if interrupted is not None and job_state(interrupted) == "COMPLETED":
                    missed.append(interrupted)  # it finished before the signal arrived: try another run
                    interrupted = None
                if interrupted is None:
                    candidates = [job for job in pretrain_jobs_in_training(workdir) if job not in missed]
                    if candidates:
                        interrupted = candidates[0]
                        subprocess.run(["scancel", "--signal=TERM", interrupted], check=True)
                time.sleep(0.5)
        finally:
            if process.poll() is None:
                process.kill()
    output = log_path.read_text(errors="replace")
    assert process.returncode == 0, output[-6000:]
    return {"workdir": workdir, "output": output, "jobs": accounted_jobs(output, started), "interrupted": interrupted}


def accounted_jobs(output: str, started: str) -> list[dict[str, str]]:
    """sacct's record of every job of the snakemake run whose output this is."""
    accounting = slurm("sacct", "-X", "-n", "-P", "-S", started, "--name", run_uuid(output),
                       "--format=JobIDRaw,State,Partition,AllocTRES,ReqCPUS,Comment")
    jobs = [dict(zip(("id", "state", "partition", "tres", "cpus", "comment"), line.split("|")))
            for line in accounting.splitlines()]
    for job in jobs:
        job["rule"] = job["comment"].removeprefix("rule_").split("_wildcards_")[0]
    return jobs


@pytest.fixture(scope="module")
def postgres_study_run(cluster_run):
    """One study of the finished run again, on PostgreSQL and spread over two SLURM jobs (sweep.jobs_per_study: 2),
    one CPU each so that both run at once on this 2-core node."""
    server = server_url()
    if server is None:
        pytest.skip(not_configured("The SLURM run of a study spanning two jobs"))
    workdir = cluster_run["workdir"]
    study = Path("results", RUN_NAME, "finetune", "base", "sentiment3")  # targets: relative to the working directory
    study_dir = workdir / study
    shutil.rmtree(study_dir / "kept")  # the journal study's best model; the new study keeps its own
    with fresh_database(server) as database:
        config = yaml.safe_load((workdir / "config.yaml").read_text())
        config["sweep"].update(storage=database, jobs_per_study=2, workers=1, n_trials=4)
        (workdir / "postgres.yaml").write_text(yaml.safe_dump(config))
        started = time.strftime("%Y-%m-%dT%H:%M:%S")
        run = subprocess.run(
            [*snakemake_command(workdir, workdir / "postgres.yaml"), "--set-threads", "finetune_sweep=1",
             "finetune_sweep_peer=1", "--", str(study / "best.json"), str(study / "jobs" / "j1.json")],
            cwd=workdir, env=snakemake_env(), capture_output=True, text=True, timeout=HANG_GUARD_SECONDS,
            check=False)
        output = run.stdout + run.stderr
        assert run.returncode == 0, output[-6000:]
        study = optuna.load_study(study_name="base/sentiment3", storage=open_storage(database))
        return {"study_dir": study_dir, "jobs": accounted_jobs(output, started), "trials": study.trials,
                "best_trial": study.best_trial.number}


def run_uuid(output: str) -> str:
    """The SLURM job name the plugin gives every job of one snakemake run."""
    for line in output.splitlines():
        if "SLURM run ID:" in line:
            return line.split("SLURM run ID:")[1].strip()
    raise AssertionError("the slurm plugin printed no run ID:\n" + output[-3000:])


def test_every_job_ran_as_a_slurm_job_and_completed_except_the_interrupted_one(cluster_run):
    jobs = cluster_run["jobs"]
    assert len(jobs) > 40
    failed = [job for job in jobs if job["state"] != "COMPLETED"]
    assert [job["id"] for job in failed] == [cluster_run["interrupted"]], failed
    rules = {job["rule"] for job in jobs}
    assert {"ingest", "dedup_signatures", "pretrain_candidate", "finetune_sweep", "topk_accuracy"} <= rules


def test_gpu_rules_run_on_the_gpu_partition_with_one_gpu_and_cpu_rules_on_the_cpu_partition(cluster_run):
    for job in cluster_run["jobs"]:
        if job["rule"] in GPU_RULES:
            assert job["partition"] == os.environ["TWEETBERT_GPU_PARTITION"], job
            assert "gres/gpu=1" in job["tres"], job
        else:
            assert job["partition"] == os.environ["TWEETBERT_PARTITION"], job
            assert "gres/gpu" not in job["tres"], job


def test_each_job_asks_for_the_cpus_of_its_threads(cluster_run):
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    # The profile's set-threads (8 per GPU job, 32 for dedup signatures, ...) capped by --max-threads on this
    # machine; 1 for every other rule (the demo's base-model builder runs on one thread, so its weights do not
    # depend on the machine).
    threads = profile["set-threads"]
    for job in cluster_run["jobs"]:
        assert int(job["cpus"]) == min(MAX_THREADS, threads.get(job["rule"], 1)), job


def test_the_interrupted_pretraining_job_was_retried_and_resumed_from_its_checkpoint(cluster_run):
    interrupted = next(job for job in cluster_run["jobs"] if job["id"] == cluster_run["interrupted"])
    assert interrupted["rule"] == "pretrain_candidate"
    run = interrupted["comment"].removeprefix(PRETRAIN_COMMENT)
    retries = [job for job in cluster_run["jobs"] if job["comment"] == interrupted["comment"] and job is not interrupted]
    assert [job["state"] for job in retries] == ["COMPLETED"]
    log = (cluster_run["workdir"] / "logs" / RUN_NAME / "pretrain_candidate" / f"{run}.log").read_text()
    assert "resuming from" in log, log[-3000:]
    metrics = json.loads((cluster_run["workdir"] / "results" / RUN_NAME / "pretrain" / "runs" / run /
                          "metrics.json").read_text())
    assert metrics["optimizer_steps"] > 0


def test_the_run_ends_with_every_target_present(cluster_run):
    workdir = cluster_run["workdir"]
    results = workdir / "results" / RUN_NAME
    for target in ("corpus/tune_dedup.tsv", "pretrain/candidates.tsv", "selection/best_model.json",
                   "analysis/topk/topk.png", "analysis/probes/tsne.png", "analysis/downstream/downstream.html"):
        assert (results / target).stat().st_size > 0, target
    check = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
                            "--directory", str(workdir), "--configfile", str(workdir / "config.yaml"),
                            "--cores", "1", "-n"], capture_output=True, text=True, cwd=workdir, check=False)
    assert "Nothing to be done" in check.stdout + check.stderr, check.stdout[-3000:]


def test_a_study_spanning_two_jobs_on_postgresql_ran_both_on_gpus_and_finished_exactly_its_trials(
        postgres_study_run):
    jobs = postgres_study_run["jobs"]
    assert sorted(job["rule"] for job in jobs) == ["finetune_sweep", "finetune_sweep_peer"], jobs
    for job in jobs:
        assert job["state"] == "COMPLETED" and job["partition"] == os.environ["TWEETBERT_GPU_PARTITION"], job
        assert "gres/gpu=1" in job["tres"], job
    finished = [t for t in postgres_study_run["trials"] if t.state in FINISHED]
    assert len(finished) == 4 and len({tuple(sorted(t.params.items())) for t in finished}) == 4
    assert {t.user_attrs["worker"] for t in finished} <= {"j0w0", "j1w0"}
    study_dir = postgres_study_run["study_dir"]
    assert json.loads((study_dir / "best.json").read_text())["trial"] == postgres_study_run["best_trial"]
    assert json.loads((study_dir / "jobs" / "j1.json").read_text())["study"] == "base/sentiment3"


def test_cluster_usage_counts_each_rules_jobs_and_hours_as_sacct_records_them(cluster_run, tmp_path):
    from collections import Counter

    import pandas as pd

    tweetbert = shutil.which("tweetbert", path=str(Path(sys.executable).parent)) or "tweetbert"
    table_path = tmp_path / "usage.tsv"
    run = subprocess.run([tweetbert, "cluster-usage", "--run-id", run_uuid(cluster_run["output"]),
                          "--table", str(table_path), "--html", str(tmp_path / "usage.html"),
                          "--plot", str(tmp_path / "usage.png")],
                         check=False, cwd=cluster_run["workdir"], env=snakemake_env(), capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    table = pd.read_csv(table_path, sep="\t").set_index("rule")
    jobs = cluster_run["jobs"]
    assert table["jobs"].to_dict() == dict(Counter(job["rule"] for job in jobs))
    attempts = Counter((job["rule"], job["comment"]) for job in jobs)
    assert table["retries"].to_dict() == {rule: sum(n - 1 for (r, _), n in attempts.items() if r == rule)
                                          for rule in table.index}
    if cluster_run["interrupted"] is not None:
        assert table.loc["pretrain_candidate", "retries"] >= 1
    for rule, row in table.iterrows():
        assert (row["gpu_hours"] > 0) if rule in GPU_RULES else (row["gpu_hours"] == 0), (rule, row.to_dict())
        assert 0 <= row["cpu_efficiency"] <= 1.5, (rule, row.to_dict())
        assert row["cpu_hours"] > 0 and row["req_mem_mb"] > 0, (rule, row.to_dict())
    assert (tmp_path / "usage.html").stat().st_size > 0 and (tmp_path / "usage.png").stat().st_size > 0


# The outputs of the rules the Snakefile declares `localrules:`, one each: a rule added there needs one here.
LOCAL_RULE_OUTPUTS = {"results_at_a_glance": "glance.html", "select_best": "selection/best_model.json",
                      "downstream": "analysis/downstream/downstream.html",
                      "pretrain_exploration": "pretrain/candidates.tsv",
                      "pretrain_loss_curves": "pretrain/loss_curves.png",
                      "pretrain_cost": "pretrain/cost/cost.tsv",
                      "study_plots": "finetune/studies/base/sentiment3/history.png",
                      "trial_counts": "finetune/studies/trial_counts.tsv",
                      "acceptability_report": "analysis/acceptability/summary.json",
                      "demo_annotations": "demo/annotations/sheet.csv"}


def declared_local_rules() -> set[str]:
    """The rules of the Snakefile's `localrules:` block (snakefmt writes one per indented line)."""
    block = (REPO / "Snakefile").read_text().split("\nlocalrules:\n", 1)[1]
    names = set()
    for line in block.splitlines():
        if not line.startswith((" ", "\t")):
            break
        names.update(name.strip() for name in line.split("#")[0].split(",") if name.strip())
    return names


def test_the_local_rules_ran_where_snakemake_runs_without_an_sbatch(cluster_run):
    local = declared_local_rules()
    assert local == set(LOCAL_RULE_OUTPUTS)
    assert not local & {job["rule"] for job in cluster_run["jobs"]}, "a local rule was submitted to SLURM"
    results = cluster_run["workdir"] / "results" / RUN_NAME
    for rule, output in LOCAL_RULE_OUTPUTS.items():
        headers = {line.strip() for line in cluster_run["output"].splitlines()}
        assert {f"localrule {rule}:", f"localcheckpoint {rule}:"} & headers, rule
        assert (results / output).stat().st_size > 0, (rule, output)
