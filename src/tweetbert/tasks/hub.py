"""Task data through Hugging Face `datasets`: a Hub dataset (option ``hub``) or a folder ``save_to_disk`` wrote.

``hub: {repo: owner/name, config: ..., revision: ...}`` loads ``datasets.load_dataset(repo, config,
revision=revision)`` (``repo`` may also be a local folder laid out as a Hub dataset repo: ``data/train-*.parquet``,
``train.jsonl``/``test.jsonl``, a README.md with YAML ``configs:``); a ``path`` that is a folder holding
``dataset_dict.json`` (or ``dataset_info.json`` and ``state.json``) loads with ``datasets.load_from_disk``. Both
honour ``HF_HUB_OFFLINE`` and the Hugging Face cache as `datasets` configures them; loading scripts are never run.

Each published split keeps the role its task's files give it: tables (``load_table``) read the split names as a
``split`` column (``train``; ``validation``/``valid``/``val``; ``dev``/``development``; ``test``); WRIME and JGLUE
read ``validation`` (also ``valid``/``dev``) as their published dev split (WRIME's ``Dev``, JGLUE's ``valid``), which
plays test where no labelled test split exists. Missing roles are carved from train (:mod:`tweetbert.tasks.splits`);
a split without any label (a Hub test split with label -1) counts as unpublished. ``ClassLabel`` columns read as
their names (JNLI's ``entailment``), or as their index where the task's labels are indices (JCoLA, JCommonsenseQA).
Tables take their columns from ``text_column``/``label_column``/``target_column``; WRIME and JGLUE take
``columns``, mapping the field names of the published files (``Sentence``, ``Avg. Readers_Joy``, ``sentence1``,
``label``, ...) to the dataset's columns; nested columns are named with dots (``avg_readers.joy``).
Extractive QA (JSQuAD) is read from files only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tweetbert.errors import ConfigError, InputError
from tweetbert.tables import Fields
from tweetbert.tasks.loaders import (
    _SPLIT_NAMES,
    CONFIG_PREFIX,
    DEFAULT_SPLIT_COLUMN,
    EMOTIONS,
    JCOMMONSENSEQA_CHOICES,
    Table,
    _all_or_none_labelled,
    _wrime_group,
    load_jglue,
    load_table,
    load_wrime_emotion,
    load_wrime_sentiment,
)
from tweetbert.tasks.squad import load_jsquad
from tweetbert.tasks.types import SPLITS, TaskData

HUB_KEYS = ("repo", "config", "revision")
_PUBLISHED_DEV = {"train": "train", "validation": "dev", "valid": "dev", "val": "dev", "dev": "dev",
                  "development": "dev", "test": "test"}
_PAIR = ("sentence1", "sentence2", "label")
_JGLUE_FIELDS = {"jsts": _PAIR, "jnli": _PAIR, "marc_ja": ("sentence", "label"), "jcola": ("sentence", "label"),
                 "jcommonsenseqa": ("question", *(f"choice{k}" for k in range(JCOMMONSENSEQA_CHOICES)), "label")}
_KINDS: dict[Callable, str] = {load_table: "table", load_wrime_emotion: "wrime", load_wrime_sentiment: "wrime",
                               load_jglue: "jglue", load_jsquad: "squad"}


def _key(name: str, option: str) -> str:
    return f"{CONFIG_PREFIX}.{name}.{option}"


def is_saved_dataset(path: Any) -> bool:
    """Whether ``path`` is a folder ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk`` wrote."""
    if not isinstance(path, str | Path) or path == "demo":
        return False
    folder = Path(path)
    return (folder / "dataset_dict.json").is_file() or all(
        (folder / marker).is_file() for marker in ("dataset_info.json", "state.json"))


def reads_datasets(options: Mapping[str, Any]) -> bool:
    """Whether the task's data is loaded through `datasets` rather than read from files."""
    return options.get("hub") is not None or is_saved_dataset(options.get("path"))


