"""The one place that knows each downstream task: its loader, problem type, head, metrics and options.

It holds the study's tasks; other tasks join with :func:`register_task` (the demo registers its own when
``tweetbert.demo`` is imported, so the core never imports the demo).

``TaskSpec.options`` lists every option a task accepts with its default (``REQUIRED`` marks ``path``, which
``hub`` replaces); the config schema mirrors them under ``tasks.<name>``. Paths: a TSV file for WRIME, the folder
of the task's ``train-v1.3.json``/``valid-v1.3.json``/``test-v1.3.json`` for JGLUE, a CSV/TSV/JSON Lines/Parquet
table otherwise, or for any task but JSQuAD a folder ``save_to_disk`` wrote. ``hub: {repo, config, revision}``
loads a Hugging Face dataset instead (:mod:`tweetbert.tasks.hub`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tweetbert.errors import ConfigError
from tweetbert.tasks import hub
from tweetbert.tasks.loaders import (
    CONFIG_PREFIX,
    DEFAULT_SPLIT_COLUMN,
    check_file_options,
    load_jglue,
    load_table,
    load_wrime_emotion,
    load_wrime_sentiment,
)
from tweetbert.tasks.metrics import METRICS
from tweetbert.tasks.splits import sample_splits
from tweetbert.tasks.squad import load_jsquad
from tweetbert.tasks.types import ProblemType, TaskData

REQUIRED = object()
"""Marks an option without a default."""

SEQUENCE_CLASSIFICATION = "AutoModelForSequenceClassification"
MULTIPLE_CHOICE = "AutoModelForMultipleChoice"
QUESTION_ANSWERING = "AutoModelForQuestionAnswering"

Loader = Callable[[str, Mapping[str, Any]], TaskData]

_COMMON = {"path": REQUIRED, "hub": None, "seed": 0, "max_examples": None}
_TABLE = {**_COMMON, "format": None, "text_column": "text", "label_column": "label", "target_column": None,
          "split_column": DEFAULT_SPLIT_COLUMN, "labels": None, "hydrated": None, "id_column": "id",
          "annotators": None}
_WRIME = {**_COMMON, "annotator": "Avg. Readers_", "columns": None}
_JSQUAD = {**_COMMON, "file_pattern": "{split}-v1.3.json"}
_JGLUE = {**_JSQUAD, "columns": None}


@dataclass(frozen=True)
class TaskSpec:
    name: str
    problem_type: ProblemType
    loader: Loader
    metrics: tuple[str, ...]
    main_metric: str
    head: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.main_metric not in self.metrics or not set(self.metrics) <= set(METRICS):
            raise ValueError(f"task {self.name}: metrics {self.metrics} / main {self.main_metric!r} are inconsistent")
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    def __reduce__(self) -> tuple:
        """Pickles by value (a sweep's worker processes receive it), the read-only options as a plain dict."""
        return (type(self), (self.name, self.problem_type, self.loader, self.metrics, self.main_metric, self.head,
                             dict(self.options)))

    @property
    def hf_problem_type(self) -> str | None:
        return self.problem_type.hf_problem_type

    def resolve_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """``options`` over the defaults; unknown and missing required options raise ConfigError."""
        for key in options:
            if key not in self.options:
                raise ConfigError(f"{CONFIG_PREFIX}.{self.name}.{key}",
                                  f"unknown option (known: {sorted(self.options)})")
        resolved = {**self.options, **options}
        if resolved["path"] is REQUIRED and resolved.get("hub") is not None:
            resolved["path"] = None  # the data comes from the Hub
        for key, value in resolved.items():
            if value is REQUIRED:
                raise ConfigError(f"{CONFIG_PREFIX}.{self.name}.{key}",
                                  "required" + (" (or `hub`)" if key == "path" and "hub" in self.options else ""))
        if isinstance(resolved["seed"], bool) or not isinstance(resolved["seed"], int):
            raise ConfigError(f"{CONFIG_PREFIX}.{self.name}.seed", f"must be an integer, got {resolved['seed']!r}")
        limit = resolved["max_examples"]
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ConfigError(f"{CONFIG_PREFIX}.{self.name}.max_examples",
                              f"must be a positive integer or null, got {limit!r}")
        return resolved


def table_task(name: str, **options: Any) -> TaskSpec:
    """A single-label classification task read from a generic table (see ``loaders.load_table``)."""
    return TaskSpec(name, ProblemType.SINGLE_LABEL, load_table, ("accuracy",), "accuracy", SEQUENCE_CLASSIFICATION,
                    {**_TABLE, **options})


TASKS: dict[str, TaskSpec] = {spec.name: spec for spec in (
    table_task("jts1k"),
    table_task("jtdd"),
    table_task("jtbr", target_column="target"),
    TaskSpec("wrime_emotion", ProblemType.MULTI_LABEL, load_wrime_emotion, ("top1_accuracy", "micro_f1", "macro_f1"),
             "macro_f1", SEQUENCE_CLASSIFICATION, {**_WRIME, "threshold": 1}),
    TaskSpec("wrime_sentiment", ProblemType.REGRESSION, load_wrime_sentiment, ("pearson", "spearman"), "pearson",
             SEQUENCE_CLASSIFICATION, _WRIME),
    TaskSpec("marc_ja", ProblemType.SINGLE_LABEL, load_jglue, ("accuracy",), "accuracy", SEQUENCE_CLASSIFICATION,
             _JGLUE),
    TaskSpec("jsts", ProblemType.REGRESSION, load_jglue, ("pearson", "spearman"), "pearson", SEQUENCE_CLASSIFICATION,
             _JGLUE),
    TaskSpec("jcola", ProblemType.SINGLE_LABEL, load_jglue, ("accuracy", "mcc"), "accuracy", SEQUENCE_CLASSIFICATION,
             _JGLUE),
    TaskSpec("jnli", ProblemType.SINGLE_LABEL, load_jglue, ("accuracy",), "accuracy", SEQUENCE_CLASSIFICATION, _JGLUE),
    TaskSpec("jsquad", ProblemType.EXTRACTIVE_QA, load_jsquad, ("exact_match", "f1"), "f1", QUESTION_ANSWERING,
             _JSQUAD),
    TaskSpec("jcommonsenseqa", ProblemType.MULTIPLE_CHOICE, load_jglue, ("accuracy",), "accuracy", MULTIPLE_CHOICE,
             _JGLUE),
)}


def register_task(spec: TaskSpec) -> None:
    """Adds a task to the registry; registering the same spec again is a no-op, another spec under a known name
    an error."""
    known = TASKS.setdefault(spec.name, spec)
    if known != spec:
        raise ValueError(f"task {spec.name!r} is already registered with another spec")


def get_task(name: str) -> TaskSpec:
    if name not in TASKS:
        raise ConfigError(CONFIG_PREFIX, f"unknown task {name!r} (known: {sorted(TASKS)})")
    return TASKS[name]


def check_options(name: str, options: Mapping[str, Any]) -> None:
    """The option values the loaders check, checked without reading a file (the workflow does so at start).

    ``options`` are resolved (defaults filled in); each check is the one its loader runs.
    """
    hub.check_hub_options(name, options, get_task(name).loader)
    check_file_options(name, options, through_datasets=hub.reads_datasets(options))


def load_task(name: str, options: Mapping[str, Any]) -> TaskData:
    """The task's examples in the train/validation/dev/test roles, read from the files or the dataset ``options``
    name."""
    spec = get_task(name)
    resolved = spec.resolve_options(options)
    data = hub.load(spec.loader, name, resolved)
    if resolved["max_examples"] is not None:
        data = sample_splits(data, resolved["max_examples"], resolved["seed"])
    return data
