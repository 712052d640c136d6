"""No setting is accepted and then ignored: changing any schema key changes what some job would run.

Each change below is planned (a dry run in this process) against one baseline: the demo config with conditional
keys in force (explicit LSH bands, a sub-grid that takes every grid default from ``pretrain.fixed``). The jobs of
the rules a change declares must differ from the baseline's, and no other rule's may, so changes that touch
different rules share one dry run without masking each other. A schema key without a change here fails the test.
Keys whose effect needs a job only the selection's checkpoint adds (the selected model's benchmark sweeps) are
checked on the jobs planned before it: the controls' benchmark sweeps.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from dry_run import SNAKEMAKE, Job, demo_config, planned_jobs

from tweetbert.config import load_schema

pytestmark = pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")

SEPARATE = "*"
"""A change that reshapes the DAG or touches most rules: it gets a dry run of its own."""


@dataclass(frozen=True)
class Change:
    values: dict
    rules: frozenset[str]
    context: dict = field(default_factory=dict)
    """Keys set in this change's own baseline (for a key that applies only when another has a given value)."""


def change(values: dict, *rules: str, context: dict | None = None) -> Change:
    return Change(values, frozenset(rules), context or {})


PRETRAIN = ("pretrain_candidate",)
SERVER_STORAGE = {"sweep.storage": "postgresql://user@host/db"}
"""A study spans jobs only on a database server (the config check refuses a journal file)."""
CHANGES = [
    change({"run_name": "other"}, SEPARATE),
    change({"seed": 1}, SEPARATE),
    change({"demo.n_tweets": 500}, "demo_data"),
    change({"demo.planted_task_texts": 3}, "demo_data"),
    change({"raw.path": "tweets.jsonl"}, "ingest", "results_at_a_glance"),  # the demo line of the first page
    change({"raw.format": "jsonl"}, "ingest"),
    change({"raw.columns.id": "tweet_id"}, "ingest"),
    change({"raw.columns.user_id": "author"}, "ingest"),
    change({"raw.columns.text": "body"}, "ingest"),
    change({"raw.columns.created_at": "posted"}, "ingest"),
    change({"raw.on_bad_row": "skip"}, "ingest"),
    change({"raw.max_chars": 280}, "ingest"),
    change({"normalize.nfkc": False}, "normalize", "contamination"),
    change({"normalize.replace_urls": False}, "normalize", "contamination"),
    change({"normalize.replace_mentions": False}, "normalize", "contamination"),
    change({"normalize.keep_newlines": False}, "normalize", "contamination"),
    change({"dedup.ngram": 3}, SEPARATE),
    change({"dedup.threshold": 0.3}, SEPARATE),
    change({"dedup.num_perm": 256}, SEPARATE),
    change({"dedup.bands": 4}, SEPARATE),
    change({"dedup.rows": 4}, SEPARATE),
    change({"dedup.verify": False}, SEPARATE),
    change({"dedup.shards": 3}, SEPARATE),
    change({"dedup.band_groups": 3}, SEPARATE),
    change({"tune_dedup.target": "target.jsonl"}, "tune_dedup"),
    change({"tune_dedup.control": "control.jsonl"}, "tune_dedup"),
    change({"tune_dedup.ngram_sizes": [4]}, "tune_dedup"),
    change({"tune_dedup.thresholds": [0.4]}, "tune_dedup"),
    change({"balance.max_per_user": 7}, "balance"),
    change({"corpora": ["dedup"]}, SEPARATE),
    change({"split.ratios.train": 0.7, "split.ratios.validation": 0.1}, "split"),
    change({"split.ratios.dev": 0.05, "split.ratios.test": 0.15}, "split"),
    change({"contamination.examples": 2}, "contamination"),
    change({"contamination.remove": False}, "split"),
    change({"base_model": "org/hub-model"}, SEPARATE),
    change({"demo_base_model.vocab_size": 5000}, "build_base_model"),
    change({"demo_base_model.hidden_size": 32}, "build_base_model"),
    change({"demo_base_model.num_layers": 1}, "build_base_model"),
    change({"demo_base_model.num_heads": 4}, "build_base_model"),
    change({"demo_base_model.intermediate_size": 128}, "build_base_model"),
    change({"demo_base_model.max_position": 64}, "build_base_model"),
    change({"demo_base_model.steps": 10}, "build_base_model"),
    change({"demo_base_model.batch_size": 8}, "build_base_model"),
    change({"demo_base_model.learning_rate": 0.002}, "build_base_model"),
    change({"tokenizer.vocab_size": 7000}, "train_tokenizer"),
    change({"tokenizer.char_coverage": 0.95}, "char_coverage"),
    change({"tokenizer.min_frequency": 3}, "train_tokenizer"),
    change({"tokenizer.length_coverage": 0.99}, "length_histogram"),
    change({"tokenizer.task_texts": 500}, "task_vocabulary"),
    change({"migrate.method": "focus"}, "migrate_embeddings"),
    change({"migrate.initializer_range": 0.01}, "migrate_embeddings"),
    change({"pretrain.fixed.batch_size": 16}, *PRETRAIN),
    change({"pretrain.fixed.max_seq_length": 64}, *PRETRAIN, "tokenize_corpus"),
    change({"pretrain.fixed.warmup_steps": 0.2}, *PRETRAIN),
    change({"pretrain.fixed.mlm_probability": 0.2}, *PRETRAIN),
    change({"pretrain.fixed.whole_word_mask": False}, *PRETRAIN),
    change({"pretrain.fixed.eval_every": 50}, *PRETRAIN),
    change({"pretrain.fixed.save_every": 50}, *PRETRAIN),
    change({"pretrain.fixed.eval_examples": 100}, *PRETRAIN),
    change({"pretrain.fixed.eval_batch_size": 64}, *PRETRAIN),
    change({"pretrain.fixed.save_every_minutes": 5}, *PRETRAIN),
    change({"pretrain.fixed.compile": True}, *PRETRAIN),
    change({"pretrain.fixed.early_stopping_patience": 2}, *PRETRAIN),
    change({"pretrain.fixed.epoch_checkpoints": False}, SEPARATE),
    change({"pretrain.fixed.learning_rate": 2e-4}, SEPARATE),
    change({"pretrain.fixed.weight_decay": 0.01}, SEPARATE),
    change({"pretrain.fixed.epochs": 4}, SEPARATE),
    change({"pretrain.fixed.beta1": 0.8}, SEPARATE),
    change({"pretrain.fixed.beta2": 0.9999}, SEPARATE),
    change({"pretrain.fixed.epsilon": 1e-6}, SEPARATE),
    change({"pretrain.grids": [{"corpus": ["balanced"]}]}, SEPARATE),
    change({"pretrain.grids": [{"corpus": ["dedup"], "epochs": [1, 2]}, {"phase": "exploration", "corpus": ["dedup"]}]},
           SEPARATE),  # a grid's phase: its point is pre-trained still, no longer fine-tuned
    change({"tasks": {"sentiment3": {"path": "demo", "text_column": "text"}, "defamation": {"path": "demo"},
                      "jtbr": {"path": "demo"}}}, "finetune_sweep", "task_vocabulary", "downstream",
           "contamination"),
    change({"target_tasks": ["sentiment3"]}, SEPARATE),
    change({"controls": {"base": "base"}}, SEPARATE),
    change({"sweep.n_trials": 5}, "finetune_sweep"),
    change({"sweep.workers": 2}, "finetune_sweep"),
    change({"sweep.gpus": 2}, "finetune_sweep"),
    change({"sweep.jobs_per_study": 2}, SEPARATE, context=SERVER_STORAGE),
    change({"sweep.storage": "postgresql://user@host/db"}, "finetune_sweep"),
    change({"sweep.storage_retry_seconds": 30}, "finetune_sweep"),
    change({"sweep.storage_connect_timeout": 5}, "finetune_sweep"),
    change({"sweep.pruner": "hyperband"}, "finetune_sweep"),
    change({"sweep.pruner_startup_trials": 2}, "finetune_sweep"),
    change({"sweep.pruner_warmup_epochs": 1}, "finetune_sweep"),
    change({"sweep.evaluations_per_epoch": 4}, "finetune_sweep"),
    change({"sweep.lease_timeout": 60}, "finetune_sweep"),
    change({"sweep.heartbeat_interval": 30}, "finetune_sweep"),
    change({"sweep.grace_period": 300}, "finetune_sweep"),
    change({"sweep.max_length": 64}, "finetune_sweep"),
    change({"sweep.space": {"epochs": {"low": 1, "high": 2}}}, "finetune_sweep"),
    change({"selection.rule": "min_dev"}, "select_best"),
    change({"selection.require_beats": []}, "select_best"),
    change({"selection.seeds": 3}, "finetune_sweep"),
    change({"selection.bootstrap": 50}, "select_best", "downstream"),
    change({"probes.evaluation_texts.path": "texts.csv"}, "topk_accuracy", "acceptability_sheet"),
    change({"probes.evaluation_texts.column": "body"}, "topk_accuracy", "acceptability_sheet",
           context={"probes.evaluation_texts.path": "texts.csv"}),
    change({"probes.evaluation_texts.split": "dev"}, "topk_accuracy", "acceptability_sheet"),
    change({"probes.evaluation_texts.split_column": "Train/Dev/Test"}, "topk_accuracy", "acceptability_sheet",
           context={"probes.evaluation_texts.path": "texts.csv"}),
    change({"probes.max_examples": 10}, "topk_accuracy"),
    change({"probes.max_examples": None}, "topk_accuracy"),
    change({"probes.max_length": 64}, SEPARATE),
    change({"probes.top_k": [1, 2]}, "topk_accuracy"),
    change({"probes.noun_classes": {"food": ["ラーメン", "寿司"]}}, "probe_embeddings"),
    change({"probes.sets": {"kana": ["hiragana", "katakana"]}}, "probe_embeddings"),
    change({"probes.n_kanji": 5}, "probe_embeddings"),
    change({"probes.n_emoji": 5}, "probe_embeddings"),
    change({"acceptability.ks": [1, 2]}, SEPARATE),
    change({"acceptability.per_k": 3}, "acceptability_sheet"),
    change({"acceptability.min_tokens": 5}, "acceptability_sheet"),
    change({"acceptability.max_tokens": 50}, "acceptability_sheet"),
    change({"acceptability.annotators": ["x"]}, SEPARATE),
    change({"acceptability.filled_sheets": []}, SEPARATE),
    change({"downstream.tasks": ["sentiment3"]}, SEPARATE),
    change({"downstream.controls": ["base", "random"]}, SEPARATE),
    change({"downstream.n_trials": 1}, "finetune_sweep"),
    change({"stats.sample_size": 100}, "corpus_stats"),
    change({"stats.ngram_sizes": [1]}, "corpus_stats"),
]
FILES = ("tweets.jsonl", "target.jsonl", "control.jsonl", "texts.csv")


