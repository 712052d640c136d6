"""Task data through Hugging Face `datasets`: a Hub-shaped folder (``hub``) and a save_to_disk folder (``path``)."""

import json

import datasets
import pytest
import yaml

from tweetbert.config import validate_config
from tweetbert.errors import ConfigError, InputError
from tweetbert.tasks import load_task

LABELS = ("negative", "positive")


def rows(prefix, n):
    return [{"sentence": f"{prefix} ツイート {i}", "label": LABELS[i % 2]} for i in range(n)]


def write_jsonl(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


@pytest.fixture
def hub_repo(tmp_path):
    """A folder laid out as a Hub dataset repo with two configs: `clean` (train/validation/test), `noisy` (train/test)."""
    repo = tmp_path / "repo"
    splits = {"clean": {"train": 40, "validation": 6, "test": 8}, "noisy": {"train": 60, "test": 10}}
    configs = []
    for config, sizes in splits.items():
        for split, n in sizes.items():
            write_jsonl(repo / config / f"{split}.jsonl", rows(f"{config}-{split}", n))
        configs.append({"config_name": config,
                        "data_files": [{"split": split, "path": f"{config}/{split}.jsonl"} for split in sizes]})
    (repo / "README.md").write_text(f"---\n{yaml.safe_dump({'configs': configs})}---\n# fixture\n", encoding="utf-8")
    return repo


def test_hub_splits_keep_their_roles_and_the_missing_ones_are_carved(hub_repo):
    data = load_task("jts1k", {"hub": {"repo": str(hub_repo), "config": "clean"}, "text_column": "sentence"})
    assert [len(data[role]) for role in ("validation", "test")] == [6, 8]
    assert all(e["text"].startswith("clean-validation") for e in data["validation"])
    assert all(e["text"].startswith("clean-test") for e in data["test"])
    assert data.sources["test"] == f"Hub dataset {hub_repo}, config clean, split test"
    assert "split train, 15/80 of it" in data.sources["dev"] and len(data["train"]) + len(data["dev"]) == 40
    assert data.label_names == list(LABELS) and {e["label"] for e in data["dev"]} == {0, 1}


def test_the_config_chooses_the_data_and_its_missing_validation_split_is_carved(hub_repo):
    data = load_task("jts1k", {"hub": {"repo": str(hub_repo), "config": "noisy"}, "text_column": "sentence"})
    assert all(e["text"].startswith("noisy-") for role in data.splits for e in data[role])
    assert len(data["test"]) == 10 and sum(len(data[r]) for r in ("train", "validation", "dev")) == 60
    assert "5/85" in data.sources["validation"]


def test_revision_and_config_are_passed_to_load_dataset_and_no_remote_code_is_trusted(monkeypatch):
    calls = []
    table = datasets.Dataset.from_list(rows("x", 40))

    def fake_load_dataset(*args, **kwargs):
        calls.append((args, kwargs))
        return datasets.DatasetDict({"train": table})

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    load_task("jtdd", {"hub": {"repo": "owner/name", "config": "ver2", "revision": "abc123"}, "text_column": "sentence"})
    assert calls == [(("owner/name", "ver2"), {"revision": "abc123"})]


def test_a_save_to_disk_folder_loads_with_class_labels_renamed_columns_and_jglue_roles(tmp_path):
    features = datasets.Features({"premise": datasets.Value("string"), "hypothesis": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["entailment", "contradiction", "neutral"])})

    def split(n, labelled=True):
        return datasets.Dataset.from_dict({"premise": [f"前提 {i}" for i in range(n)],
                                           "hypothesis": [f"仮説 {i}" for i in range(n)],
                                           "label": [i % 3 if labelled else -1 for i in range(n)]}, features=features)

    folder = tmp_path / "jnli_saved"
    datasets.DatasetDict({"train": split(60), "validation": split(9), "test": split(5, labelled=False)}).save_to_disk(
        str(folder))
    data = load_task("jnli", {"path": str(folder), "columns": {"sentence1": "premise", "sentence2": "hypothesis"}})
    assert data.label_names == ["entailment", "contradiction", "neutral"]
    assert len(data["test"]) == 9 and "split validation (plays test" in data.sources["test"]
    assert data["test"][1] == {"text": "前提 1", "text_pair": "仮説 1", "label": 1}


