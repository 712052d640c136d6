"""t-SNE probes: do the base and the adapted model keep word classes (nouns by topic, scripts, emoji) apart?

Each item is encoded alone (``[CLS] item [SEP]``) and read two ways: the [CLS] output of the last layer, and the
item's input-embedding row (the mean of its tokens' rows). The picture comes from t-SNE; the number from the
silhouette score (cosine) in the model's own space, over the items that no model maps to [UNK] — an all-[UNK]
item would share one vector with every other and fake a tight cluster. Where a model reads a whole set as [UNK]
(the base model on romaji) no item is left to compare on, so each model's own silhouette, over the items it knows, is
kept beside it (``own_silhouette``, with a note saying why the comparable one is missing) rather than hiding the one
set where the adapted model separates. Items are encoded once; the joint map and each probe set (a group of classes,
see ``probe_words``) get their own t-SNE and silhouette over their own items.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tweetbert.analysis.masked_words import MaskedLM
from tweetbert.analysis.probe_words import JOINT_SET
from tweetbert.errors import ConfigError

CLS_OUTPUT = "[CLS] output"
INPUT_EMBEDDING = "input embedding"
REPRESENTATIONS = (CLS_OUTPUT, INPUT_EMBEDDING)


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


MIN_TSNE_ITEMS = 3
"""t-SNE's smallest perplexity here is 2, and scikit-learn needs more items than that."""


