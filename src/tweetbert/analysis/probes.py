"""t-SNE probes: do the base and the adapted model keep word classes (nouns by topic, scripts, emoji) apart?

Each item is encoded alone (``[CLS] item [SEP]``) and read two ways: the [CLS] output of the last layer, and the
item's input-embedding row (the mean of its tokens' rows). The picture comes from t-SNE; the number from the
silhouette score (cosine) in the model's own space, over the items that no model maps to [UNK] — an all-[UNK]
item would share one vector with every other and fake a tight cluster.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tweetbert.analysis.masked_words import MaskedLM
from tweetbert.settings import mirrors, setting

CLS_OUTPUT = "[CLS] output"
INPUT_EMBEDDING = "input embedding"
REPRESENTATIONS = (CLS_OUTPUT, INPUT_EMBEDDING)


@mirrors("probes")
@dataclass(frozen=True)
class ProbeSettings:
    """The t-SNE probe's word classes (no default here: the schema's lists are the study's choice)."""

    noun_classes: dict[str, list[str]]
    n_kanji: int = 50
    n_emoji: int = 50
    seed: int = setting(0, key="seed")


@torch.inference_mode()
def encode_items(model: MaskedLM, items: Sequence[str], batch_size: int = 128) -> tuple[dict[str, np.ndarray],
                                                                                         np.ndarray]:
    """Both representations of every item (float64 arrays by name) and which items hold an [UNK] token."""
    tokenizer, network = model.tokenizer, model.model
    device = next(network.parameters()).device
    token_ids = [tokenizer.convert_tokens_to_ids(tokenizer.tokenize(item)) for item in items]
    unknown = np.array([not ids or tokenizer.unk_token_id in ids for ids in token_ids])
    embedding = network.get_input_embeddings().weight.detach().float().cpu()
    rows = [embedding[ids].mean(dim=0) if ids else embedding[tokenizer.unk_token_id] for ids in token_ids]
    cls = []
    for start in range(0, len(items), batch_size):
        encoded = tokenizer(list(items[start:start + batch_size]), padding=True, return_tensors="pt").to(device)
        hidden = network(**encoded, output_hidden_states=True).hidden_states[-1]
        cls.append(hidden[:, 0].float().cpu())
    return ({CLS_OUTPUT: torch.cat(cls).double().numpy(), INPUT_EMBEDDING: torch.stack(rows).double().numpy()},
            unknown)


def separation(vectors: np.ndarray, labels: Sequence[str], keep: np.ndarray) -> float | None:
    """Silhouette (cosine) of the kept items by class; None when fewer than two classes or too few items remain."""
    from sklearn.metrics import silhouette_score

    kept = np.asarray(labels)[keep]
    if len(set(kept)) < 2 or len(kept) <= len(set(kept)):
        return None
    return float(silhouette_score(vectors[keep], kept, metric="cosine"))


def tsne(vectors: np.ndarray, seed: int) -> np.ndarray:
    """2-D t-SNE coordinates, seeded; perplexity shrinks for short lists (it must stay below the item count)."""
    from sklearn.manifold import TSNE

    perplexity = float(min(30, max(2, (len(vectors) - 1) // 3)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", metric="cosine", random_state=seed,
                n_jobs=1).fit_transform(vectors)


def probe_models(models: Mapping[str, str | Path], items: Sequence[tuple[str, str]], seed: int
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(coordinates, scores): t-SNE points per model × representation × item, and one silhouette row per plot."""
    labels = [label for label, _ in items]
    words = [word for _, word in items]
    encoded = {}
    for name, location in models.items():
        encoded[name] = encode_items(MaskedLM.load(name, location), words)
    known_to_all = ~np.logical_or.reduce([unknown for _, unknown in encoded.values()])
    points, scores = [], []
    for name, (vectors, unknown) in encoded.items():
        for representation in REPRESENTATIONS:
            xy = tsne(vectors[representation], seed)
            points.append(pd.DataFrame({"model": name, "representation": representation, "class": labels,
                                        "item": words, "x": xy[:, 0], "y": xy[:, 1], "unknown": unknown}))
            scores.append({"model": name, "representation": representation,
                           "silhouette": separation(vectors[representation], labels, known_to_all),
                           "items": len(words), "unknown_items": int(unknown.sum()),
                           "scored_items": int(known_to_all.sum())})
    return pd.concat(points, ignore_index=True), pd.DataFrame(scores)


PROBE_OUTPUTS = {
    "coordinates": "TSV of every item's t-SNE coordinates per model and representation",
    "scores": "TSV of the word classes' silhouette per model and representation",
    "summary": "JSON summary: class sizes and silhouettes",
    "plot": "PNG of the t-SNE maps side by side",
}


def write_probes(models: Mapping[str, str | Path], items: Sequence[tuple[str, str]], paths: Mapping[str, Path], *,
                 seed: int) -> dict[str, Path]:
    """The probe's coordinates, silhouette table, summary JSON and figure at ``paths`` (:data:`PROBE_OUTPUTS`)."""
    from tweetbert.plots.analysis import plot_tsne

    coordinates, scores = probe_models(models, items, seed)
    paths = {name: Path(paths[name]) for name in PROBE_OUTPUTS}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    coordinates.to_csv(paths["coordinates"], sep="\t", index=False, float_format="%.4f", lineterminator="\n")
    scores.to_csv(paths["scores"], sep="\t", index=False, float_format="%.6g", lineterminator="\n")
    summary = {"classes": dict(Counter(label for label, _ in items)),
               "silhouette": {f"{row.model} / {row.representation}": row.silhouette for row in scores.itertuples()}}
    paths["summary"].write_text(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                encoding="utf-8")
    plot_tsne(coordinates, scores, paths["plot"])
    return paths