def test_a_single_saved_dataset_is_train_and_nested_columns_are_named_with_dots(tmp_path):
    wrime = datasets.Dataset.from_list(
        [{"sentence": f"文 {i}", "avg_readers": {"sentiment": (i % 5) - 2}} for i in range(60)])
    folder = tmp_path / "wrime_saved"
    wrime.save_to_disk(str(folder))
    data = load_task("wrime_sentiment", {"path": str(folder), "columns": {
        "Sentence": "sentence", "Avg. Readers_Sentiment": "avg_readers.sentiment"}})
    assert sum(len(examples) for examples in data.splits.values()) == 60
    assert "split train, 65/100 of it" in data.sources["train"]
    assert {e["label"] for e in data["train"]} <= {-2.0, -1.0, 0.0, 1.0, 2.0}


def test_a_missing_column_names_the_dataset_split_and_column_and_lists_the_columns(hub_repo):
    with pytest.raises(InputError) as raised:
        load_task("jts1k", {"hub": {"repo": str(hub_repo), "config": "clean"}, "text_column": "body"})
    message = str(raised.value)
    assert f"Hub dataset {hub_repo}, config clean, split train" in message and raised.value.column == "body"
    assert "the dataset has: sentence, label" in message
    with pytest.raises(InputError, match=r"named by columns.sentence2; the dataset has: sentence, label"):
        load_task("jnli", {"hub": {"repo": str(hub_repo), "config": "clean"},
                           "columns": {"sentence1": "sentence", "sentence2": "hypothesis"}})


def test_a_missing_or_unchosen_config_is_a_config_error_naming_the_repo(hub_repo):
    with pytest.raises(ConfigError, match=r"config absent.*absent.*'clean', 'noisy'") as raised:
        load_task("jts1k", {"hub": {"repo": str(hub_repo), "config": "absent"}, "text_column": "sentence"})
    assert raised.value.key == "tasks.jts1k.hub.config" and str(hub_repo) in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        load_task("jts1k", {"hub": {"repo": str(hub_repo)}, "text_column": "sentence"})
    assert raised.value.key == "tasks.jts1k.hub.config"


@pytest.mark.parametrize(("task", "options", "key"), [
    ("jsquad", {"hub": {"repo": "owner/jsquad"}}, "tasks.jsquad.hub"),
    ("jts1k", {"hub": {"repo": "owner/x", "branch": "main"}}, "tasks.jts1k.hub.branch"),
    ("jts1k", {"hub": {"config": "a"}}, "tasks.jts1k.hub.repo"),
    ("jts1k", {"hub": {"repo": "owner/x"}, "path": "x.csv"}, "tasks.jts1k.path"),
    ("jts1k", {"hub": {"repo": "owner/x"}, "format": "csv"}, "tasks.jts1k.format"),
    ("jts1k", {"hub": {"repo": "owner/x"}, "columns": {"text": "sentence"}}, "tasks.jts1k.columns"),
    ("jnli", {"path": "jglue/jnli", "columns": {"sentence1": "premise"}}, "tasks.jnli.columns"),
    ("jnli", {}, "tasks.jnli.path"),
])
def test_bad_hub_options_are_config_errors_named_by_key(task, options, key):
    with pytest.raises(ConfigError) as raised:
        load_task(task, options)
    assert raised.value.key == key


def test_the_config_schema_takes_a_hub_task_and_checks_its_options():
    config = validate_config({"tasks": {"jnli": {"hub": {"repo": "owner/jglue", "config": "JNLI"},
                                                 "columns": {"sentence1": "premise"}}}})
    assert config["tasks"]["jnli"]["hub"]["repo"] == "owner/jglue"
    for tasks, key in [({"jnli": {"hub": {"repo": "o/r", "revison": "main"}}}, "tasks.jnli.hub.revison"),
                       ({"jsquad": {"hub": {"repo": "o/r"}}}, "tasks.jsquad.hub")]:
        with pytest.raises(ConfigError) as raised:
            validate_config({"tasks": tasks})
        assert raised.value.key == key


def test_the_workflow_passes_a_hub_task_to_its_sweep_without_a_path(hub_repo, tmp_path):
    from dry_run import SNAKEMAKE, demo_config, planned_jobs

    if SNAKEMAKE is None:
        pytest.skip("snakemake is not installed")
    config = demo_config("hub")
    config["tasks"]["jts1k"] = {"hub": {"repo": str(hub_repo), "config": "clean"}, "text_column": "sentence"}
    config["downstream"]["tasks"] = ["sentiment3", "jts1k"]
    sweeps = [job for job in planned_jobs(tmp_path / "work", config)
              if job.rule == "finetune_sweep" and "--task jts1k" in job.command]
    assert sweeps and all("hub=" in job.command and "path=" not in job.command for job in sweeps)