def baseline_config() -> dict:
    config = demo_config("audit")
    config["dedup"].update(bands=8, rows=16)
    config["pretrain"]["grids"] = [{"corpus": ["dedup"], "epochs": [1, 2]}, {"corpus": ["dedup"]}]
    config["tasks"] = {task: {"path": "demo"} for task in ("sentiment3", "defamation", "jtbr")}
    config["downstream"]["tasks"] = ["sentiment3", "jtbr"]
    return config


def schema_leaves(schema: dict, path: str = "") -> list[str]:
    if schema.get("type") == "object" and "properties" in schema:
        return [leaf for key, sub in schema["properties"].items()
                for leaf in schema_leaves(sub, f"{path}.{key}" if path else key)]
    return [path]


def applied(config: dict, values: dict) -> dict:
    config = copy.deepcopy(config)
    for key, value in values.items():
        *parents, last = key.split(".")
        node = config
        for parent in parents:
            node = node.setdefault(parent, {})
        node[last] = value
    return config


def by_rule(jobs: list[Job]) -> dict[str, list[Job]]:
    grouped = defaultdict(list)
    for job in jobs:
        grouped[job.rule].append(job)
    return grouped


def changed_rules(before: list[Job], after: list[Job]) -> set[str]:
    old, new = by_rule(before), by_rule(after)
    return {rule for rule in set(old) | set(new) if old.get(rule) != new.get(rule)}


