"""cluster-usage: sacct's records of a SLURM run, per rule, from recorded `sacct -P` output (no cluster needed)."""

import math
import os
import stat

import pandas as pd
import pytest

from tweetbert.analysis.cluster_usage import (
    SACCT_FIELDS,
    default_since,
    gpu_count,
    latest_cluster_log,
    parse_memory_mb,
    parse_seconds,
    read_sacct,
    requested_mb,
    run_id_in_log,
    select_jobs,
    usage_table,
)
from tweetbert.cli import main
from tweetbert.errors import CheckFailed, InputError

RUN = "3f2c7a6e-1b2d-4c5e-9f00-aa11bb22cc33"
GPU_TRES = "billing=8,cpu=8,gres/gpu:a100=1,gres/gpu=1,mem=62.50G,node=1"
STEP_TRES = "cpu=8,gres/gpu:a100=1,gres/gpu=1,mem=62.50G,node=1"
# `sacct -P -n --format=JobIDRaw,JobName,State,AllocCPUS,AllocTRES,ReqMem,NNodes,MaxRSS,Elapsed,Timelimit,TotalCPU,
# Comment` as SLURM 22.05 writes it: allocation rows, then their .batch/.extern/.0 steps (which alone carry MaxRSS).
# Job 102 ran out of time and 103 is its retry; 105 has an older SLURM's per-CPU ReqMem and no time limit; 107 was
# cancelled, 108 never started; 200 belongs to another run.
SACCT = f"""\
101|{RUN}|COMPLETED|1|billing=1,cpu=1,mem=6000M,node=1|6000M|1||00:10:00|04:00:00|08:00.000|rule_ingest
101.batch|batch|COMPLETED|1|cpu=1,mem=6000M,node=1||1|1536000K|00:10:00||00:20.500|
101.extern|extern|COMPLETED|1|billing=1,cpu=1,mem=6000M,node=1||1|1000K|00:10:00||00:00:00|
101.0|python|COMPLETED|1|cpu=1,mem=6000M,node=1||1|2G|00:09:50||07:39.500|
102|{RUN}|TIMEOUT|8|{GPU_TRES}|62.50G|1||1-00:00:04|1-00:00:00|2-16:00:00|rule_pretrain_candidate_wildcards_dedup-ep1
102.batch|batch|CANCELLED|8|{STEP_TRES}||1|30.25G|1-00:00:05||2-16:00:00|
102.extern|extern|COMPLETED|8|{GPU_TRES}||1|0|1-00:00:04||00:00:00|
103|{RUN}|COMPLETED|8|{GPU_TRES}|62.50G|1||06:00:00|1-00:00:00|1-00:00:00|rule_pretrain_candidate_wildcards_dedup-ep1
103.batch|batch|COMPLETED|8|{STEP_TRES}||1|31000M|06:00:00||1-00:00:00|
104|{RUN}|COMPLETED|8|{GPU_TRES}|62.50G|1||20:00:00|1-00:00:00|3-08:00:00|rule_pretrain_candidate_wildcards_balanced-ep1
104.batch|batch|COMPLETED|8|{STEP_TRES}||1|28G|20:00:00||3-08:00:00|
105|{RUN}|COMPLETED|2|billing=2,cpu=2,node=1|4000Mc|1||00:05:30|UNLIMITED|09:30.250|rule_tune_dedup
105.batch|batch|COMPLETED|2|cpu=2,node=1||1|512000K|00:05:30||09:30.250|
105.extern|extern|COMPLETED|2|cpu=2,node=1||1|1048576|00:05:30||00:00:00|
106|{RUN}|COMPLETED|2|billing=2,cpu=2,mem=7000M,node=1|7000Mn|1||00:03:00|04:00:00|05:24.000|rule_dedup_signatures_wildcards_0
106.batch|batch|COMPLETED|2|cpu=2,mem=7000M,node=1||1|6800M|00:03:00||05:24.000|
107|{RUN}|CANCELLED by 0|2|billing=2,cpu=2,mem=7000M,node=1|7000M|1||00:01:00|04:00:00|00:30.000|rule_dedup_signatures_wildcards_1
107.batch|batch|CANCELLED|2|cpu=2,mem=7000M,node=1||1|100M|00:01:00||00:30.000|
108|{RUN}|PENDING|0||7000M|1||00:00:00|04:00:00|00:00:00|rule_dedup_signatures_wildcards_2
200|0c5a1e9e-0000-4000-8000-000000000000|COMPLETED|1|billing=1,cpu=1,node=1|6000M|1||01:00:00|04:00:00|50:00.000|rule_ingest
200.batch|batch|COMPLETED|1|cpu=1,node=1||1|99G|01:00:00||50:00.000|
"""
HOUR = 3600


def _table(text=SACCT, **selection):
    return usage_table(select_jobs(read_sacct(text, "sacct.txt"), **selection)).set_index("rule")


