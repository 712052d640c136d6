"""The one shape every downstream dataset is loaded into, so fine-tuning and evaluation need no per-dataset code.

Examples are plain dicts, by problem type:

- ``single_label``: ``text``, optional ``text_pair``, ``label`` (int, index into ``label_names``);
- ``multi_label``: ``text``, ``labels`` (0.0/1.0 per entry of ``label_names``, the shape a BCE loss takes) and
  ``intensities`` (the graded gold values the labels were thresholded from; top-1 accuracy needs them);
- ``regression``: ``text``, optional ``text_pair``, ``label`` (float);
- ``multiple_choice``: ``text`` (the question), ``choices`` (list of str), ``label`` (int, index into choices);
- ``extractive_qa``: ``id``, ``title``, ``question``, ``context``, ``answers`` (``{"text": [...],
  "answer_start": [...]}``, character offsets into ``context``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SPLITS = ("train", "validation", "dev", "test")
"""Roles: train fits, validation stops early, dev compares trials and candidates, test is touched once."""

SPLIT_ROLES = {"train": "fits the model", "validation": "scored every epoch; the pruner's values",
               "dev": "the trial's objective, on the model training ended with",
               "test": "scored once, on the kept model of the best trial"}
"""What each split does in fine-tuning, as best.json records it."""

Example = dict[str, Any]


class ProblemType(StrEnum):
    SINGLE_LABEL = "single_label"
    MULTI_LABEL = "multi_label"
    REGRESSION = "regression"
    MULTIPLE_CHOICE = "multiple_choice"
    EXTRACTIVE_QA = "extractive_qa"

    @property
    def hf_problem_type(self) -> str | None:
        """The ``problem_type`` a transformers sequence-classification config takes (None for other heads)."""
        return {
            ProblemType.SINGLE_LABEL: "single_label_classification",
            ProblemType.MULTI_LABEL: "multi_label_classification",
            ProblemType.REGRESSION: "regression",
        }.get(self)


@dataclass
class TaskData:
    """A task's examples in the four roles, with the origin of each split so a report can say what was carved.

    ``metadata`` holds what the loader learnt about the published data beyond the examples (``annotators``: how
    per-annotator labels became gold labels and their agreement, :mod:`tweetbert.tasks.annotators`).
    """

    name: str
    problem_type: ProblemType
    splits: dict[str, list[Example]]
    sources: dict[str, str]
    label_names: list[str] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if tuple(self.splits) != SPLITS or tuple(self.sources) != SPLITS:
            raise ValueError(f"splits and sources must be keyed {SPLITS} in that order")

    def __getitem__(self, split: str) -> list[Example]:
        return self.splits[split]

    @property
    def num_labels(self) -> int | None:
        """Outputs of a sequence-classification head; None where the head has no label count."""
        if self.problem_type is ProblemType.REGRESSION:
            return 1
        return len(self.label_names) if self.label_names is not None else None
