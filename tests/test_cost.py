"""GPU-hour projection (`tweetbert plan`) and the measured cost of a run (`tweetbert pretrain-cost`)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest

from tweetbert.analysis.cost import benchmark_seconds, cost_table, read_run
from tweetbert.cli import main
from tweetbert.config import load_config, validate_config
from tweetbert.demo import task_specs  # noqa: F401  (registers the demo's tasks)
from tweetbert.errors import ConfigError
from tweetbert.modeling.candidates import Candidate
from tweetbert.modeling.cost import mean_epochs, planned_runs, pretrain_run_cost, project, sweep_hours
from tweetbert.modeling.cost_inputs import (
    DEFAULT_TOKENS_PER_TEXT,
    REFERENCE_RAW_TWEETS,
    CorpusSize,
    TaskSize,
    corpus_size,
    pretrain_batch_size,
    raw_tweets,
    task_size,
    throughput,
)

REPO = Path(__file__).resolve().parents[1]
CORPUS = CorpusSize("dedup", train_texts=1000, validation_texts=100, texts_source="test", tokens_per_text=30.0,
                    tokens_source="test")
FIXED = {"eval_every": 10, "eval_examples": None, "save_every": 5, "save_every_minutes": None,
         "epoch_checkpoints": False}


@pytest.fixture(scope="module")
def demo() -> dict:
    return load_config(REPO / "config.yaml")


@pytest.fixture(scope="module")
def thesis() -> dict:
    return load_config(REPO / "configs" / "thesis.yaml")


def _with(config: dict, **pretrain_fixed) -> dict:
    config = copy.deepcopy(config)
    config["pretrain"]["fixed"].update(pretrain_fixed)
    return config


# --- projection arithmetic ---------------------------------------------------------------------------------------

def test_doubling_epochs_doubles_training_and_checkpoints_and_about_doubles_a_run():
    one = pretrain_run_cost(1, CORPUS, 10, FIXED, tokens_per_second=100.0, checkpoint_seconds=5.0)
    two = pretrain_run_cost(2, CORPUS, 10, FIXED, tokens_per_second=100.0, checkpoint_seconds=5.0)
    assert one.training == pytest.approx(1000 * 30 / 100 / 3600)
    assert two.training == pytest.approx(2 * one.training)
    assert one.checkpointing == pytest.approx(100 // 5 * 5.0 / 3600)  # 100 steps, every 5th saves, 5 s each
    assert two.checkpointing == pytest.approx(2 * one.checkpointing)
    assert two.total / one.total == pytest.approx(2, rel=0.05)  # validation: one start-up evaluation per run


def test_validation_scores_eval_examples_texts_at_start_every_eval_every_steps_and_each_epoch_end():
    whole = pretrain_run_cost(1, CORPUS, 10, FIXED, tokens_per_second=100.0, checkpoint_seconds=5.0)
    evaluations = 1 + 1 + 100 // 10
    assert whole.validation == pytest.approx(evaluations * 100 * 30 / 3 / 100 / 3600)
    sampled = pretrain_run_cost(1, CORPUS, 10, {**FIXED, "eval_examples": 10}, 100.0, 5.0)
    assert sampled.validation == pytest.approx(whole.validation / 10)
    assert sampled.training == whole.training
    before_the_key = {key: value for key, value in FIXED.items() if key != "eval_examples"}
    assert pretrain_run_cost(1, CORPUS, 10, before_the_key, 100.0, 5.0) == whole


def test_checkpoints_by_the_clock():
    fixed = {**FIXED, "save_every": None, "save_every_minutes": 6}
    cost = pretrain_run_cost(1, CORPUS, 10, fixed, tokens_per_second=1000 * 30 / 3600, checkpoint_seconds=36.0)
    assert cost.training == pytest.approx(1.0)
    assert cost.checkpointing == pytest.approx(10 * 36 / 3600)  # one hour of training, a checkpoint every 6 min


def test_a_sweep_is_trials_times_epochs_of_train_plus_scored_splits_at_a_third():
    task = TaskSize("t", {"train": 100, "validation": 10, "dev": 20, "test": 30}, "test", 10.0, "test")
    seconds = 2 * (3 * 100 + (1 * 3 * 10 + 20) / 3) * 10 + 30 * 10 / 3
    assert sweep_hours(task, n_trials=2, epochs=3, evaluations_per_epoch=1, tokens_per_second=1.0) == pytest.approx(
        seconds / 3600)


@pytest.mark.parametrize(("space", "mean"), [({}, 3.5), ({"epochs": {"low": 2, "high": 4}}, 3.0),
                                             ({"epochs": {"choices": [1, 3]}}, 2.0)])
def test_mean_epochs_of_the_sweep_space(space, mean):
    assert mean_epochs(space) == mean


def test_the_runs_are_those_the_workflow_plans(thesis, demo):
    assert [len(runs) for runs in planned_runs(thesis).values()] == [96, 15]  # 111 runs, README
    assert [len(runs) for runs in planned_runs(demo).values()] == [6, 1]  # 7 runs with epoch checkpoints


def test_the_plan_has_every_gpu_stage_and_more_epochs_cost_more(thesis):
    corpora = {name: CorpusSize(name, 10_000, 500, "test", 30.0, "test") for name in thesis["corpora"]}
    tasks = {name: TaskSize(name, {"train": 100, "validation": 10, "dev": 20, "test": 30}, "test", 30.0, "test")
             for name in thesis["tasks"]}
    batches = {name: (32, "test") for name in thesis["corpora"]}
    speed = throughput(1000.0, None)
    plan = project(thesis, corpora, tasks, batches, speed, (5.0, "test"))
    names = [stage.name for stage in plan.stages]
    assert names == ["pre-training: candidate runs", "pre-training: exploration-only runs",
                     "fine-tuning sweeps: selection", "fine-tuning sweeps: downstream benchmarks",
                     "analysis (probes, top-K)"]
    studies = (96 + len(thesis["controls"])) * 2
    assert plan.stages[2].jobs == studies  # one job per study, its workers inside it
    assert plan.total == pytest.approx(sum(stage.hours for stage in plan.stages))
    longer = copy.deepcopy(thesis)
    for grid in longer["pretrain"]["grids"]:
        grid["epochs"] = [2 * epochs for epochs in grid.get("epochs", [longer["pretrain"]["fixed"]["epochs"]])]
    doubled = project(longer, corpora, tasks, batches, speed, (5.0, "test"))
    assert doubled.stages[0].hours == pytest.approx(2 * plan.stages[0].hours, rel=0.05)
    auto = project(_with(thesis, batch_size="auto"), corpora, tasks, batches, speed, (5.0, "test"))
    assert auto.stages[0].name == "batch-size calibration" and auto.stages[0].jobs == 2


# --- inputs: measured where the stages ran, estimated otherwise --------------------------------------------------

def test_no_throughput_is_an_error_naming_both_options():
    with pytest.raises(ConfigError) as error:
        throughput(None, None)
    assert "--tokens-per-second" in str(error.value) and "--gpu-check" in str(error.value)


def test_gpu_check_json_gives_throughput_and_the_calibrated_batch(tmp_path, demo):
    check = tmp_path / "gpu_check.json"
    check.write_text(json.dumps({"tokens_per_second": 123456.7, "batch_size": 256, "device": "NVIDIA H100"}))
    speed = throughput(None, check)
    assert speed.tokens_per_second == 123456.7 and "NVIDIA H100" in speed.source
    auto = _with(demo, batch_size="auto")
    assert pretrain_batch_size(auto, tmp_path, "dedup", speed)[0] == 256
    assert pretrain_batch_size(auto, tmp_path, "dedup", speed, given=64)[0] == 64
    with pytest.raises(ConfigError, match="pretrain.fixed.batch_size"):
        pretrain_batch_size(auto, tmp_path, "dedup", throughput(1000.0, None))
    assert pretrain_batch_size(demo, tmp_path, "dedup", speed) == (32, "configured (pretrain.fixed.batch_size)")


def test_a_fixed_batch_projects_with_gpu_checks_cell_at_that_batch_not_the_calibrated_one(tmp_path):
    check = tmp_path / "gpu_check.json"
    cells = [{"name": f"batch{b}-compile-{'on' if c else 'off'}", "batch_size": b, "compile": c,
              "steady": {"tokens_per_second": speed}}
             for b, c, speed in ((55, False, 60000.0), (55, True, 90000.0), (256, False, 150000.0))]
    check.write_text(json.dumps({"tokens_per_second": 150000.0, "batch_size": 256, "cells": cells}))
    assert throughput(None, check).tokens_per_second == 150000.0
    assert throughput(None, check, 55).tokens_per_second == 60000.0
    assert throughput(None, check, 55, compiled=True).tokens_per_second == 90000.0
    assert "batch55-compile-off" in throughput(None, check, 55).source
    assert throughput(None, check, 64).tokens_per_second == 150000.0  # no such cell: the calibrated figure


def test_raw_tweets_are_counted_where_the_file_is(tmp_path, demo):
    assert raw_tweets(demo, tmp_path) == (20000, "configured (demo.n_tweets)")
    jsonl, csv, parquet = tmp_path / "t.jsonl", tmp_path / "t.csv", tmp_path / "t.parquet"
    jsonl.write_text('{"id": 1}\n{"id": 2}\n{"id": 3}\n')
    csv.write_text("id,user_id,text\n1,u,a\n2,u,b\n")
    pd.DataFrame({"id": ["1", "2", "3", "4"]}).to_parquet(parquet)
    for path, rows in ((jsonl, 3), (csv, 2), (parquet, 4)):
        config = {**demo, "raw": {**demo["raw"], "path": str(path)}}
        assert raw_tweets(config, tmp_path) == (rows, f"measured: {path} " + (
            "(Parquet metadata)" if path == parquet else "(line count)"))
    missing = {**demo, "raw": {**demo["raw"], "path": str(tmp_path / "absent.parquet")}}
    assert raw_tweets(missing, tmp_path)[0] == REFERENCE_RAW_TWEETS
    assert raw_tweets(missing, tmp_path, given=7) == (7, "given (--raw-tweets)")
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "ingest.json").write_text(json.dumps({"rows_read": 12, "rows_kept": 11}))
    assert raw_tweets(missing, tmp_path)[0] == 11


def test_corpus_sizes_are_estimated_until_the_split_and_tokens_are_measured(tmp_path, demo):
    raw = (20000, "configured")
    estimated = corpus_size(demo, tmp_path, "dedup", raw)
    assert estimated.train_texts == round(20000 * 27.5 / 60 * 0.75)
    assert estimated.texts_source.startswith("estimated")
    assert (estimated.tokens_per_text, estimated.tokens_source.split(":")[0]) == (DEFAULT_TOKENS_PER_TEXT, "assumed")
    split_dir = tmp_path / "corpus" / "dedup"
    split_dir.mkdir(parents=True)
    pd.DataFrame({"split": ["train"] * 6 + ["validation"] * 2 + ["test"]}).to_parquet(split_dir / "split.parquet")
    streamed = corpus_size(demo, tmp_path, "dedup", raw)
    assert (streamed.train_texts, streamed.validation_texts) == (6, 2)
    assert streamed.texts_source == f"measured: {split_dir / 'split.parquet'}"
    (split_dir / "split.json").write_text(json.dumps({"splits": {"train": 700, "validation": 50, "dev": 90,
                                                                 "test": 90}}))
    lengths = tmp_path / "tokenizer" / "dedup" / "lengths.tsv"
    lengths.parent.mkdir(parents=True)
    lengths.write_text("length\ttweets\tcumulative_share\n10\t3\t0.75\n200\t1\t1.0\n")
    measured = corpus_size(_with(demo, max_seq_length=100), tmp_path, "dedup", raw)
    assert (measured.train_texts, measured.validation_texts) == (700, 50)
    assert measured.tokens_per_text == pytest.approx((3 * 10 + 100) / 4)  # cut at the trained length
    tokens = tmp_path / "pretrain" / "tokens" / "dedup" / "tokens.json"
    tokens.parent.mkdir(parents=True)
    tokens.write_text(json.dumps({"splits": {"train": {"texts": 680, "tokens": 17000, "truncated": 0},
                                             "validation": {"texts": 48, "tokens": 1200, "truncated": 0}}}))
    tokenised = corpus_size(demo, tmp_path, "dedup", raw)
    assert (tokenised.train_texts, tokenised.validation_texts, tokenised.tokens_per_text) == (680, 48, 25.0)
    assert tokenised.tokens_source == f"measured: {tokens}"


def test_task_sizes_come_from_a_sweep_the_files_the_published_sizes_or_an_assumption(tmp_path, thesis):
    assert task_size(thesis, tmp_path, "marc_ja", 30.0).examples["test"] == 5_654
    assumed = task_size(thesis, tmp_path, "jts1k", 30.0)
    assert assumed.source.startswith("assumed") and sum(assumed.examples.values()) == 5_000
    assert task_size(thesis, tmp_path, "jcommonsenseqa", 30.0).tokens_per_example == 5 * 22
    assert task_size(thesis, tmp_path, "jsquad", 30.0).tokens_per_example == thesis["sweep"]["max_length"]
    table = tmp_path / "jts1k.csv"
    pd.DataFrame({"text": [f"tweet {i}" for i in range(40)], "label": [i % 2 for i in range(40)]}).to_csv(
        table, index=False)
    config = validate_config({**thesis, "tasks": {**thesis["tasks"], "jts1k": {"path": str(table)}}})
    from_files = task_size(config, tmp_path, "jts1k", 30.0)
    assert sum(from_files.examples.values()) == 40 and from_files.source == f"measured: {table}"
    best = tmp_path / "finetune" / "bert_base_v3" / "jts1k" / "best.json"
    best.parent.mkdir(parents=True)
    best.write_text(json.dumps({"splits": {role: {"examples": n} for role, n in
                                           (("train", 65), ("validation", 5), ("dev", 15), ("test", 15))}}))
    measured = task_size(config, tmp_path, "jts1k", 30.0)
    assert measured.examples == {"train": 65, "validation": 5, "dev": 15, "test": 15}
    assert measured.source == f"measured: {best}"


# --- the CLI -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("config", ["configs/thesis.yaml", "config.yaml"])
def test_plan_prints_the_table_and_writes_json(config, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no results/ and no resources/ here: every size is estimated
    code = main(["plan", "--configfile", str(REPO / config), "--tokens-per-second", "100000", "--json", "plan.json"])
    out = capsys.readouterr().out
    assert code == 0
    assert "pre-training: candidate runs" in out and "total" in out and "estimated" in out
    record = json.loads((tmp_path / "plan.json").read_text())
    assert record["total_gpu_hours"] == pytest.approx(sum(stage["hours"] for stage in record["stages"]))


def test_plan_without_a_throughput_stops_naming_both_options(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["plan", "--configfile", str(REPO / "config.yaml")]) == 2
    err = capsys.readouterr().err
    assert "--tokens-per-second" in err and "--gpu-check" in err and "Traceback" not in err


# --- measured cost -----------------------------------------------------------------------------------------------

RUN = Candidate("dedup", 1e-4, 0.03, 2, 0.9, 0.999, 1e-8)  # epoch checkpoints: its epochs 1 and 2 are candidates
OWN = Candidate("balanced", 1e-4, 0.03, 1, 0.9, 0.999, 1e-8)
EXPLORED = Candidate("dedup", 1e-3, 0.0, 1, 0.9, 0.999, 1e-8)
FIRST_EPOCH = Candidate("dedup", 1e-4, 0.03, 1, 0.9, 0.999, 1e-8)
TIMES = {"loading": 60.0, "training": 3000.0, "validation": 300.0, "checkpointing": 120.0, "other": 120.0}


def _metrics(runs: Path, run: Candidate, times: dict | None, count: int = 1) -> None:
    folder = runs / run.slug
    folder.mkdir(parents=True)
    record = {"wall_seconds": 3600.0, "train_seconds": 3000.0, "tokens_seen": 1000, "tokens_per_second": 0.3,
              "device": "cpu", "settings": {"epochs": run.epochs}, "epochs_completed": run.epochs,
              "optimizer_steps": 10}
    if times is not None:
        record.update(time_seconds=times, time_shares={k: v / 3600 for k, v in times.items()}, device_name="cpu",
                      device_count=count, device_seconds=3600.0 * count)
    (folder / "metrics.json").write_text(json.dumps(record))


def _benchmark(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0:00:00\t1.0\n")


@pytest.fixture
def finished_run(tmp_path) -> Path:
    runs, benchmarks = tmp_path / "pretrain" / "runs", tmp_path / "benchmarks"
    _metrics(runs, RUN, TIMES, count=2)
    _metrics(runs, OWN, TIMES)
    _metrics(runs, EXPLORED, None)  # a run from before the time breakdown: all of it is "other"
    _benchmark(benchmarks / "finetune_sweep" / RUN.slug / "sentiment3" / "w0.tsv", 720.0)
    _benchmark(benchmarks / "finetune_sweep" / "base" / "sentiment3" / "w0.tsv", 360.0)
    _benchmark(benchmarks / "finetune_sweep" / "base" / "jnli" / "w0.tsv", 360.0)
    _benchmark(benchmarks / "calibrate_batch_size" / "dedup.tsv", 36.0)
    _benchmark(benchmarks / "tokenize_corpus" / "dedup.tsv", 999.0)  # a CPU rule: not counted
    ranking = [{"model": RUN.slug, "score": 0.8, "passes_gate": True},
               {"model": FIRST_EPOCH.slug, "score": 0.7, "passes_gate": True},
               {"model": OWN.slug, "score": 0.6, "passes_gate": False}]
    selection = {"model": RUN.slug, "rule": "mean_dev", "score": 0.8, "target_tasks": ["sentiment3"],
                 "ranking": ranking}
    (tmp_path / "best_model.json").write_text(json.dumps(selection))
    return tmp_path


def test_the_cost_table_sums_runs_by_stage_and_adds_the_benchmarked_rules(finished_run):
    runs = [read_run(finished_run / "pretrain" / "runs" / run.slug / "metrics.json") for run in (RUN, OWN, EXPLORED)]
    assert runs[0].seconds["training"] == 6000.0 and runs[0].hours == 2.0  # two GPUs: device-seconds double
    assert runs[2].seconds == {"loading": 0, "training": 0, "validation": 0, "checkpointing": 0, "other": 3600.0}
    phases = {RUN.slug: "candidates", OWN.slug: "candidates", EXPLORED.slug: "exploration"}
    benchmarks = benchmark_seconds(finished_run / "benchmarks", ["sentiment3"])
    assert benchmarks == {"fine-tuning sweeps: selection": (2, 1080.0),
                          "fine-tuning sweeps: downstream benchmarks": (1, 360.0),
                          "batch-size calibration": (1, 36.0)}
    table = cost_table(runs, phases, benchmarks).set_index("item")
    candidates = table.loc["pre-training: candidate runs"]
    assert candidates["jobs"] == 2 and candidates["device_hours"] == pytest.approx(3.0)
    assert candidates["training_h"] == pytest.approx(3 * 3000 / 3600)
    assert table.loc["pre-training: exploration-only runs", "other_h"] == pytest.approx(1.0)
    assert table.loc["fine-tuning sweeps: selection", "device_hours"] == pytest.approx(0.3)
    stages = table.drop(index=["total", RUN.slug, OWN.slug, EXPLORED.slug])
    assert table.loc["total", "device_hours"] == pytest.approx(stages["device_hours"].sum()) == pytest.approx(4.41)
    assert table.loc["total", "jobs"] == 3 + 4
    assert table["share"].loc["total"] == 1.0


def test_pretrain_cost_writes_the_table_and_prices_epoch_checkpoints_pro_rata(finished_run):
    out = finished_run / "cost"
    code = main(["pretrain-cost", "--runs", str(finished_run / "pretrain" / "runs"),
                 "--benchmarks", str(finished_run / "benchmarks"), "--selection", str(finished_run / "best_model.json"),
                 "--candidate", f"{RUN.slug}={RUN.slug}:2", "--candidate", f"{FIRST_EPOCH.slug}={RUN.slug}:1",
                 "--candidate", f"{OWN.slug}={OWN.slug}:1", "--explored", f"{EXPLORED.slug}={EXPLORED.slug}:1",
                 "--table", str(out / "cost.tsv"), "--table-html", str(out / "cost.html"),
                 "--candidates", str(out / "candidates.tsv"), "--plot", str(out / "score_by_cost.png")])
    assert code == 0
    costs = pd.read_csv(out / "candidates.tsv", sep="\t").set_index("model")
    assert costs.loc[RUN.slug, "device_hours"] == pytest.approx(2.0)
    assert costs.loc[FIRST_EPOCH.slug, "device_hours"] == pytest.approx(1.0)  # epoch 1 of a 2-epoch run
    assert costs.loc[FIRST_EPOCH.slug, "setting"] == costs.loc[RUN.slug, "setting"]
    assert costs["selected"].sum() == 1 and costs.loc[RUN.slug, "selected"]
    assert (out / "score_by_cost.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "total" in (out / "cost.html").read_text() and "cpu" in (out / "cost.html").read_text()
    assert pd.read_csv(out / "cost.tsv", sep="\t")["item"].iloc[0] == "total"


def test_the_rule_passes_every_required_option_of_the_cli(capsys):
    with pytest.raises(SystemExit):
        main(["pretrain-cost"])
    required = capsys.readouterr().err.split("the following arguments are required: ")[1].strip().split(", ")
    rule = (REPO / "workflow" / "rules" / "cost.smk").read_text()
    assert len(required) == 7 and all(f"{option} " in rule for option in required)