def _hub(name: str, options: Mapping[str, Any]) -> tuple[str, str | None, str | None] | None:
    hub = options.get("hub")
    if hub is None:
        return None
    key = _key(name, "hub")
    if not isinstance(hub, Mapping):
        raise ConfigError(key, f"must be a mapping {{repo: ..., config: ..., revision: ...}}, got {hub!r}")
    for option in hub:
        if option not in HUB_KEYS:
            raise ConfigError(f"{key}.{option}", f"unknown key (known: {list(HUB_KEYS)})")
    repo = hub.get("repo")
    if not isinstance(repo, str) or not repo.strip():
        raise ConfigError(f"{key}.repo", "required: a Hub dataset id (owner/name) or a local folder laid out as one")
    for option in ("config", "revision"):
        value = hub.get(option)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{key}.{option}", f"must be text or null, got {value!r}")
    return repo, hub.get("config"), hub.get("revision")


def _columns(name: str, options: Mapping[str, Any]) -> dict[str, str]:
    columns = options.get("columns")
    if columns is None:
        return {}
    if not isinstance(columns, Mapping) or not all(
            isinstance(k, str) and k and isinstance(v, str) and v for k, v in columns.items()):
        raise ConfigError(_key(name, "columns"), f"must map field names to the dataset's column names, got {columns!r}")
    return dict(columns)


def check_hub_options(name: str, options: Mapping[str, Any], loader: Callable) -> None:
    """``hub`` and ``columns``, and the file-only options a `datasets` dataset cannot take (``loader``: the task's
    file loader, which says what kind of dataset it reads)."""
    hub = _hub(name, options)
    if hub is not None and options.get("path") is not None:
        raise ConfigError(_key(name, "path"), "give either `path` or `hub`, not both")
    through_datasets = reads_datasets(options)
    kind = _KINDS.get(loader)
    if through_datasets and kind not in ("table", "wrime", "jglue"):
        what = "extractive QA (JSQuAD)" if kind == "squad" else "this task's loader"
        raise ConfigError(_key(name, "hub" if hub else "path"),
                          f"{what} is read from files only: give `path`, the folder of its published files")
    if _columns(name, options) and not through_datasets:
        raise ConfigError(_key(name, "columns"), f"renames the columns of a `hub` dataset or a save_to_disk folder; "
                                                 f"{options.get('path')!r} is neither")
    if through_datasets and kind == "table":
        if options["format"] is not None:
            raise ConfigError(_key(name, "format"), "applies to files; a `datasets` dataset has no format to choose")
        if options["split_column"] != DEFAULT_SPLIT_COLUMN:
            raise ConfigError(_key(name, "split_column"),
                              "applies to files; a `datasets` dataset is split by its published splits")


class _Row(Fields):
    """A dataset row; a ``ClassLabel`` value reads as its name (or its index where the task expects indices)."""

    def __init__(self, values: Mapping[str, Any], where: str, row: int, class_labels: Mapping[str, list[str]]):
        super().__init__(values, where, row)  # type: ignore[arg-type]
        self.class_labels = class_labels

    def _label_name(self, key: str) -> str | None:
        names, value = self.class_labels.get(key), self.values.get(key)
        if names is None or isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(names):
            return None
        return names[value]

    def has(self, key: str) -> bool:
        return super().has(key) and not (key in self.class_labels and self.values[key] == -1)

    def category(self, key: str) -> str:
        text = super().category(key)
        return self._label_name(key) or text

    def choice(self, key: str, allowed: Sequence[str]) -> int:
        name, index = self._label_name(key), str(self.values.get(key))
        if name is not None and name not in allowed and index in allowed:
            return list(allowed).index(index)
        return super().choice(key, allowed)


def _describe(name: str, options: Mapping[str, Any]) -> str:
    hub = _hub(name, options)
    if hub is None:
        return f"saved dataset {options['path']}"
    repo, config, revision = hub
    return (f"Hub dataset {repo}" + (f", config {config}" if config else "")
            + (f", revision {revision}" if revision else ""))


def _load_splits(name: str, options: Mapping[str, Any], description: str) -> dict[str, Any]:
    import datasets

    hub = _hub(name, options)
    if hub is None:
        loaded = datasets.load_from_disk(str(options["path"]))
    else:
        repo, config, revision = hub
        try:
            loaded = datasets.load_dataset(repo, config, revision=revision)
        except ValueError as error:  # an unknown config, or none chosen among several
            option = "hub.config" if "config" in str(error).lower() else "hub"
            raise ConfigError(_key(name, option), f"{description}: {error}") from None
        except RuntimeError as error:  # a dataset with a loading script
            raise ConfigError(_key(name, "hub"), f"{description}: {error} (datasets runs no loading scripts since "
                                                 f"version 4: use a Parquet conversion of the dataset)") from None
        except OSError as error:
            raise InputError(description, f"cannot be loaded ({error}); offline (HF_HUB_OFFLINE=1) only datasets in "
                                          f"the Hugging Face cache and local folders load") from None
    if isinstance(loaded, datasets.Dataset):
        return {"train": loaded}
    return dict(loaded)


