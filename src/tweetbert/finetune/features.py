"""Tokenised features of a task's examples, one builder per problem type, and the collator that pads them.

Texts get the saved tokenizer's ids, each distinct text tokenised once, and are assembled as BERT does:
``[CLS] a [SEP]`` or ``[CLS] a [SEP] b [SEP]`` with segment ids 0/1, truncated to ``max_length`` the way the slow
tokenizer's default ``longest_first`` strategy does it. Padding is left to :class:`PaddingCollator`, batch by batch.

Extractive QA needs each context token's character span, which the slow ``BertJapaneseTokenizer`` cannot give.
:meth:`Encoder.spans` rebuilds the same tokens with spans: every special token (``[SEP]`` included, which JSQuAD
contexts contain) is cut out first, as the added-token trie does; each remaining piece is NFKC-normalised,
remembering which original characters every normalised one came from; MeCab words are located in the normalised
text; and the Rust WordPiece model of :mod:`tweetbert.tokenization.fast` gives each piece's offsets in its word. All
texts go this one way (about 25k tweets a second), so ids never depend on the problem type.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tweetbert.tasks.types import Example, ProblemType
from tweetbert.tokenization.fast import wordpiece_model
from tweetbert.tokenization.mecab import CORE_SPECIAL_TOKENS, SPECIAL_WORDS, mecab_tagger

DEFAULT_MAX_LENGTH = 128
"""Tweets are short: the reference study's longest 99.9 % fit in 116 tokens."""

Feature = dict[str, Any]
Span = tuple[int, int]

_SPECIAL_SPLIT = re.compile("(" + "|".join(re.escape(token) for token in (*CORE_SPECIAL_TOKENS, *SPECIAL_WORDS)) + ")")


def truncate_pair(first: list[int], second: list[int], n_remove: int) -> tuple[list[int], list[int]]:
    """Removes ``n_remove`` tokens from the right of a pair as transformers' ``longest_first`` does.

    The longer side first loses the difference in length, then both sides lose half the rest each (the second side
    the larger half when the first is not strictly longer).
    """
    if n_remove <= 0:
        return first, second
    first_remove = min(abs(len(second) - len(first)), n_remove)
    rest = n_remove - first_remove
    if len(first) > len(second):
        from_first, from_second = first_remove + rest // 2, rest - rest // 2
    else:
        from_first, from_second = rest // 2, first_remove + rest - rest // 2
    return first[: len(first) - from_first], second[: len(second) - from_second]


class Encoder:
    """Token ids of texts, with character spans, as the saved tokenizer gives them; each distinct text once."""

    def __init__(self, tokenizer_dir: Path, max_length: int = DEFAULT_MAX_LENGTH):
        if max_length < 3:
            raise ValueError(f"max_length must leave room for [CLS] and two [SEP], got {max_length}")
        self.max_length = max_length
        self._wordpiece = wordpiece_model(Path(tokenizer_dir))
        self._parse = mecab_tagger().parse
        self.cls_id = self._wordpiece.token_to_id("[CLS]")
        self.sep_id = self._wordpiece.token_to_id("[SEP]")
        self._ids: dict[str, list[int]] = {}

    def spans(self, text: str) -> tuple[list[int], list[Span]]:
        """Token ids of ``text`` (those of the saved tokenizer) and each token's ``(start, end)`` in ``text``."""
        ids: list[int] = []
        spans: list[Span] = []
        offset = 0
        for piece in _SPECIAL_SPLIT.split(text):
            if _SPECIAL_SPLIT.fullmatch(piece):
                ids.append(self._wordpiece.token_to_id(piece))
                spans.append((offset, offset + len(piece)))
            elif piece:
                normalized, starts, ends = _nfkc_with_origin(piece)
                words = self._parse(normalized).split()
                cursor = 0
                for word, encoding in zip(words, self._wordpiece.encode_batch(words, add_special_tokens=False)):
                    start = normalized.index(word, cursor)
                    cursor = start + len(word)
                    ids.extend(encoding.ids)
                    spans.extend((offset + starts[start + a], offset + ends[start + b - 1])
                                 for a, b in encoding.offsets)
            offset += len(piece)
        return ids, spans

    def ids(self, text: str) -> list[int]:
        if text not in self._ids:
            self._ids[text] = self.spans(text)[0]
        return self._ids[text]

    def inputs(self, text: str, text_pair: str | None = None) -> Feature:
        """``input_ids`` and ``token_type_ids`` of one text or pair, truncated to ``max_length``."""
        cls, sep = self.cls_id, self.sep_id
        first = self.ids(text)
        if text_pair is None:
            ids = [cls, *first[: self.max_length - 2], sep]
            return {"input_ids": ids, "token_type_ids": [0] * len(ids)}
        second = self.ids(text_pair)
        first, second = truncate_pair(first, second, len(first) + len(second) + 3 - self.max_length)
        return {"input_ids": [cls, *first, sep, *second, sep],
                "token_type_ids": [0] * (len(first) + 2) + [1] * (len(second) + 1)}


