"""Configuration: the JSON schema shipped with the package is the single source of keys, defaults and descriptions.

Snakemake and the CLI both validate through :func:`validate_config`, so a wrong key or value is reported the
same way everywhere: by its dotted key path. Beyond the schema it runs every check that needs no data (split
ratios, dedup bands, the sweep's space, storage and heartbeat, task options, ...), so that a wrong value stops the
workflow before its first job rather than in the job that first uses it. :func:`check_input_files` adds the input
files that must exist (the workflow calls it at start; unit tests of configs for other machines do not).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from tweetbert.errors import ConfigError
from tweetbert.schema import load_schema


def _fill_defaults(value: Any, schema: dict) -> Any:
    if schema.get("type") == "object" and isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                value[key] = _fill_defaults(value[key], sub)
    return value


def _key_path(error) -> str:
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            return ".".join(filter(None, [path, extra[0]]))
    if error.validator == "required":
        return path
    return path or "<top level>"


def validate_config(config: dict, schema: dict | None = None) -> dict:
    """Returns a copy of ``config`` with every default filled in; raises :class:`ConfigError` naming the bad key."""
    schema = schema or load_schema()
    config = _fill_defaults(copy.deepcopy(config or {}), schema)
    errors = sorted(Draft202012Validator(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        key = _key_path(error)
        message = error.message
        if error.validator == "additionalProperties":
            known = ", ".join(sorted(error.schema.get("properties", {})))
            message = f"unknown key (known keys here: {known})"
        raise ConfigError(key, message)
    _check_references(config)
    _check_values(config)
    return config


def _check_values(config: dict) -> None:
    """The checks of the modules that use each value, run now (each raises ConfigError naming its key)."""
    from tweetbert.analysis.probe_words import resolve_sets
    from tweetbert.corpus.settings import DedupParams
    from tweetbert.corpus.split import check_ratios
    from tweetbert.sweep.space import parse_space
    from tweetbert.sweep.storage import journal_path
    from tweetbert.sweep.workers import check_heartbeat, check_storage_spans_jobs, make_pruner
    from tweetbert.tasks.registry import TASKS, check_options

    dedup = config["dedup"]
    DedupParams(ngram=dedup["ngram"], threshold=dedup["threshold"], num_perm=dedup["num_perm"], bands=dedup["bands"],
                rows=dedup["rows"])
    check_ratios(config["split"]["ratios"])
    sweep = config["sweep"]
    parse_space(sweep["space"])
    if sweep["storage"] != "journal":
        journal_path(sweep["storage"])
    check_storage_spans_jobs(sweep["storage"], sweep["jobs_per_study"])
    check_heartbeat(sweep["heartbeat_interval"], sweep["grace_period"])
    make_pruner(sweep["pruner"], sweep["pruner_startup_trials"], sweep["pruner_warmup_epochs"],
                sweep["evaluations_per_epoch"])
    for name, options in config["tasks"].items():
        if name not in TASKS:
            raise ConfigError(f"tasks.{name}", f"unknown task (known: {', '.join(sorted(TASKS))})")
        options = TASKS[name].resolve_options(options or {})
        if options["path"] != "demo":  # `demo`: the file demo_data writes for the task (checked by the workflow)
            check_options(name, options)
    resolve_sets(config["probes"]["sets"], config["probes"]["noun_classes"])
    acceptability = config["acceptability"]
    if acceptability["min_tokens"] > acceptability["max_tokens"]:
        raise ConfigError("acceptability.min_tokens", f"{acceptability['min_tokens']} exceeds "
                                                      f"acceptability.max_tokens ({acceptability['max_tokens']})")


def check_input_files(config: dict) -> None:
    """The raw corpus and the dedup tuning tables (unless ``demo``) must be existing files, not folders."""
    for key, value in (("raw.path", config["raw"]["path"]), ("tune_dedup.target", config["tune_dedup"]["target"]),
                       ("tune_dedup.control", config["tune_dedup"]["control"])):
        if value == "demo":
            continue
        path = Path(value)
        if path.is_dir():
            raise ConfigError(key, f"{path} is a directory; give the file of tweets (JSON Lines, CSV, TSV or Parquet)")
        if not path.is_file():
            raise ConfigError(key, f"{path} does not exist (relative paths start at {Path.cwd()})")


def _check_references(config: dict) -> None:
    """Keys that name tasks or controls must name configured ones (a typo would otherwise fail deep in the DAG)."""
    references = (("target_tasks", config.get("target_tasks", []), "tasks"),
                  ("downstream.tasks", config.get("downstream", {}).get("tasks", []), "tasks"),
                  ("downstream.controls", config.get("downstream", {}).get("controls") or [], "controls"),
                  ("selection.require_beats", config.get("selection", {}).get("require_beats", []), "controls"))
    for key, names, section in references:
        known = config.get(section, {})
        for i, name in enumerate(names):
            if name not in known:
                raise ConfigError(f"{key}[{i}]", f"{name!r} is not configured under `{section}` "
                                                  f"(configured: {', '.join(sorted(known)) or 'none'})")


def load_config(path: str | Path) -> dict:
    """Reads and validates a YAML config file."""
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    if not isinstance(raw, dict):
        raise ConfigError("<top level>", f"{path} must hold a mapping of keys to values")
    return validate_config(raw)