def batches(changes: list[Change]) -> list[list[Change]]:
    """Changes packed into dry runs: one per separate change, otherwise changes of disjoint rules together."""
    packed: list[list[Change]] = []
    for item in changes:
        if SEPARATE in item.rules or item.context:
            packed.append([item])
            continue
        for batch in packed:
            if all(SEPARATE not in other.rules and not other.context and not other.rules & item.rules
                   for other in batch):
                batch.append(item)
                break
        else:
            packed.append([item])
    return packed


def test_every_schema_key_is_changed_by_the_audit():
    audited = {key for item in CHANGES for key in item.values}
    assert set(schema_leaves(load_schema())) - audited == set()


def test_every_setting_changes_what_some_job_runs(tmp_path):
    workdir = tmp_path / "audit"
    workdir.mkdir()
    for name in FILES:
        (workdir / name).write_text("id,user_id,text\n")
    base = baseline_config()
    baseline = planned_jobs(workdir, base)
    contexts: dict[str, list[Job]] = {}
    silent, leaked = [], []
    for batch in batches(CHANGES):
        context = batch[0].context
        before = baseline
        if context:
            before = contexts.setdefault(repr(context), planned_jobs(workdir, applied(base, context)))
        config = applied(applied(base, context), {k: v for item in batch for k, v in item.values.items()})
        changed = changed_rules(before, planned_jobs(workdir, config))
        for item in batch:
            if SEPARATE in item.rules:
                if not changed:
                    silent.append((item.values, "nothing changed"))
            elif not item.rules <= changed:
                silent.append((item.values, f"expected {sorted(item.rules)} to change, changed {sorted(changed)}"))
        if SEPARATE not in batch[0].rules:
            declared = set().union(*(item.rules for item in batch))
            if not changed <= declared:
                leaked.append(([item.values for item in batch], sorted(changed - declared)))
    assert not silent, "settings without effect:\n" + "\n".join(f"{values}: {why}" for values, why in silent)
    assert not leaked, "changes beyond their rules:\n" + "\n".join(f"{values}: {rules}" for values, rules in leaked)