@pytest.mark.parametrize(("text", "seconds"), [
    ("00:14.666", 14.666), ("04:00:00", 4 * HOUR), ("1-00:00:04", 24 * HOUR + 4), ("2-16:00:00", 64 * HOUR),
    ("30:00", 1800), ("UNLIMITED", None), ("Partition_Limit", None), ("", None)])
def test_durations_are_read_in_every_sacct_form(text, seconds):
    assert parse_seconds(text) == (pytest.approx(seconds) if seconds is not None else None)


@pytest.mark.parametrize(("text", "bare", "megabytes"), [
    ("526020K", "B", 526020 / 1024), ("62.50G", "M", 64000), ("16000M", "M", 16000), ("1048576", "B", 1.0),
    ("16000", "M", 16000), ("0", "B", 0.0), ("", "B", None)])
def test_memory_is_read_in_mb_whatever_its_unit(text, bare, megabytes):
    assert parse_memory_mb(text, bare=bare) == (pytest.approx(megabytes) if megabytes is not None else None)


def test_older_per_cpu_and_per_node_requests_count_for_the_whole_job():
    assert requested_mb("4000Mc", cpus=2, nodes=1) == 8000
    assert requested_mb("16Gn", cpus=8, nodes=2) == 32768
    assert requested_mb("16000M", cpus=8, nodes=2) == 16000


def test_gpus_come_from_the_untyped_gres_entry_else_the_typed_ones():
    assert gpu_count(GPU_TRES) == 1
    assert gpu_count("cpu=4,gres/gpu:a100=2,node=1") == 2
    assert gpu_count("billing=2,cpu=2,node=1") == 0


def test_one_row_per_rule_of_the_run_with_its_hours_efficiency_memory_and_time():
    table = _table(run_id=RUN)
    assert list(table.index) == ["pretrain_candidate", "tune_dedup", "ingest", "dedup_signatures"]
    assert table["jobs"].to_dict() == {"pretrain_candidate": 3, "tune_dedup": 1, "ingest": 1, "dedup_signatures": 3}

    pretrain = table.loc["pretrain_candidate"]
    elapsed = (24 * HOUR + 4) + 6 * HOUR + 20 * HOUR
    assert pretrain["retries"] == 1 and pretrain["not_completed"] == "TIMEOUT 1"
    assert pretrain["gpu_hours"] == pytest.approx(elapsed / HOUR)
    assert pretrain["cpu_hours"] == pytest.approx(8 * elapsed / HOUR)
    assert pretrain["cpu_efficiency"] == pytest.approx((64 + 24 + 80) * HOUR / (8 * elapsed))
    assert pretrain["peak_mem_mb"] == 31000 and pretrain["req_mem_mb"] == 64000  # the steps' MaxRSS, not the main row
    assert pretrain["peak_mem_share"] == pytest.approx(31000 / 64000)
    assert pretrain["max_elapsed_min"] == pytest.approx((24 * HOUR + 4) / 60) and pretrain["time_limit_min"] == 1440
    assert pretrain["peak_time_share"] == pytest.approx((24 * HOUR + 4) / (24 * HOUR))

    ingest = table.loc["ingest"]  # job 200 of the other run (99G, an hour) is not counted
    assert ingest["gpu_hours"] == 0 and ingest["cpu_hours"] == pytest.approx(600 / HOUR)
    assert ingest["cpu_efficiency"] == pytest.approx(480 / 600)
    assert ingest["peak_mem_mb"] == 2048 and ingest["peak_mem_share"] == pytest.approx(2048 / 6000)
    assert ingest["peak_time_share"] == pytest.approx(600 / (4 * HOUR)) and ingest["retries"] == 0

    tune = table.loc["tune_dedup"]
    assert tune["req_mem_mb"] == 8000 and tune["peak_mem_mb"] == 500 and tune["cpu_hours"] == pytest.approx(660 / HOUR)
    assert tune["cpu_efficiency"] == pytest.approx(570.25 / 660)
    assert math.isnan(tune["time_limit_min"]) and math.isnan(tune["peak_time_share"])  # UNLIMITED: no share

    signatures = table.loc["dedup_signatures"]
    assert signatures["retries"] == 0 and signatures["not_completed"] == "CANCELLED 1, PENDING 1"
    assert signatures["cpu_hours"] == pytest.approx((180 + 60) * 2 / HOUR) and signatures["peak_mem_mb"] == 6800


def test_jobs_are_selected_by_comment_prefix_where_no_run_is_named():
    table = _table(comment_prefix="rule_ingest")
    assert table["jobs"].to_dict() == {"ingest": 2}
    assert table.loc["ingest", "peak_mem_mb"] == 99 * 1024


def test_a_saved_file_with_a_header_may_list_its_fields_in_any_order():
    fields = ["Comment", *reversed(SACCT_FIELDS[:-1])]
    lines = ["|".join(fields)]
    for line in SACCT.splitlines():
        values = line.split("|")
        lines.append("|".join([values[-1], *reversed(values[:-1])]) + "|")  # -p: a trailing delimiter
    pd.testing.assert_frame_equal(_table("\n".join(lines), run_id=RUN), _table(run_id=RUN))


