"""Config: the schema fills every default and reports a wrong key or value by its dotted name."""

from pathlib import Path

import pytest
import yaml

import tweetbert.demo.task_specs  # noqa: F401  (registers the demo tasks that config.yaml names)
from tweetbert.config import check_input_files, load_config, load_schema, validate_config
from tweetbert.errors import ConfigError


def test_every_schema_key_has_a_description_and_a_default():
    def walk(schema, path):
        for key, sub in schema.get("properties", {}).items():
            assert "description" in sub, f"{path}{key} has no description"
            assert "default" in sub, f"{path}{key} has no default"
            walk(sub, f"{path}{key}.")

    walk(load_schema(), "")


def test_an_empty_config_gets_every_default():
    config = validate_config({})
    assert config["dedup"]["threshold"] == 0.2 and config["dedup"]["ngram"] == 5
    assert config["split"]["ratios"] == {"train": 0.75, "validation": 0.05, "dev": 0.10, "test": 0.10}
    assert config["raw"]["columns"]["text"] == "text"


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"dedup": {"treshold": 0.2}}, "dedup.treshold"),
        ({"dedup": {"threshold": 1.5}}, "dedup.threshold"),
        ({"balance": {"max_per_user": 0}}, "balance.max_per_user"),
        ({"raw": {"on_bad_row": "ignore"}}, "raw.on_bad_row"),
        ({"corpora": ["dedup", "other"]}, "corpora.1"),
        ({"controls": {"bert": "org/bert"}}, "selection.require_beats[0]"),
    ],
)
def test_a_wrong_key_or_value_is_reported_by_name(config, key):
    with pytest.raises(ConfigError) as raised:
        validate_config(config)
    assert raised.value.key == key


def test_the_shipped_demo_config_is_valid(tmp_path):
    config = load_config(Path(__file__).parents[1] / "config.yaml")
    assert config["raw"]["path"] == "demo"
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"seed": -1}))
    with pytest.raises(ConfigError, match="'seed'"):
        load_config(path)


def test_the_full_scale_study_config_is_valid():
    config = load_config(Path(__file__).parents[1] / "configs" / "thesis.yaml")
    assert config["dedup"]["threshold"] == 0.2 and config["balance"]["max_per_user"] == 100
    assert config["tokenizer"]["vocab_size"] == 32000
    assert config["probes"]["max_examples"] == 30000
    assert config["probes"]["evaluation_texts"]["split_column"] == "Train/Dev/Test"
    assert config["probes"]["evaluation_texts"]["split"] == "test"


def test_the_study_draws_five_probe_sets_by_default():
    assert validate_config({})["probes"]["sets"] == {
        "nouns": ["nouns"], "basic": ["hiragana", "katakana"], "basic_emoji": ["hiragana", "katakana", "emoji"],
        "extended": ["romaji", "kanji"], "extended_emoji": ["romaji", "kanji", "emoji"]}


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"split": {"ratios": {"train": 0.8, "test": 0.3}}}, "split.ratios"),
        ({"dedup": {"bands": 20, "rows": 10}}, "dedup.bands"),
        ({"dedup": {"bands": 4}}, "dedup.rows"),
        ({"sweep": {"storage": "redis://localhost/0"}}, "sweep.storage"),
        ({"sweep": {"space": {"learnig_rate": {"low": 1e-5, "high": 1e-4}}}}, "sweep.space.learnig_rate"),
        ({"sweep": {"heartbeat_interval": 10, "grace_period": 5}}, "sweep.grace_period"),
        ({"sweep": {"pruner_warmup_epochs": -1}}, "sweep.pruner_warmup_epochs"),
        ({"tasks": {"jts2k": {"path": "jts.csv"}}}, "tasks.jts2k"),
        ({"tasks": {"jts1k": {"path": "jts.csv", "colour": "red"}}}, "tasks.jts1k.colour"),
        ({"tasks": {"jts1k": {"path": "jts.data"}}}, "tasks.jts1k.format"),
        ({"tasks": {"wrime_emotion": {"path": "w.tsv", "threshold": 5}}}, "tasks.wrime_emotion.threshold"),
        ({"tasks": {"wrime_sentiment": {"path": "w.tsv", "annotator": "Reader4"}}}, "tasks.wrime_sentiment.annotator"),
        ({"tasks": {"jnli": {"path": "jglue/jnli", "file_pattern": "v1.3.json"}}}, "tasks.jnli.file_pattern"),
        ({"acceptability": {"min_tokens": 50, "max_tokens": 40}}, "acceptability.min_tokens"),
        ({"probes": {"sets": {"basic": ["hiragana", "kanij"]}}}, "probes.sets.basic[1]"),
        ({"probes": {"sets": {"all": ["nouns"]}}}, "probes.sets.all"),
    ],
)
def test_values_that_only_a_later_job_would_use_are_checked_at_validation(config, key):
    with pytest.raises(ConfigError) as raised:
        validate_config(config)
    assert raised.value.key == key


def test_the_raw_corpus_and_tuning_tables_must_be_existing_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tweets.jsonl").write_text("")
    (tmp_path / "folder").mkdir()
    check_input_files(validate_config({"raw": {"path": "tweets.jsonl"}}))  # demo tuning tables: nothing to check
    for config, key, problem in [
        ({"raw": {"path": "folder"}}, "raw.path", "is a directory"),
        ({"raw": {"path": "missing.parquet"}}, "raw.path", "does not exist"),
        ({"tune_dedup": {"control": "missing.jsonl"}}, "tune_dedup.control", "does not exist"),
    ]:
        with pytest.raises(ConfigError, match=problem) as raised:
            check_input_files(validate_config(config))
        assert raised.value.key == key
