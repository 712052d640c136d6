"""What the workflow plans for a config, checked with dry runs: every setting reaches the jobs it concerns."""

import json
import shlex

import pytest
import yaml
from dry_run import REPO, SNAKEMAKE, demo_config, dry_run, planned_jobs, touch

pytestmark = pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")


def test_every_learning_rate_of_a_grid_trains_as_its_own_candidate(tmp_path):
    config = demo_config()
    config["pretrain"]["grids"] = [{"corpus": ["dedup"], "learning_rate": [2.5e-4, 3e-4, 1.5e-4], "epochs": [1]}]
    jobs = [job for job in dry_run(tmp_path, config) if job.rule == "pretrain_candidate"]
    trained = {}
    for job in jobs:
        words = shlex.split(job.command)
        run = words[words.index("--name") + 1]
        assert words[words.index("--output-model") + 1].endswith(f"/runs/{run}/model")
        trained[run] = json.loads(words[words.index("--settings") + 1])["learning_rate"]
    assert trained == {"dedup-lr1.5e-04-wd0.03-ep1-b1_0.9-b2_0.999-eps1e-08": 1.5e-4,
                       "dedup-lr2.5e-04-wd0.03-ep1-b1_0.9-b2_0.999-eps1e-08": 2.5e-4,
                       "dedup-lr3e-04-wd0.03-ep1-b1_0.9-b2_0.999-eps1e-08": 3e-4}


def test_a_candidate_is_fine_tuned_from_the_declared_output_of_the_run_that_makes_it(tmp_path):
    jobs = dry_run(tmp_path, demo_config())  # epoch checkpoints: the demo's ep1 candidates are epochs of ep2 runs
    run = "dedup-lr5e-04-wd0.03-ep2-b1_0.9-b2_0.999-eps1e-08"
    pretrain = next(job for job in jobs if job.rule == "pretrain_candidate" and f"--name {run}" in job.command)
    epochs = f"results/dry/pretrain/runs/{run}/epochs"
    assert f"{epochs}," in pretrain.text or f"{epochs}\n" in pretrain.text  # an output of the run's own job
    for candidate, model, declared in ((run.replace("-ep2-", "-ep1-"), f"{epochs}/epoch-1", epochs),
                                       (run, f"results/dry/pretrain/runs/{run}/model",
                                        f"results/dry/pretrain/runs/{run}/model")):
        sweep = next(job for job in jobs if job.rule == "finetune_sweep" and f"--name {candidate} " in job.command)
        inputs = next(line for line in sweep.text.splitlines() if line.startswith("input:"))
        assert declared in inputs.split(": ", 1)[1].split(", ") and "metrics.json" not in inputs
        assert shlex.split(sweep.command)[shlex.split(sweep.command).index("--model") + 1] == model
    table = next(job for job in jobs if job.rule == "pretrain_exploration")
    assert f"--epoch-models {run}={epochs}" in table.command and epochs in table.text.splitlines()[0]


def test_a_new_dedup_threshold_rebands_without_recomputing_signatures(tmp_path):
    config = demo_config("dedup")
    config["raw"]["path"] = "tweets.jsonl"
    (tmp_path / "tweets.jsonl").touch()
    corpus = tmp_path / "results" / "dedup" / "corpus"
    for shard in range(config["dedup"]["shards"]):
        (corpus / "dedup" / "signatures" / f"shard-{shard}").mkdir(parents=True)
    (corpus / "dedup" / "links").mkdir()
    made = ["raw.parquet", "ingest.json", "normalized.parquet", "normalize.json", "dedup_annotated.parquet",
            "dedup.json", *(f"dedup/links/group-{group}.npy" for group in range(config["dedup"]["band_groups"]))]
    for name in made:
        (corpus / name).touch()
    target = "results/dedup/corpus/dedup_annotated.parquet"
    touch(tmp_path, config, target)
    assert dry_run(tmp_path, config, target) == []
    config["dedup"]["threshold"] = 0.3
    assert {job.rule for job in dry_run(tmp_path, config, target)} == {"dedup_bands", "dedup"}
    config["dedup"]["num_perm"] = 64
    assert {job.rule for job in dry_run(tmp_path, config, target)} == {"dedup_signatures", "dedup_bands", "dedup"}


