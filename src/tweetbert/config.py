"""Configuration: the JSON schema in workflow/schemas is the single source of keys, defaults and descriptions.

Snakemake and the CLI both validate through :func:`validate_config`, so a wrong key or value is reported the
same way everywhere: by its dotted key path.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from tweetbert.errors import ConfigError

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def load_schema(path: Path = SCHEMA_PATH) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


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
    return config


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