def test_a_file_without_the_needed_fields_or_with_a_short_row_is_located():
    with pytest.raises(InputError, match="without the field.*AllocTRES"):
        read_sacct("JobID|JobName|State\n1|x|COMPLETED\n", "saved.txt")
    with pytest.raises(InputError, match=r"saved.txt, row 2: 3 fields"):
        read_sacct(SACCT.splitlines()[0] + "\n1|2|3\n", "saved.txt")


def _log(directory, name, *lines):
    path = directory / f"{name}.snakemake.log"
    path.write_text("\n".join(["Building DAG of jobs...", *lines]) + "\n")
    return path


@pytest.fixture()
def logs(tmp_path):
    """A workflow directory's .snakemake/log: two cluster runs, then a SLURM-profile run that submitted nothing (as
    `snakemake --profile profiles/slurm cluster_usage` itself is) and a local run."""
    directory = tmp_path / ".snakemake" / "log"
    directory.mkdir(parents=True)
    submitted = "Job 3 has been submitted with SLURM jobid 101 (log: .snakemake/slurm_logs/rule_ingest/101.log)."
    _log(directory, "2026-01-10T090000.000001", "SLURM run ID: 0c5a1e9e-0000-4000-8000-000000000000", submitted)
    _log(directory, "2026-01-11T093015.123456", f"SLURM run ID: {RUN}", submitted)
    _log(directory, "2026-01-12T080000.000001", "SLURM run ID: 9d9d9d9d-1111-4222-8333-444444444444",
         "localrule cluster_usage:")
    _log(directory, "2026-01-13T080000.000001", "localrule all:")
    return directory


def test_the_run_id_comes_from_the_newest_log_of_a_run_that_submitted_jobs(logs):
    path = latest_cluster_log(logs)
    assert path.name.startswith("2026-01-11T093015")
    assert run_id_in_log(path) == RUN
    assert default_since(path) == "2026-01-11T09:30:15"


def test_no_cluster_log_is_a_clear_error(tmp_path):
    _log(tmp_path, "2026-01-13T080000.000001", "localrule all:")
    with pytest.raises(InputError, match="no snakemake log .* of a run that submitted SLURM jobs"):
        latest_cluster_log(tmp_path)


def _outputs(tmp_path):
    return ["--table", str(tmp_path / "out" / "usage.tsv"), "--html", str(tmp_path / "out" / "usage.html")]


def test_the_stage_reads_a_saved_sacct_file_for_the_run_of_the_newest_log(tmp_path, logs, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sacct.txt").write_text(SACCT)
    plot = tmp_path / "out" / "usage.png"
    assert main(["cluster-usage", "--sacct-file", "sacct.txt", "--snakemake-log", str(latest_cluster_log(logs)),
                 *_outputs(tmp_path), "--plot", str(plot)]) == 0
    table = pd.read_csv(tmp_path / "out" / "usage.tsv", sep="\t")
    assert table["rule"].tolist() == ["pretrain_candidate", "tune_dedup", "ingest", "dedup_signatures"]
    page = (tmp_path / "out" / "usage.html").read_text()
    assert f"run {RUN}" in page and "8 SLURM jobs, 1 retries" in page
    assert plot.stat().st_size > 0 and "pretrain_candidate" in capsys.readouterr().out


def _fake_sacct(tmp_path, monkeypatch, output):
    """A `sacct` on PATH that records its arguments and prints ``output``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "sacct.out").write_text(output)
    script = bin_dir / "sacct"
    script.write_text(f'#!/bin/sh\necho "$@" > {tmp_path / "sacct.args"}\ncat {tmp_path / "sacct.out"}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path / "sacct.args"


def test_sacct_is_asked_for_the_run_since_its_log_began(tmp_path, logs, monkeypatch):
    monkeypatch.chdir(tmp_path)
    arguments = _fake_sacct(tmp_path, monkeypatch, SACCT)
    assert main(["cluster-usage", *_outputs(tmp_path)]) == 0
    words = arguments.read_text().split()
    assert words[:2] == ["-P", "-n"] and words[words.index("-S") + 1] == "2026-01-11T09:30:15"
    assert words[words.index("--name") + 1] == RUN
    assert pd.read_csv(tmp_path / "out" / "usage.tsv", sep="\t")["jobs"].sum() == 8


def test_no_matching_job_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _fake_sacct(tmp_path, monkeypatch, "")
    assert main(["cluster-usage", "--run-id", RUN, *_outputs(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"tweetbert cluster-usage: error: no SLURM jobs of run {RUN} in sacct's records" in err
    assert "Traceback" not in err and not (tmp_path / "out" / "usage.tsv").exists()
    with pytest.raises(CheckFailed):
        from tweetbert.analysis.cluster_usage import write_usage

        write_usage([], "run x", {"table": tmp_path / "t.tsv", "html": tmp_path / "t.html"})


def test_missing_sacct_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH: no sacct
    assert main(["cluster-usage", "--run-id", RUN, *_outputs(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "tweetbert cluster-usage: error: sacct: not found on PATH" in err and len(err.strip().splitlines()) == 1
