"""Same config and seed => byte-identical data outputs, through the CLI every rule calls."""

from pathlib import Path

from tweetbert.cli import main

STAGES = [
    "demo-data --out-dir {d}/demo --seed 7 --n-tweets 2500",
    "ingest --input {d}/demo/tweets.jsonl --output {d}/raw.parquet --stats {d}/ingest.json",
    "normalize --input {d}/raw.parquet --output {d}/normalized.parquet --stats {d}/normalize.json",
    "dedup-signatures --corpus {d}/normalized.parquet --output {d}/sig-0 --shards 2 --shard 0 --workers 2",
    "dedup-signatures --corpus {d}/normalized.parquet --output {d}/sig-1 --shards 2 --shard 1 --workers 1",
    "dedup-bands --signatures {d}/sig-0 {d}/sig-1 --output {d}/links-0.npy --groups 2 --group 0",
    "dedup-bands --signatures {d}/sig-0 {d}/sig-1 --output {d}/links-1.npy --groups 2 --group 1",
    ("dedup --corpus {d}/normalized.parquet --signatures {d}/sig-0 {d}/sig-1 --links {d}/links-0.npy {d}/links-1.npy"
     " --output {d}/dedup.parquet --stats {d}/dedup.json"),
    "balance --input {d}/dedup.parquet --output {d}/balanced.parquet --stats {d}/balance.json --max-per-user 10",
    ("split --corpus {d}/balanced.parquet --annotated {d}/dedup.parquet --signatures {d}/sig-0 {d}/sig-1"
     " --output {d}/split.parquet --stats {d}/split.json --table {d}/split.tsv --table-html {d}/split.html"),
]


def run_pipeline(directory: Path) -> None:
    for stage in STAGES:
        assert main(stage.format(d=directory).split()) == 0, stage


def test_the_corpus_stages_write_byte_identical_files_for_the_same_seed(tmp_path):
    run = tmp_path / "run"
    run_pipeline(run)
    first = run.rename(tmp_path / "first")
    run_pipeline(run)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert len(files) > 20
    for name in files:
        assert (first / name).read_bytes() == (run / name).read_bytes(), name