def _tables(name: str, options: Mapping[str, Any], roles: Mapping[str, str], rename: Mapping[str, str]) -> list[Table]:
    """One table per published split, in role order; a split without any label is left out."""
    from datasets import ClassLabel

    description = _describe(name, options)
    tables = []
    for split, dataset in _load_splits(name, options, description).items():
        where = f"{description}, split {split}"
        if split.lower() not in roles:
            raise InputError(where, f"a split name without a role (those with one: {sorted(roles)})")
        dataset = dataset.flatten()
        columns = list(dataset.column_names)
        labels = {column: list(getattr(feature, "feature", feature).names)  # a list of ClassLabel: annotators
                  for column, feature in dataset.features.items()
                  if isinstance(getattr(feature, "feature", feature), ClassLabel)}
        for ours, theirs in rename.items():
            if theirs not in columns:
                raise InputError(where, f"missing column (named by columns.{ours}; the dataset has: "
                                        f"{', '.join(columns)})", column=theirs)
            if theirs in labels:
                labels[ours] = labels[theirs]
        records = [_Row({**row, **{ours: row[theirs] for ours, theirs in rename.items()}}, where, number, labels)
                   for number, row in enumerate(dataset.to_list(), 1)]
        tables.append(Table(where, columns + [ours for ours in rename if ours not in columns], records, None,
                            roles[split.lower()], where))
    if not tables:
        raise InputError(description, "no splits")
    return sorted(tables, key=lambda table: SPLITS.index(table.role))


def _require(tables: Sequence[Table], needed: Sequence[tuple[str, ...]]) -> None:
    """Each entry of ``needed`` (a column, or alternative spellings of one) must be a column of every table."""
    for table in tables:
        for alternatives in needed:
            if not any(column in table.columns for column in alternatives):
                raise InputError(table.where, f"missing column (the dataset has: {', '.join(table.columns)})",
                                 column=alternatives[0])


def _labelled(tables: Sequence[Table], column: str) -> list[Table]:
    """The tables published with labels (a Hub test split often has none: label -1 or null)."""
    return [table for table in tables
            if _all_or_none_labelled(table.records, [record.has(column) for record in table.records], column)]


def _wrime_needed(loader: Callable, name: str, options: Mapping[str, Any]) -> list[tuple[str, ...]]:
    group = _wrime_group(name, options)
    fields = ("Sentiment",) if loader is load_wrime_sentiment else EMOTIONS
    return [("Sentence",)] + [(group + field, *((group + "Saddness",) if field == "Sadness" else ()))
                              for field in fields]


def load(loader: Callable[..., TaskData], name: str, options: Mapping[str, Any]) -> TaskData:
    """The task's data: through `datasets` where ``hub`` or a save_to_disk ``path`` says so, else ``loader``'s files."""
    check_hub_options(name, options, loader)
    if not reads_datasets(options):
        return loader(name, options)
    kind = _KINDS[loader]
    if kind == "table":
        tables = _tables(name, options, _SPLIT_NAMES, {})
        text = options["id_column"] if options["hydrated"] is not None else options["text_column"]
        needed = (text, options["label_column"], options["target_column"])
        _require(tables, [(column,) for column in needed if column is not None])
        tables = _labelled(tables, options["label_column"]) or tables
        labels = options["labels"]
        if labels is None and tables[0].records:
            labels = tables[0].records[0].class_labels.get(options["label_column"])  # type: ignore[attr-defined]
        return loader(name, {**options, "labels": labels}, tables)
    tables = _tables(name, options, _PUBLISHED_DEV, _columns(name, options))
    if kind == "wrime":
        _require(tables, _wrime_needed(loader, name, options))
    else:
        _require(tables, [(field,) for field in _JGLUE_FIELDS[name]])
    return loader(name, options, tables)