def _nfkc_with_origin(text: str) -> tuple[str, list[int], list[int]]:
    """NFKC of ``text`` and, per normalised character, the original span ``[starts[j], ends[j])`` it came from.

    Character by character where that gives the same string; otherwise (characters composing across boundaries,
    such as half-width kana with voicing marks) from the lengths of the normalised prefixes.
    """
    normalized = unicodedata.normalize("NFKC", text)
    parts = [unicodedata.normalize("NFKC", char) for char in text]
    if "".join(parts) == normalized:
        starts = [i for i, part in enumerate(parts) for _ in part]
        return normalized, starts, [i + 1 for i in starts]
    starts, ends = [], []
    for i in range(len(text)):
        n = len(unicodedata.normalize("NFKC", text[: i + 1]))
        starts.extend([i] * (n - len(starts)))
        ends.extend([i + 1] * (n - len(ends)))
        if ends:
            ends[-1] = i + 1  # a character merged into the previous one extends its span
    return normalized, starts[: len(normalized)], ends[: len(normalized)]


def build_features(examples: Sequence[Example], problem_type: ProblemType, encoder: Encoder) -> list[Feature]:
    """One feature dict per example with ``labels`` of the dtype the head's loss takes.

    Sequence classification and regression encode ``text``, paired with ``text_pair`` where present (the second
    sentence of JGLUE pairs, the target of JTBR);
    multi-label labels are float vectors; multiple choice pairs the question with each choice, giving
    ``[num_choices, seq]`` inputs.
    """
    problem_type = ProblemType(problem_type)
    if problem_type is ProblemType.EXTRACTIVE_QA:
        raise ValueError("extractive QA features come from qa_features (they need their windows to be decoded)")
    if problem_type is ProblemType.MULTIPLE_CHOICE:
        features = []
        for example in examples:
            choices = [encoder.inputs(example["text"], choice) for choice in example["choices"]]
            features.append({"input_ids": [c["input_ids"] for c in choices],
                             "token_type_ids": [c["token_type_ids"] for c in choices],
                             "labels": int(example["label"])})
        return features
    features = []
    for example in examples:
        feature = encoder.inputs(example["text"], example.get("text_pair"))
        if problem_type is ProblemType.MULTI_LABEL:
            feature["labels"] = [float(value) for value in example["labels"]]
        elif problem_type is ProblemType.REGRESSION:
            feature["labels"] = float(example["label"])
        else:
            feature["labels"] = int(example["label"])
        features.append(feature)
    return features


DEFAULT_STRIDE = 32
"""Tokens shared by consecutive windows over a long QA context."""

MAX_ANSWER_TOKENS = 30


@dataclass(frozen=True)
class Window:
    """Where one QA feature came from: its example, the sequence position of its first context token, and the
    character spans (in the example's context) of its context tokens."""

    example: int
    context_start: int
    spans: list[Span]


