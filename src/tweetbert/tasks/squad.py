"""JSQuAD: SQuAD-form JSON documents, one per split, read with every answer offset checked against its context.

Extractive QA is read from files only (a ``hub`` option for it is a ConfigError, see :mod:`tweetbert.tasks.hub`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tweetbert.errors import InputError
from tweetbert.tables import Fields, read_text
from tweetbert.tasks.loaders import _JGLUE_ROLES, _all_or_none_labelled, _jglue_files
from tweetbert.tasks.splits import resolve_splits
from tweetbert.tasks.types import Example, ProblemType, TaskData


def _squad_questions(path: Path) -> list[tuple[Fields, Example | None]]:
    """Each question with its example, or None where it has no answer and is not marked impossible."""
    text = read_text(path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(path, f"invalid JSON: {error.msg} (character {error.colno})", row=error.lineno) from None
    questions: list[tuple[Fields, Example | None]] = []
    for i, article in enumerate(Fields(document, path, None).items("data")):
        article = Fields(article, path, None, f"data[{i}]")
        title = article.text("title")
        for j, paragraph in enumerate(article.items("paragraphs")):
            paragraph = Fields(paragraph, path, None, f"data[{i}].paragraphs[{j}]")
            context = paragraph.text("context")
            for k, qa in enumerate(paragraph.items("qas")):
                where = f"data[{i}].paragraphs[{j}].qas[{k}]"
                qa = Fields(qa, path, len(questions) + 1, where)
                example = {"id": qa.category("id"), "title": title, "question": qa.text("question"),
                           "context": context, "answers": {"text": [], "answer_start": []}}
                for a, answer in enumerate(qa.items("answers")):
                    answer = Fields(answer, path, qa.row, f"{where}.answers[{a}]")
                    answer_text, start = answer.text("text"), answer.integer("answer_start", 0, len(context))
                    found = context[start:start + len(answer_text)]
                    if found != answer_text:
                        raise answer.error("answer_start", f"context[{start}:{start + len(answer_text)}] is "
                                                           f"{found!r}, not the answer text {answer_text!r}")
                    example["answers"]["text"].append(answer_text)
                    example["answers"]["answer_start"].append(start)
                answered = bool(example["answers"]["text"]) or qa.values.get("is_impossible") is True
                questions.append((qa, example if answered else None))
    return questions


def load_jsquad(name: str, options: Mapping[str, Any]) -> TaskData:
    """JSQuAD: one SQuAD-form JSON document per split; answer offsets are checked against the context."""
    directory, files = _jglue_files(name, options)
    published, origins = {}, {}
    for split, path in files.items():
        questions = _squad_questions(path)
        records, examples = [record for record, _ in questions], [example for _, example in questions]
        if _all_or_none_labelled(records, [example is not None for example in examples], "answers"):
            published[_JGLUE_ROLES[split]] = list(examples)
            origins[_JGLUE_ROLES[split]] = path.name
    splits, sources = resolve_splits(published, origins, ProblemType.EXTRACTIVE_QA,
                                     seed=int(options["seed"]), path=directory)
    return TaskData(name, ProblemType.EXTRACTIVE_QA, splits, sources)
