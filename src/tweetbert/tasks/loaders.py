"""Readers for the downstream datasets exactly as their authors publish them (see DATASETS.md).

Every malformed record raises :class:`InputError` naming the file (or the dataset and split), the row (line of a
TSV/CSV/JSON Lines file; record number of a Parquet table or dataset split; question number of a JSQuAD document)
and the field, so a hand-edited or freshly hydrated file can be fixed at once. Loaders take the task name and its
options with defaults filled in (``registry.TaskSpec.options``); a bad option raises :class:`ConfigError` under
``tasks.<name>.<option>``. A loader takes the published tables already read (``tables``) where they come from a
`datasets` dataset (:mod:`tweetbert.tasks.hub`); otherwise it reads the files ``path`` names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tweetbert.errors import ConfigError, InputError
from tweetbert.tables import SUFFIX_FORMATS, Fields, category_text, read_delimited, read_jsonl, read_table
from tweetbert.tasks import annotators
from tweetbert.tasks.splits import resolve_splits
from tweetbert.tasks.types import Example, ProblemType, TaskData

CONFIG_PREFIX = "tasks"

EMOTIONS = ("Joy", "Sadness", "Anticipation", "Surprise", "Anger", "Fear", "Disgust", "Trust")
WRIME_GROUPS = ("Writer_", "Reader1_", "Reader2_", "Reader3_", "Avg. Readers_")
WRIME_SPLIT_COLUMN = "Train/Dev/Test"
_WRIME_ROLES = ("train", "dev", "test")
JNLI_LABELS = ("entailment", "contradiction", "neutral")
MARC_JA_LABELS = ("positive", "negative")
JCOLA_LABELS = ("unacceptable", "acceptable")
JCOMMONSENSEQA_CHOICES = 5
DEFAULT_SPLIT_COLUMN = "split"
_SPLIT_NAMES = {"train": "train", "validation": "validation", "valid": "validation", "val": "validation",
                "dev": "dev", "development": "dev", "test": "test"}
_INTEGER = re.compile(r"-?\d+")


@dataclass(frozen=True)
class Table:
    """One published table: a file, or one split of a `datasets` dataset (``where`` names it in errors)."""

    where: Path | str
    columns: list[str]
    records: list[Fields]
    header_row: int | None = None
    role: str | None = None  # the role the table is published in; None: by its split column, or carved
    origin: str | None = None  # the split's source, where ``role`` is set


def _name(where: Path | str) -> str:
    return where.name if isinstance(where, Path) else str(where)


def _config_key(name: str, option: str) -> str:
    return f"{CONFIG_PREFIX}.{name}.{option}"


def _all_or_none_labelled(records: Sequence[Fields], labelled: Sequence[bool], column: str) -> bool:
    """Whether a split is published with labels; a split where only some records have one is an error."""
    for record, flag in zip(records, labelled):
        if flag != labelled[0]:
            raise record.error(column, "no label while earlier records have one" if labelled[0]
                               else "a label while the first record of the file has none")
    return bool(labelled) and labelled[0]


# --- WRIME --------------------------------------------------------------------------------------------------

def _wrime_group(name: str, options: Mapping[str, Any]) -> str:
    group = str(options["annotator"])
    group = group if group.endswith("_") else group + "_"
    if group not in WRIME_GROUPS:
        raise ConfigError(_config_key(name, "annotator"),
                          f"{options['annotator']!r} is not one of {list(WRIME_GROUPS)}")
    return group


def _wrime_threshold(name: str, threshold: Any) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold <= 3:
        raise ConfigError(_config_key(name, "threshold"), f"must be a number in (0, 3], got {threshold!r}")
    return threshold


def _wrime_column(path: Path | str, header: Sequence[str], group: str, field: str, hint: str = "") -> str:
    """The column of ``group`` + ``field``; ver1 files spell Sadness ``Saddness`` for some readers."""
    candidates = [group + field] + ([group + "Saddness"] if field == "Sadness" else [])
    for column in candidates:
        if column in header:
            return column
    raise InputError(path, "missing column" + hint, row=1, column=group + field)


def _wrime_files(name: str, options: Mapping[str, Any]) -> dict[str | None, Path]:
    """``path``: one file (split by its ``Train/Dev/Test`` column, or carved when it has none), or a mapping of
    split to file (``{train: ..., dev: ..., test: ...}``) as third parties redistribute WRIME."""
    path = options["path"]
    if not isinstance(path, Mapping):
        return {None: Path(path)}
    unknown = sorted(set(path) - set(_WRIME_ROLES))
    if unknown or "train" not in path:
        raise ConfigError(_config_key(name, "path"), f"a mapping of split to file needs `train` and may have "
                                                     f"{list(_WRIME_ROLES)[1:]}, got {sorted(path)}")
    return {role: Path(path[role]) for role in _WRIME_ROLES if role in path}


def _wrime_tables(name: str, options: Mapping[str, Any]) -> list[Table]:
    tables = []
    for split, path in _wrime_files(name, options).items():
        header, records = read_delimited(path, "\t")
        tables.append(Table(path, header, records, 1, split, split and f"{path.name} (the {split} file)"))
    return tables


def _load_wrime(name: str, options: Mapping[str, Any], problem_type: ProblemType,
                parse_for: Callable[[Path | str, list[str], str], Callable[[Fields], Example]],
                label_names: list[str] | None, tables: Sequence[Table] | None) -> TaskData:
    group = _wrime_group(name, options)
    published: dict[str, list[Example]] = {role: [] for role in _WRIME_ROLES}
    origins: dict[str, str] = {}
    tables = _wrime_tables(name, options) if tables is None else tables
    for table in tables:
        path, header, records = table.where, table.columns, table.records
        if "Sentence" not in header:
            raise InputError(path, "missing column", row=table.header_row, column="Sentence")
        parse = parse_for(path, header, group)
        if table.role is not None:
            published[table.role] += [parse(record) for record in records]
            origins[table.role] = table.origin
        elif WRIME_SPLIT_COLUMN in header:
            for record in records:
                published[_WRIME_ROLES[record.choice(WRIME_SPLIT_COLUMN, _WRIME_ROLES)]].append(parse(record))
            origins.update({role: f"{_name(path)}, rows with {WRIME_SPLIT_COLUMN} = {role}" for role in _WRIME_ROLES})
        else:
            published["train"] = [parse(record) for record in records]
            origins["train"] = f"{_name(path)} (no {WRIME_SPLIT_COLUMN} column)"
    splits, sources = resolve_splits(published, origins, problem_type, seed=int(options["seed"]), path=tables[0].where)
    return TaskData(name, problem_type, splits, sources, label_names)


def load_wrime_emotion(name: str, options: Mapping[str, Any], tables: Sequence[Table] | None = None) -> TaskData:
    """Multi-label: an emotion is present where the annotator group's intensity reaches ``threshold``.

    The default threshold 1 on ``Avg. Readers_`` counts every emotion the readers on average perceived at all;
    2 keeps only clear emotions and leaves most tweets without any label.
    """
    threshold = _wrime_threshold(name, options["threshold"])

    def parse_for(path: Path | str, header: list[str], group: str) -> Callable[[Fields], Example]:
        columns = [_wrime_column(path, header, group, emotion) for emotion in EMOTIONS]

        def parse(record: Fields) -> Example:
            intensities = [record.number(column, 0, 3) for column in columns]
            return {"text": record.text("Sentence"), "labels": [float(v >= threshold) for v in intensities],
                    "intensities": intensities}
        return parse

    return _load_wrime(name, options, ProblemType.MULTI_LABEL, parse_for, list(EMOTIONS), tables)


def load_wrime_sentiment(name: str, options: Mapping[str, Any], tables: Sequence[Table] | None = None) -> TaskData:
    """Regression on the annotator group's sentiment (−2 … 2), a WRIME ver2 column."""

    def parse_for(path: Path | str, header: list[str], group: str) -> Callable[[Fields], Example]:
        column = _wrime_column(path, header, group, "Sentiment", " (sentiment is annotated in WRIME ver2 only)")
        return lambda record: {"text": record.text("Sentence"), "label": record.number(column, -2, 2)}

    return _load_wrime(name, options, ProblemType.REGRESSION, parse_for, None, tables)