def qa_features(examples: Sequence[Example], encoder: Encoder,
                stride: int = DEFAULT_STRIDE) -> tuple[list[Feature], list[Window]]:
    """``[CLS] question [SEP] context window [SEP]`` features, several per example where the context is long.

    Questions keep at most half of ``max_length``; windows over the context overlap by ``stride`` tokens. A window
    holding the whole first gold answer points ``start_positions``/``end_positions`` at its tokens; other windows
    (and unanswerable questions) point at ``[CLS]``.
    """
    spans_of: dict[str, tuple[list[int], list[Span]]] = {}
    features: list[Feature] = []
    windows: list[Window] = []
    for index, example in enumerate(examples):
        question = encoder.ids(example["question"])[: encoder.max_length // 2]
        if example["context"] not in spans_of:
            spans_of[example["context"]] = encoder.spans(example["context"])
        ids, spans = spans_of[example["context"]]
        budget = encoder.max_length - len(question) - 3
        if budget <= stride:
            raise ValueError(f"max_length {encoder.max_length} leaves {budget} context tokens, not more than the "
                             f"stride {stride}")
        answer = _answer_tokens(example, spans)
        context_start = len(question) + 2
        start = 0
        while True:
            end = min(start + budget, len(ids))
            inside = answer is not None and start <= answer[0] and answer[1] < end
            features.append({
                "input_ids": [encoder.cls_id, *question, encoder.sep_id, *ids[start:end], encoder.sep_id],
                "token_type_ids": [0] * context_start + [1] * (end - start + 1),
                "start_positions": context_start + answer[0] - start if inside else 0,
                "end_positions": context_start + answer[1] - start if inside else 0,
            })
            windows.append(Window(index, context_start, spans[start:end]))
            if end == len(ids):
                break
            start += budget - stride
    return features, windows


def _answer_tokens(example: Example, spans: Sequence[Span]) -> tuple[int, int] | None:
    """First and last context token overlapping the first gold answer; None for an unanswerable question."""
    answers = example["answers"]
    if not answers["text"]:
        return None
    start = answers["answer_start"][0]
    end = start + len(answers["text"][0])
    overlapping = [i for i, (a, b) in enumerate(spans) if a < end and b > start]
    return (overlapping[0], overlapping[-1]) if overlapping else None


def qa_answers(start_logits: np.ndarray, end_logits: np.ndarray, windows: Sequence[Window],
               examples: Sequence[Example], max_answer_tokens: int = MAX_ANSWER_TOKENS) -> list[str]:
    """Each example's answer: the context span of highest start + end logit over all its windows.

    Spans lie within one window's context, end at or after their start and have at most ``max_answer_tokens``
    tokens. Every question is taken to be answerable (as in JSQuAD), so ``[CLS]`` is never chosen.
    """
    best: list[tuple[float, Span]] = [(-np.inf, (0, 0))] * len(examples)
    for window, starts, ends in zip(windows, start_logits, end_logits):
        n = len(window.spans)
        s = np.asarray(starts[window.context_start : window.context_start + n], dtype=float)
        e = np.asarray(ends[window.context_start : window.context_start + n], dtype=float)
        scores = s[:, None] + e[None, :]
        offsets = np.arange(n)[None, :] - np.arange(n)[:, None]
        scores[(offsets < 0) | (offsets >= max_answer_tokens)] = -np.inf
        first, last = np.unravel_index(np.argmax(scores), scores.shape)
        if scores[first, last] > best[window.example][0]:
            best[window.example] = (float(scores[first, last]), (window.spans[first][0], window.spans[last][1]))
    return [example["context"][a:b] for example, (_, (a, b)) in zip(examples, best)]


class PaddingCollator:
    """Pads a batch of features to its longest sequence (``[batch, seq]``, or ``[batch, choices, seq]``) and adds
    the attention mask; float labels stay float (regression, multi-label), integer labels and QA positions become
    int64."""

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, features: Sequence[Feature]) -> dict[str, torch.Tensor]:
        multiple_choice = isinstance(features[0]["input_ids"][0], list)
        input_ids, token_type_ids = (
            [seq for f in features for seq in f[key]] if multiple_choice else [f[key] for f in features]
            for key in ("input_ids", "token_type_ids"))
        width = max(len(ids) for ids in input_ids)
        batch = {
            "input_ids": torch.tensor([ids + [self.pad_token_id] * (width - len(ids)) for ids in input_ids]),
            "token_type_ids": torch.tensor([types + [0] * (width - len(types)) for types in token_type_ids]),
            "attention_mask": torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids in input_ids]),
        }
        if multiple_choice:
            batch = {key: value.view(len(features), -1, width) for key, value in batch.items()}
        for key in ("labels", "start_positions", "end_positions"):
            if key in features[0]:
                labels = [f[key] for f in features]
                batch[key] = torch.tensor(labels, dtype=torch.float32 if _is_float(labels[0]) else torch.long)
        return batch


def _is_float(label: Any) -> bool:
    return isinstance(label, float) or (isinstance(label, list) and isinstance(label[0], float))
