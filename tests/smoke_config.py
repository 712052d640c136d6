"""The tiny config that the DAG smoke tests run: the demo's, shrunk to a few minutes on 2 cores."""

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def smoke_config(run_name: str) -> dict:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["run_name"] = run_name
    config["demo"]["n_tweets"] = 3000
    config["tune_dedup"].update(ngram_sizes=[3, 5], thresholds=[0.2, 0.5])
    config["balance"]["max_per_user"] = 20
    config["demo_base_model"].update(steps=30, vocab_size=2000)
    config["tokenizer"]["vocab_size"] = 3000
    config["sweep"].update(n_trials=2, space={"epochs": {"low": 1, "high": 2}, "batch_size": {"choices": [32]}})
    config["downstream"].update(tasks=["sentiment3", "jsquad", "jcommonsenseqa"], controls=["base"], n_trials=1)
    config["probes"].update(max_examples=100, noun_classes={"food": ["ラーメン", "寿司", "カレー"],
                                                             "people": ["友達", "先輩", "母"]}, n_kanji=5, n_emoji=5)
    config["acceptability"].update(per_k=2, min_tokens=10)
    return config