@pytest.mark.parametrize("batch_size", [32, "auto"])
def test_a_configured_max_seq_length_replaces_the_histogram_choice(tmp_path, batch_size):
    config = demo_config()
    config["pretrain"]["fixed"].update(max_seq_length=64, batch_size=batch_size)
    jobs = [job for job in planned_jobs(tmp_path, config) if job.rule in ("pretrain_candidate", "calibrate_batch_size")]
    assert jobs and all("--max-seq-length 64 " in job.command for job in jobs)
    assert not any("max_seq_length.json" in job.command for job in jobs)


def test_per_split_wrime_files_are_inputs_and_reach_the_cli_as_one_mapping(tmp_path):
    import yaml

    files = {split: f"wrime {split}.tsv" for split in ("train", "dev", "test")}
    for name in files.values():
        (tmp_path / name).touch()
    config = demo_config()
    config["tasks"]["wrime_emotion"] = {"path": files}
    config["target_tasks"] = ["wrime_emotion"]
    jobs = [job for job in planned_jobs(tmp_path, config) if job.rule == "finetune_sweep" and "/wrime_emotion/" in job.text]
    assert jobs
    for job in jobs:
        words = shlex.split(job.command)
        options = [words[i + 1] for i, word in enumerate(words) if word == "--task-option"]
        path = next(option.split("=", 1)[1] for option in options if option.startswith("path="))
        assert yaml.safe_load(path) == files


def test_the_scale_config_plans_the_corpus_half_with_the_studys_shards_and_no_model(tmp_path):
    config = yaml.safe_load((REPO / "configs" / "scale.yaml").read_text(encoding="utf-8"))
    targets = [f"results/scale/corpus/{corpus}/split.parquet" for corpus in ("dedup", "balanced")] + [
        "results/scale/corpus/stats/summary.tsv"] + [
        f"results/scale/tokenizer/{corpus}/max_seq_length.json" for corpus in ("dedup", "balanced")]
    jobs = dry_run(tmp_path, config, *targets)
    rules = [job.rule for job in jobs]
    assert rules.count("dedup_signatures") == 32 and rules.count("dedup_bands") == 7
    assert rules.count("train_tokenizer") == rules.count("length_histogram") == 2
    assert not set(rules) & {"build_base_model", "migrate_embeddings", "pretrain_candidate", "finetune_sweep"}
    for job in jobs:
        if job.rule in ("normalize", "train_tokenizer"):
            assert "--workers 1" in job.command, job.command  # the job's threads, capped by --cores 1


def test_the_thesis_config_tokenises_each_corpus_once_for_its_111_pretraining_runs(tmp_path):
    config = yaml.safe_load((REPO / "configs" / "thesis.yaml").read_text(encoding="utf-8"))
    for path in ("resources/tweets.parquet", "resources/template_posts.parquet", "resources/control_tweets.parquet",
                 "resources/jts1k.csv", "resources/jtdd.csv", "resources/jtbr.csv", "resources/wrime-ver2.tsv"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).touch()
    for task in ("marc_ja", "jsts", "jcola", "jnli", "jsquad", "jcommonsenseqa"):
        (tmp_path / "resources" / "jglue" / task).mkdir(parents=True)
    jobs = dry_run(tmp_path, config, "results/thesis/pretrain/candidates.tsv")
    tokenize = [job for job in jobs if job.rule == "tokenize_corpus"]
    pretrain = [job for job in jobs if job.rule == "pretrain_candidate"]
    assert sorted(shlex.split(job.command)[shlex.split(job.command).index("--output") + 1] for job in tokenize) == [
        "results/thesis/pretrain/tokens/balanced", "results/thesis/pretrain/tokens/dedup"]
    assert len(pretrain) == 111
    for job in pretrain:  # every run reads its corpus's token data and never the corpus itself
        words = shlex.split(job.command)
        assert words[words.index("--tokens") + 1].startswith("results/thesis/pretrain/tokens/")
        assert "split.parquet" not in job.text and "--corpus" not in words