def tsne(vectors: np.ndarray, seed: int) -> np.ndarray:
    """2-D t-SNE coordinates, seeded; perplexity shrinks for short lists (it must stay below the item count).

    Items that all share one vector (a set the model maps wholly to [UNK]) sit at the origin: t-SNE's PCA start
    would divide by their zero spread (and scikit-learn's Barnes-Hut step crashes on the NaNs).
    """
    from sklearn.manifold import TSNE

    if not np.ptp(vectors, axis=0).any():
        return np.zeros((len(vectors), 2), dtype=np.float32)

    perplexity = float(min(30, max(2, (len(vectors) - 1) // 3)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", metric="cosine", random_state=seed,
                n_jobs=1).fit_transform(vectors)


def probe_models(models: Mapping[str, str | Path], items: Sequence[tuple[str, str]],
                 sets: Mapping[str, Sequence[str]], seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(coordinates, scores): t-SNE points per set × model × representation × item, and one silhouette row per map.

    The joint map (set :data:`JOINT_SET`, every item) comes first, then ``sets`` (name -> classes) in their order.
    """
    labels = np.array([label for label, _ in items])
    words = np.array([word for _, word in items])
    members = {JOINT_SET: np.ones(len(items), dtype=bool), **{name: np.isin(labels, list(classes))
                                                              for name, classes in sets.items()}}
    for set_name, member in members.items():
        if member.sum() < MIN_TSNE_ITEMS:
            key = "probes.sets" if set_name == JOINT_SET else f"probes.sets.{set_name}"
            raise ConfigError(key, f"probe set {set_name!r} holds {int(member.sum())} item(s); a t-SNE map needs at "
                                   f"least {MIN_TSNE_ITEMS} (its perplexity must stay below the item count)")
    encoded = {}
    for name, location in models.items():
        encoded[name] = encode_items(MaskedLM.load(name, location), [word for _, word in items])
    known_to_all = ~np.logical_or.reduce([unknown for _, unknown in encoded.values()])
    points, scores = [], []
    for set_name, member in members.items():
        all_unknown = [name for name, (_, unknown) in encoded.items() if unknown[member].all()]
        for name, (vectors, unknown) in encoded.items():
            for representation in REPRESENTATIONS:
                chosen = vectors[representation][member]
                xy = tsne(chosen, seed)
                points.append(pd.DataFrame({"set": set_name, "model": name, "representation": representation,
                                            "class": labels[member], "item": words[member], "x": xy[:, 0],
                                            "y": xy[:, 1], "unknown": unknown[member]}))
                score = separation(chosen, labels[member], known_to_all[member])
                own = separation(chosen, labels[member], ~unknown[member])
                scores.append({"set": set_name, "model": name, "representation": representation,
                               "silhouette": score, "own_silhouette": own,
                               "items": int(member.sum()), "unknown_items": int(unknown[member].sum()),
                               "scored_items": int(known_to_all[member].sum()),
                               "note": _score_note(score, own, name, all_unknown, labels[member], int(member.sum()))})
    return pd.concat(points, ignore_index=True), pd.DataFrame(scores)


def _score_note(score: float | None, own: float | None, model: str, all_unknown: Sequence[str],
                labels: np.ndarray, items: int) -> str:
    """Why a map has no comparable silhouette: a model that reads every item as [UNK] (the base model on romaji)
    leaves no item to compare on, yet the other model's own separation is worth showing, marked as such."""
    if score is not None:
        return ""
    if len(set(labels)) < 2:
        return "one class: nothing to separate"
    if model in all_unknown:
        return f"{model} reads all {items} items as [UNK]"
    others = [name for name in all_unknown if name != model]
    if own is not None and others:
        return f"{', '.join(others)} read{'s' * (len(others) == 1)} all {items} items as [UNK]"
    if own is not None:
        return "too few items every model knows"
    return "too few known items"


PROBE_OUTPUTS = {
    "coordinates": "TSV of every item's t-SNE coordinates per set, model and representation",
    "scores": "TSV of the word classes' silhouette per set, model and representation (comparable, over the items "
              "every model knows; and each model's own, over the items it knows, with a note where they differ)",
    "summary": "JSON summary: class sizes, each set's classes and the silhouettes",
    "plot": "PNG of the joint t-SNE maps (every class) side by side",
}


def write_probes(models: Mapping[str, str | Path], items: Sequence[tuple[str, str]],
                 sets: Mapping[str, Sequence[str]], paths: Mapping[str, Path], set_plots: Mapping[str, Path], *,
                 seed: int) -> dict[str, Path]:
    """The probe's coordinates, silhouette table, summary JSON and joint figure at ``paths`` (:data:`PROBE_OUTPUTS`),
    and one figure per set at ``set_plots`` (set name -> path, one for each of ``sets``)."""
    from tweetbert.plots.analysis import plot_tsne

    if set(set_plots) != set(sets):
        raise ValueError(f"one figure per probe set: sets {sorted(sets)}, figures for {sorted(set_plots)}")
    coordinates, scores = probe_models(models, items, sets, seed)
    paths = {name: Path(paths[name]) for name in PROBE_OUTPUTS}
    set_plots = {name: Path(set_plots[name]) for name in sets}
    for path in [*paths.values(), *set_plots.values()]:
        path.parent.mkdir(parents=True, exist_ok=True)
    coordinates.to_csv(paths["coordinates"], sep="\t", index=False, float_format="%.4f", lineterminator="\n")
    scores.to_csv(paths["scores"], sep="\t", index=False, float_format="%.6g", lineterminator="\n")
    summary = {"classes": dict(Counter(label for label, _ in items)),
               "sets": {name: list(classes) for name, classes in sets.items()},
               "silhouette": {set_name: {f"{row.model} / {row.representation}": row.silhouette
                                         for row in group.itertuples()}
                              for set_name, group in scores.groupby("set", sort=False)},
               "own_silhouette": {set_name: {f"{row.model} / {row.representation}": row.own_silhouette
                                             for row in group.itertuples()}
                                  for set_name, group in scores.groupby("set", sort=False)}}
    paths["summary"].write_text(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                encoding="utf-8")
    classes = list(dict.fromkeys(label for label, _ in items))  # every class: one colour per class on every map
    for set_name, path in [(JOINT_SET, paths["plot"]), *set_plots.items()]:
        title = None if set_name == JOINT_SET else f"probe set {set_name}: {', '.join(sets[set_name])}"
        plot_tsne(coordinates[coordinates["set"] == set_name], scores[scores["set"] == set_name], path, title=title,
                  classes=classes)
    return paths