# --- JGLUE ----------------------------------------------------------------------------------------------------

def _jsts(record: Fields) -> Example:
    return {"text": record.text("sentence1"), "text_pair": record.text("sentence2"),
            "label": record.number("label", 0, 5)}


def _jnli(record: Fields) -> Example:
    return {"text": record.text("sentence1"), "text_pair": record.text("sentence2"),
            "label": record.choice("label", JNLI_LABELS)}


def _marc_ja(record: Fields) -> Example:
    return {"text": record.text("sentence"), "label": record.choice("label", MARC_JA_LABELS)}


def _jcola(record: Fields) -> Example:
    return {"text": record.text("sentence"), "label": record.choice("label", ("0", "1"))}


def _jcommonsenseqa(record: Fields) -> Example:
    return {"text": record.text("question"),
            "choices": [record.text(f"choice{k}") for k in range(JCOMMONSENSEQA_CHOICES)],
            "label": record.choice("label", [str(k) for k in range(JCOMMONSENSEQA_CHOICES)])}


_JGLUE: dict[str, tuple[ProblemType, Callable[[Fields], Example], tuple[str, ...] | None]] = {
    "jsts": (ProblemType.REGRESSION, _jsts, None),
    "jnli": (ProblemType.SINGLE_LABEL, _jnli, JNLI_LABELS),
    "marc_ja": (ProblemType.SINGLE_LABEL, _marc_ja, MARC_JA_LABELS),
    "jcola": (ProblemType.SINGLE_LABEL, _jcola, JCOLA_LABELS),
    "jcommonsenseqa": (ProblemType.MULTIPLE_CHOICE, _jcommonsenseqa, None),
}
_JGLUE_ROLES = {"train": "train", "valid": "dev", "test": "test"}


