"""Top-K masked-token accuracy: does domain adaptation make the model better at restoring words of tweets?

Each example masks one word that every compared model holds as a single token (see ``masked_words``), so the
models answer the same question; accuracy@K is the share of examples whose original token ranks in the top K of
the full vocabulary. The reference study scored 30,000 WRIME sentences of its test split; the demo scores
held-out generated tweets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from tweetbert.analysis.masked_words import MaskedLM, Target, gold_ranks, pick, shared_targets
from tweetbert.reference_results import reference_results

PUBLISHED_TOPK: dict[str, dict[int, float]] = reference_results()["topk_accuracy"]
"""Masked-token top-K accuracy on WRIME in the reference study, by model and K."""
PUBLISHED_PREFIX = "published: "


@dataclass(frozen=True)
class MaskedExample:
    """One text, the word masked in it, and each model's tokens (same order as the models)."""

    index: int
    text: str
    target: Target
    tokens: tuple[tuple[str, ...], ...]


def build_examples(texts: Sequence[str], models: Sequence[MaskedLM], *, max_examples: int | None, max_length: int,
                   seed: int) -> tuple[list[MaskedExample], dict[str, int]]:
    """Up to ``max_examples`` texts (None: all of them), in a seeded order, that have a word every model holds as
    one token.

    Returns the examples and the counts of texts looked at and skipped for lack of a shared word.
    """
    order = np.random.default_rng(seed).permutation(len(texts))
    if max_examples is None:
        max_examples = len(texts)
    examples: list[MaskedExample] = []
    looked = 0
    specials = [model.special for model in models]
    with tqdm(total=min(max_examples, len(texts)), desc="choose masked words", unit="example",
              mininterval=2.0, delay=2.0) as progress:
        for index in order:
            if len(examples) == max_examples:
                break
            looked += 1
            text = texts[int(index)]
            tokens = tuple(tuple(model.tokens(text, max_length)) for model in models)
            targets = shared_targets(tokens, specials)
            if targets:
                examples.append(MaskedExample(int(index), text, pick(targets, seed, int(index)), tokens))
                progress.update()
    return examples, {"texts": len(texts), "looked_at": looked, "no_shared_word": looked - len(examples)}


def model_ranks(model: MaskedLM, which: int, examples: Sequence[MaskedExample], batch_size: int = 64) -> np.ndarray:
    """0-based rank of the original token at each example's masked position, for the model at index ``which``."""
    ids = [model.ids(example.tokens[which]) for example in examples]
    positions = [example.target.positions[which] + 1 for example in examples]
    gold = [sequence[position] for sequence, position in zip(ids, positions)]
    ranks = []
    for start, logits in zip(range(0, len(ids), batch_size), model.logits(ids, positions, batch_size)):
        ranks.append(gold_ranks(logits, gold[start:start + batch_size]))
    return np.concatenate(ranks) if ranks else np.zeros(0, dtype=int)


def accuracy_table(ranks: Mapping[str, np.ndarray], ks: Sequence[int],
                   published: Mapping[str, Mapping[int, float]] | None = PUBLISHED_TOPK) -> pd.DataFrame:
    """Long table (model, source, k, accuracy, n): measured models, then the published rows for the Ks they cover."""
    rows = [{"model": name, "source": "measured", "k": k, "accuracy": float(np.mean(values < k)), "n": len(values)}
            for name, values in ranks.items() for k in ks]
    for name, by_k in (published or {}).items():
        rows += [{"model": PUBLISHED_PREFIX + name, "source": "published", "k": k, "accuracy": by_k[k], "n": None}
                 for k in ks if k in by_k]
    return pd.DataFrame(rows, columns=["model", "source", "k", "accuracy", "n"]).astype({"n": "Int64"})


TOPK_OUTPUTS = {
    "table": "TSV of top-K accuracy per model and K (with the published rows)",
    "examples": "TSV of each masked example's gold rank per model",
    "stats": "JSON of the example counts and accuracies",
    "plot": "PNG of top-K accuracy by K",
}


def write_topk(texts: Sequence[str], models: Mapping[str, str | Path], paths: Mapping[str, Path], *, ks: Sequence[int],
               max_examples: int | None, max_length: int, seed: int, batch_size: int = 64) -> dict[str, Path]:
    """Scores every model on the same masked examples; writes the table, the per-example ranks, stats and a chart."""
    from tweetbert.plots.analysis import plot_topk

    if not models:
        raise ValueError("no models to score")
    loaded = [MaskedLM.load(name, location) for name, location in models.items()]
    examples, counts = build_examples(texts, loaded, max_examples=max_examples, max_length=max_length, seed=seed)
    if not examples:
        raise ValueError(f"none of {counts['looked_at']} texts has a word that every model holds as one token")
    ranks = {model.name: model_ranks(model, m, examples, batch_size) for m, model in enumerate(loaded)}
    table = accuracy_table(ranks, sorted(set(ks)))
    paths = {name: Path(paths[name]) for name in TOPK_OUTPUTS}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(paths["table"], sep="\t", index=False, float_format="%.6g", lineterminator="\n")
    per_example = pd.DataFrame({"text_index": [e.index for e in examples], "word": [e.target.word for e in examples],
                                **{f"rank_{name}": values + 1 for name, values in ranks.items()}})
    per_example.to_csv(paths["examples"], sep="\t", index=False, lineterminator="\n")
    measured = table[table["source"] == "measured"]
    stats = {**counts, "examples": len(examples), "distinct_words": len({e.target.word for e in examples}),
             "accuracy": {name: {str(k): float(v) for k, v in zip(group["k"], group["accuracy"])}
                          for name, group in measured.groupby("model", sort=False)}}
    paths["stats"].write_text(json.dumps(stats, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    plot_topk(table, paths["plot"])
    return paths
