"""How well each tokenizer's vocabulary covers the downstream tasks' own text.

The study explained why the Twitter model gained on SNS tasks but not on JGLUE by the tokenizers' unknown rates on
each task's text (2.5 % vs 0.1 %): a vocabulary helps a task only where the task's words are in it. Every piece of
text a model reads from a task counts (sentences, pairs, questions, contexts and answer choices).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tweetbert.tasks.types import SPLITS, Example, TaskData
from tweetbert.tokenization.lengths import CorpusEncoder
from tweetbert.tokenization.mecab import JapaneseWords
from tweetbert.tokenization.settings import TaskVocabularySettings

_TEXT_FIELDS = ("text", "text_pair", "question", "context")


TASK_VOCABULARY_OUTPUTS = {
    "table": "TSV per task and tokenizer: [UNK] rate, tokens per text, share of words split",
    "html": "the same table as an HTML page, for the report",
    "plot": "PNG of the [UNK] rate and word splitting per task",
}
COLUMNS = ("task", "tokenizer", "texts", "words", "tokens", "unk_rate", "tokens_per_text", "words_split")


def example_texts(examples: Iterable[Example]) -> list[str]:
    """Every non-empty text field of the examples, in order, answer choices included."""
    texts: list[str] = []
    for example in examples:
        texts += [example[field] for field in _TEXT_FIELDS if example.get(field)]
        texts += [choice for choice in example.get("choices") or () if choice]
    return texts


def task_texts(data: TaskData, max_texts: int | None, seed: int) -> list[str]:
    """The texts of all four splits; a seeded sample of ``max_texts`` of them when there are more."""
    texts = example_texts(example for split in SPLITS for example in data[split])
    if max_texts is not None and len(texts) > max_texts:
        texts = random.Random(seed).sample(texts, max_texts)
    return texts


def _content_tokens(encoded: Sequence[Sequence[int]], special_ids: set[int]) -> list[list[int]]:
    return [[token for token in ids if token not in special_ids] for ids in encoded]


def vocabulary_on_texts(texts: Sequence[str], encoder: CorpusEncoder) -> dict[str, float | int]:
    """[UNK] share of tokens, tokens per text and the share of MeCab words the vocabulary splits into pieces."""
    tokenizer = encoder.tokenizer
    special_ids = {tokenizer.convert_tokens_to_ids(token) for token in tokenizer.all_special_tokens}
    special_ids.discard(tokenizer.unk_token_id)
    tokens = _content_tokens(encoder.encode(texts), special_ids)
    n_tokens = sum(map(len, tokens))
    n_unk = sum(ids.count(tokenizer.unk_token_id) for ids in tokens)
    splitter = JapaneseWords()
    words = Counter(word for text in texts for word in splitter.words(text, keep_special=False))
    distinct = sorted(words)
    pieces = _content_tokens(encoder.encode(distinct), special_ids)
    n_words = sum(words.values())
    n_split = sum(words[word] for word, ids in zip(distinct, pieces, strict=True) if len(ids) > 1)
    return {"texts": len(texts), "words": n_words, "tokens": n_tokens,
            "unk_rate": n_unk / n_tokens if n_tokens else 0.0,
            "tokens_per_text": n_tokens / len(texts) if texts else 0.0,
            "words_split": n_split / n_words if n_words else 0.0}


def task_vocabulary(texts_by_task: Mapping[str, Sequence[str]], tokenizers: Mapping[str, str | Path],
                    workers: int = 1) -> pd.DataFrame:
    """One row per task and tokenizer, tasks and tokenizers in the order given."""
    empty = [task for task, texts in texts_by_task.items() if not texts]
    if empty:
        raise ValueError(f"no text to measure for task(s) {', '.join(empty)}")
    encoders = {name: CorpusEncoder(path, workers) for name, path in tokenizers.items()}
    rows = [{"task": task, "tokenizer": name, **vocabulary_on_texts(texts, encoder)}
            for task, texts in texts_by_task.items() for name, encoder in encoders.items()]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_task_vocabulary(tasks: Mapping[str, Mapping[str, Any]], tokenizers: Mapping[str, str | Path],
                          paths: Mapping[str, Path], settings: TaskVocabularySettings, workers: int = 1) -> pd.DataFrame:
    """Loads every task (``tasks``: name -> loader options), measures each tokenizer on its text and writes the
    ``table`` (TSV), its ``html`` page and the ``plot``."""
    from tweetbert.plots.html_table import write_html_table
    from tweetbert.plots.task_vocabulary import plot_task_vocabulary
    from tweetbert.tasks.registry import load_task

    texts = {name: task_texts(load_task(name, options), settings.task_texts, settings.seed)
             for name, options in tasks.items()}
    table = task_vocabulary(texts, tokenizers, workers)
    Path(paths["table"]).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(paths["table"], sep="\t", index=False, float_format="%.6f", lineterminator="\n")
    shown = table.assign(unk_rate=table["unk_rate"] * 100, words_split=table["words_split"] * 100).rename(
        columns={"unk_rate": "[UNK] %", "words_split": "words split %"})
    write_html_table(shown, paths["html"], title="Tokenizers on each task's text", digits=2,
                     note="[UNK] %: unknown tokens among all tokens of the task's texts; tokens per text: without "
                          "[CLS]/[SEP]; words split %: MeCab words the vocabulary cuts into several pieces.")
    plot_task_vocabulary(table, paths["plot"])
    return table