def _jglue_pattern(name: str, pattern: Any) -> str:
    pattern = str(pattern)
    if "{split}" not in pattern:
        raise ConfigError(_config_key(name, "file_pattern"), f"must contain '{{split}}', got {pattern!r}")
    return pattern


def _jglue_files(name: str, options: Mapping[str, Any]) -> tuple[Path, dict[str, Path]]:
    """The directory and the existing file of each published split; the train file must exist."""
    directory, pattern = Path(options["path"]), _jglue_pattern(name, options["file_pattern"])
    if not directory.is_dir():
        raise InputError(directory, "not a directory (expected the folder holding train-v1.3.json, …)")
    files = {split: directory / pattern.format(split=split) for split in _JGLUE_ROLES}
    if not files["train"].is_file():
        raise InputError(files["train"], "file not found")
    return directory, {split: path for split, path in files.items() if path.is_file()}


def load_jglue(name: str, options: Mapping[str, Any], tables: Sequence[Table] | None = None) -> TaskData:
    """A JSON Lines task of JGLUE (JSTS, JNLI, MARC-ja, JCoLA, JCommonsenseQA), one file per split."""
    problem_type, parse, label_names = _JGLUE[name]
    if tables is None:
        directory, files = _jglue_files(name, options)
        tables = [Table(path, [], read_jsonl(path), None, _JGLUE_ROLES[split], path.name)
                  for split, path in files.items()]
    else:
        directory = tables[0].where
    published: dict[str, list[Example]] = {}
    origins: dict[str, str] = {}
    for table in tables:
        records = table.records
        if _all_or_none_labelled(records, [record.has("label") for record in records], "label"):
            published.setdefault(table.role, []).extend(parse(record) for record in records)
            origins[table.role] = table.origin
    splits, sources = resolve_splits(published, origins, problem_type, seed=int(options["seed"]), path=directory)
    return TaskData(name, problem_type, splits, sources, list(label_names) if label_names else None)


