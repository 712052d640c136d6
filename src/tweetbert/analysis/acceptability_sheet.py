"""The acceptability annotation kit: would a reader accept the adapted model's rank-K guess in place of a word?

Examples of ``min_tokens``–``max_tokens`` tokens are drawn (seeded) from held-out text; one whole word each is
masked and replaced by the model's K-th best *word* (special tokens and ``##`` pieces are skipped, so the sentence
stays readable), one group of examples per K. The annotators get the items in a shuffled order without K
(``sheet.csv`` with one empty ``label_<name>`` column each, and a printable ``sheet.html`` that states the study's
criteria); ``key.tsv`` keeps K, the original word and the source of every item for the report.
"""

from __future__ import annotations

import html
import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tweetbert.analysis.acceptability_report import CLOSE_MARK, LABEL_PREFIX, OPEN_MARK, SHEET_ENCODING
from tweetbert.analysis.masked_words import MaskedLM, is_word_token, pick, shared_targets

ANNOTATION_CRITERIA = (
    "Focus on the highlighted token only: does it fit its place in this sentence?",
    ("A replacement that makes the grammar marked (an unusual but possible particle, form or word order) is "
     "acceptable (1) as long as the sentence still reads naturally."),
    "A word that is irrelevant to the sentence (it makes no sense in that place) is not acceptable (0).",
)
"""The reference study's acceptability criteria, stated on the sheet so every annotator applies the same ones."""

KEY_COLUMNS = ["item", "example_id", "k", "original", "replacement", "original_sentence", "sentence"]


def token_spans(text: str, tokens: Sequence[str]) -> list[tuple[int, int] | None] | None:
    """Each token's character span in ``text`` (None for whitespace tokens), or None where the tokens do not spell
    the text (lower-casing, [UNK], truncation); whitespace between tokens is ignored."""
    characters = [i for i, char in enumerate(text) if not char.isspace()]
    compact = "".join(text[i] for i in characters)
    spans: list[tuple[int, int] | None] = []
    cursor = 0
    for token in tokens:
        piece = "".join(char for char in token.removeprefix("##") if not char.isspace())
        if not piece:
            spans.append(None)
            continue
        if compact[cursor:cursor + len(piece)] != piece:
            return None
        spans.append((characters[cursor], characters[cursor + len(piece) - 1] + 1))
        cursor += len(piece)
    return spans if cursor == len(compact) else None


@dataclass(frozen=True)
class KitExample:
    example_id: str
    text: str
    position: int
    span: tuple[int, int]
    token_ids: list[int]


def choose_examples(ids: Sequence[str], texts: Sequence[str], model: MaskedLM, *, n: int, min_tokens: int,
                    max_tokens: int, seed: int) -> tuple[list[KitExample], dict[str, int]]:
    """``n`` examples in a seeded order, and why the others were passed over (counted, never silent)."""
    skipped = {"length": 0, "unaligned": 0, "no_word": 0}
    chosen: list[KitExample] = []
    special = model.special
    for index in np.random.default_rng(seed).permutation(len(texts)):
        if len(chosen) == n:
            break
        text = unicodedata.normalize("NFKC", texts[int(index)])
        tokens = model.tokens(text, max_tokens + 3)
        if not min_tokens <= len(tokens) <= max_tokens:
            skipped["length"] += 1
            continue
        spans = token_spans(text, tokens)
        if spans is None:
            skipped["unaligned"] += 1
            continue
        targets = shared_targets([tokens], [special])
        if not targets:
            skipped["no_word"] += 1
            continue
        position = pick(targets, seed, int(index)).positions[0]
        chosen.append(KitExample(ids[int(index)], text, position, spans[position], model.ids(tokens)))
    return chosen, skipped


def word_vocabulary_mask(model: MaskedLM) -> torch.Tensor:
    """True for vocabulary entries that can replace a word (see ``is_word_token``)."""
    special = model.special
    vocabulary = model.tokenizer.convert_ids_to_tokens(list(range(model.model.config.vocab_size)))
    return torch.tensor([token is not None and is_word_token(token, special) for token in vocabulary])


def ranked_words(model: MaskedLM, examples: Sequence[KitExample], ranks: Sequence[int]) -> list[str]:
    """The ``ranks[i]``-th best word (1-based) for the masked position of each example."""
    allowed = word_vocabulary_mask(model)
    ids = [example.token_ids for example in examples]
    positions = [example.position + 1 for example in examples]
    words: list[str] = []
    for start, logits in zip(range(0, len(ids), 64), model.logits(ids, positions, 64)):
        logits = logits.masked_fill(~allowed, float("-inf"))
        order = torch.argsort(logits, dim=1, descending=True, stable=True)
        for row, rank in enumerate(ranks[start:start + len(logits)]):
            words.append(model.tokenizer.convert_ids_to_tokens(int(order[row, rank - 1])))
    return words