# --- generic tables -------------------------------------------------------------------------------------------

def _table_format(name: str, path: Path, format: str | None) -> str:
    known = sorted(set(SUFFIX_FORMATS.values()))
    if format is None:
        if path.suffix.lower() not in SUFFIX_FORMATS:
            raise ConfigError(_config_key(name, "format"),
                              f"cannot tell the format of {path.name} from its suffix; set it to one of {known}")
        return SUFFIX_FORMATS[path.suffix.lower()]
    if format not in known:
        raise ConfigError(_config_key(name, "format"), f"{format!r} is not one of {known}")
    return format


def _sorted_labels(labels: set[str]) -> list[str]:
    """Label order (so ids) independent of row order: numeric where every label is an integer."""
    if all(_INTEGER.fullmatch(label) for label in labels):
        return sorted(labels, key=int)
    return sorted(labels)


def _hydrated_texts(name: str, options: Mapping[str, Any]) -> dict[str, str]:
    """Tweet id -> text of the user's hydrated table (``hydrated``: its ``id_column`` and ``text_column``)."""
    path = Path(options["hydrated"])
    columns, header_row, records = read_table(path, _table_format(name, path, None))
    for column in (options["id_column"], options["text_column"]):
        if records and column not in columns:
            raise InputError(path, "missing column (hydrated table)", row=header_row, column=column)
    texts: dict[str, str] = {}
    for record in records:
        tweet_id = record.category(options["id_column"])
        if tweet_id in texts:
            raise record.error(options["id_column"], f"tweet id {tweet_id} appears twice in the hydrated table")
        texts[tweet_id] = record.text(options["text_column"])
    return texts


def _attrition(published: Mapping[str, int], found: Mapping[str, int]) -> dict[str, str]:
    return {role: f"{found.get(role, 0):,} of {total:,} published items hydrated "
                  f"({100 * found.get(role, 0) / total:.1f} %)" for role, total in published.items()}


def load_table(name: str, options: Mapping[str, Any], tables: Sequence[Table] | None = None) -> TaskData:
    """A tweet dataset (JTS1k, JTDD, JTBR, the demo's) as CSV, TSV, JSON Lines or Parquet.

    ``target_column`` becomes the second segment of a pair (JTBR's brand). The split column named by
    ``split_column`` is used where present; only a non-default name must exist; null ignores any split column.
    Tweet datasets are published as ids: with ``hydrated`` set, ``path`` is the published id/label table and the
    texts come from the hydrated table, joined on ``id_column``; items that could not be hydrated (deleted or
    private tweets) are left out and counted per split in the split's source. With ``annotators`` set, the label
    cell lists every annotator's label and the gold label is their aggregate (:mod:`tweetbert.tasks.annotators`).
    """
    if tables is None:
        path = Path(options["path"])
        columns, header_row, records = read_table(path, _table_format(name, path, options["format"]))
        tables = [Table(path, columns, records, header_row)]
    text_column, label_column, target_column = options["text_column"], options["label_column"], options["target_column"]
    hydrated = _hydrated_texts(name, options) if options["hydrated"] is not None else None
    rule = annotators.parse_option(_config_key(name, annotators.OPTION), options[annotators.OPTION])
    split_columns = []
    for table in tables:
        split_column = options["split_column"] if table.role is None else None
        if split_column is not None and split_column not in table.columns:
            if split_column != DEFAULT_SPLIT_COLUMN and table.records:
                raise InputError(table.where, "missing column (named by split_column)", row=table.header_row,
                                 column=split_column)
            split_column = None
        split_columns.append(split_column)
        needed = (options["id_column"] if hydrated is not None else text_column, label_column, target_column)
        for column in needed:
            if column is not None and table.records and column not in table.columns:
                raise InputError(table.where, "missing column", row=table.header_row, column=column)
    everything = [record for table in tables for record in table.records]
    panels = annotators.read_panels(everything, label_column) if rule else {}
    if options["labels"] is not None:
        label_names = [category_text(label) for label in options["labels"]]
    else:
        label_names = _sorted_labels({label for panel in panels.values() for label in panel if label is not None}
                                     if rule else {record.category(label_column) for record in everything})
    vote = annotators.Vote(_config_key(name, annotators.OPTION), rule, label_column, label_names, everything,
                           panels) if rule else None
    published: dict[str, list[Example]] = {}
    split_values: dict[str, set[str]] = {}
    listed: dict[str, int] = {}
    found: dict[str, int] = {}
    origins: dict[str, str] = {}
    for table, split_column in zip(tables, split_columns):
        path, records = table.where, table.records
        for record in records:
            role = table.role or "train"
            if split_column is not None:
                value = record.category(split_column)
                if value.lower() not in _SPLIT_NAMES:
                    raise record.error(split_column, f"{value!r} is not one of {sorted(_SPLIT_NAMES)}")
                role = _SPLIT_NAMES[value.lower()]
                split_values.setdefault(role, set()).add(value)
            listed[role] = listed.get(role, 0) + 1
            if hydrated is None:
                text = record.text(text_column)
            else:
                text = hydrated.get(record.category(options["id_column"]))
                if text is None:
                    continue
            found[role] = found.get(role, 0) + 1
            example: Example = {"text": text}
            if target_column is not None:
                example["text_pair"] = record.text(target_column)
            example["label"] = vote(record) if vote else record.choice(label_column, label_names)
            if example["label"] is not None:  # None: a tie the annotators rule drops
                published.setdefault(role, []).append(example)
        if table.role is not None:
            origins[table.role] = table.origin
        elif split_column is None:
            origins["train"] = f"{_name(path)} (no split column)"
        else:
            origins.update({role: f"{_name(path)}, rows with {split_column} = {'/'.join(sorted(values))}"
                            for role, values in split_values.items()})
    if hydrated is not None:
        if not found:
            raise InputError(options["hydrated"], f"none of the {len(everything):,} tweet ids of {tables[0].where} is "
                                                  f"in the hydrated table", column=options["id_column"])
        origins = {role: f"{origin}; {_attrition(listed, found)[role]}" for role, origin in origins.items()}
    metadata = {annotators.OPTION: vote.summary()} if vote else {}
    if vote:
        origins = {role: f"{origin}; {annotators.describe(metadata[annotators.OPTION])}" for role, origin in
                   origins.items()}
    splits, sources = resolve_splits(published, origins, ProblemType.SINGLE_LABEL, seed=int(options["seed"]),
                                     path=tables[0].where)
    return TaskData(name, ProblemType.SINGLE_LABEL, splits, sources, label_names, metadata)


def check_file_options(name: str, options: Mapping[str, Any], *, through_datasets: bool) -> None:
    """The option values the file loaders check, checked without reading a file (``through_datasets``: the task is
    read with `datasets`, so file-only options are not checked here; :mod:`.hub` checks them)."""
    if "annotator" in options:
        _wrime_group(name, options)
    if "threshold" in options:
        _wrime_threshold(name, options["threshold"])
    if annotators.OPTION in options:
        annotators.parse_option(_config_key(name, annotators.OPTION), options[annotators.OPTION])
    if "file_pattern" in options:
        _jglue_pattern(name, options["file_pattern"])
    if "format" in options and not through_datasets:
        _table_format(name, Path(str(options["path"])), options["format"])