def build_key(ids: Sequence[str], texts: Sequence[str], model: MaskedLM, *, ks: Sequence[int], per_k: int,
              min_tokens: int, max_tokens: int, seed: int) -> tuple[pd.DataFrame, dict[str, object]]:
    """The kit's key (one row per item, in presentation order) and the selection counts."""
    ks = sorted(set(ks))
    examples, skipped = choose_examples(ids, texts, model, n=per_k * len(ks), min_tokens=min_tokens,
                                        max_tokens=max_tokens, seed=seed)
    if len(examples) < per_k * len(ks):
        raise ValueError(f"only {len(examples)} of {per_k * len(ks)} examples found with {min_tokens}-{max_tokens} "
                         f"tokens and a maskable word (passed over: {skipped}); lower per_k or widen the length range")
    ranks = [k for k in ks for _ in range(per_k)]
    replacements = ranked_words(model, examples, ranks)
    rows = []
    for example, k, replacement in zip(examples, ranks, replacements):
        start, end = example.span
        rows.append({"example_id": example.example_id, "k": k, "original": example.text[start:end],
                     "replacement": replacement, "original_sentence": example.text,
                     "sentence": example.text[:start] + OPEN_MARK + replacement + CLOSE_MARK + example.text[end:]})
    order = np.random.default_rng([seed, 1]).permutation(len(rows))
    key = pd.DataFrame([rows[i] for i in order])
    key.insert(0, "item", range(1, len(key) + 1))
    return key[KEY_COLUMNS], {"items": len(key), "ks": ks, "per_k": per_k, "passed_over": skipped}


def annotation_sheet(key: pd.DataFrame, annotators: Sequence[str]) -> pd.DataFrame:
    """What annotators see: item, sentence, the replacement, and an empty label column each (no K, no original)."""
    sheet = key[["item", "sentence", "replacement"]].copy()
    for name in annotators:
        sheet[LABEL_PREFIX + name] = ""
    return sheet


def sheet_html(key: pd.DataFrame, annotators: Sequence[str]) -> str:
    """A printable page of the sheet: the replacement highlighted, one box per annotator."""
    boxes = "".join(f"<td class=box title='{html.escape(name)}'></td>" for name in annotators)
    rows = []
    for row in key.itertuples():
        before, rest = row.sentence.split(OPEN_MARK, 1)
        word, after = rest.split(CLOSE_MARK, 1)
        sentence = html.escape(before) + f"<mark>{html.escape(word)}</mark>" + html.escape(after)
        sentence = sentence.replace("\n", "<br>")
        rows.append(f"<tr><td>{row.item}</td><td>{sentence}</td>{boxes}</tr>")
    heads = "".join(f"<th>{html.escape(name)}</th>" for name in annotators)
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
             "th,td{border:1px solid #999;padding:4px 8px;vertical-align:top}td.box{width:4em}"
             "mark{background:#ffe066;font-weight:bold}@media print{tr{page-break-inside:avoid}}")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Acceptability annotation sheet</title>"
            f"<style>{style}</style></head><body>\n<h1>Acceptability annotation sheet</h1>\n"
            "<p>In each sentence one word was replaced by a language model's guess (highlighted). Write <b>1</b> if "
            "the replacement is acceptable, <b>0</b> if not:</p>\n<ul>\n"
            + "".join(f"<li>{html.escape(criterion)}</li>\n" for criterion in ANNOTATION_CRITERIA)
            + "</ul>\n<p>Judge each item on its own; enter the labels in your column of <code>sheet.csv</code>.</p>\n"
            f"<table>\n<thead><tr><th>item</th><th>sentence</th>{heads}</tr></thead>\n<tbody>\n"
            + "\n".join(rows) + "\n</tbody>\n</table>\n</body></html>\n")


KIT_OUTPUTS = {
    "key": "TSV key of the kit: each item's K, original and replacement",
    "sheet": "CSV sheet with one label column per annotator (UTF-8 with BOM)",
    "html": "printable HTML page of the sheet",
    "stats": "JSON of the kit's example counts and annotators",
}


def write_kit(ids: Sequence[str], texts: Sequence[str], model_location: str | Path, paths: Mapping[str, Path], *,
              ks: Sequence[int], per_k: int, min_tokens: int, max_tokens: int, annotators: Sequence[str],
              seed: int) -> dict[str, Path]:
    """key.tsv, sheet.csv (UTF-8 with BOM, so spreadsheet programs read the Japanese), sheet.html and kit.json."""
    if min_tokens > max_tokens:
        raise ValueError(f"min_tokens {min_tokens} exceeds max_tokens {max_tokens}")
    model = MaskedLM.load("adapted", model_location)
    key, stats = build_key(ids, texts, model, ks=ks, per_k=per_k, min_tokens=min_tokens, max_tokens=max_tokens,
                           seed=seed)
    paths = {name: Path(paths[name]) for name in KIT_OUTPUTS}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    key.to_csv(paths["key"], sep="\t", index=False, lineterminator="\n")
    annotation_sheet(key, annotators).to_csv(paths["sheet"], index=False, encoding=SHEET_ENCODING, lineterminator="\n")
    paths["html"].write_text(sheet_html(key, annotators), encoding="utf-8")
    stats["annotators"] = list(annotators)
    paths["stats"].write_text(json.dumps(stats, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths
