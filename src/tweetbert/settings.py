"""Stage settings: frozen dataclasses that mirror a config section, turned into CLI options and read back.

A stage's settings are declared once, as a dataclass marked with :func:`mirrors`; the schema is the one place for
config defaults and descriptions: a field declared with :func:`setting` takes its default from the schema when the
class is made. From the dataclass this module builds a subcommand's options (help from the schema) and a
``--settings JSON`` option taking the whole section, as the workflow's rules pass it.

The dataclasses live in each stage package's ``settings`` module, which imports neither torch, transformers nor
optuna (tests/test_settings_light.py), so the workflow and a subcommand's ``--help`` load them cheaply.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import functools
import json
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from tweetbert.errors import ConfigError
from tweetbert.schema import load_schema

T = TypeVar("T")

_KEY = "config_key"


_EXPLICIT = "explicit_default"
_FROM_SCHEMA = object()


@dataclasses.dataclass(frozen=True)
class _Pending:
    """What :func:`setting` leaves in the class body until :func:`mirrors` knows the section and fills the default."""

    default: Any
    key: str | None


@functools.cache
def shared_schema() -> dict:
    """The schema parsed once per process, for reading only (:func:`tweetbert.schema.load_schema` gives a copy)."""
    return load_schema()


def schema_default(key: str) -> Any:
    """A fresh copy of the schema's default of a dotted config key; KeyError when the schema has none."""
    node = schema_node(shared_schema(), key)
    if node is None or "default" not in node:
        raise KeyError(f"the config schema has no default for {key}")
    return copy.deepcopy(node["default"])


def mirrors(section: str) -> Callable[[type[T]], type[T]]:
    """Class decorator, placed below ``@dataclass``: the dotted config section (``dedup``, ``pretrain.fixed``)
    whose keys the fields are; fills each :func:`setting` field's default from the schema."""

    def mark(cls: type[T]) -> type[T]:
        if dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__}: put @mirrors below @dataclass, so the defaults it fills are seen")
        cls.config_section = section  # type: ignore[attr-defined]
        for name, value in list(vars(cls).items()):
            if isinstance(value, _Pending):
                explicit = value.default is not _FROM_SCHEMA
                default = value.default if explicit else schema_default(value.key or f"{section}.{name}")
                setattr(cls, name, _field(default, value.key, explicit))
        return cls

    return mark


def setting(default: Any = _FROM_SCHEMA, *, key: str | None = None) -> Any:
    """A field mirroring a config key (``key`` when it lies outside the section, e.g. ``seed``), its default the
    schema's. Give ``default`` only where the schema's is a workflow choice the field cannot hold (``auto``): the
    rule then always derives the value, and the CLI used stand-alone falls back on this one."""
    return _Pending(default, key)


def _field(default: Any, key: str | None, explicit: bool) -> Any:
    metadata = {**({_KEY: key} if key else {}), **({_EXPLICIT: True} if explicit else {})}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def explicit_default(field: dataclasses.Field) -> bool:
    """Whether a field states its own default instead of the schema's (see :func:`setting`)."""
    return bool(field.metadata.get(_EXPLICIT))


def config_key(cls: type, name: str) -> str:
    """The dotted config key a field mirrors."""
    field = {f.name: f for f in dataclasses.fields(cls)}[name]
    return field.metadata.get(_KEY) or f"{cls.config_section}.{name}"


def schema_node(schema: dict, key: str) -> dict | None:
    """The schema of a dotted config key, or None when the schema has no such key."""
    node = schema
    for part in key.split("."):
        node = node.get("properties", {}).get(part)
        if node is None:
            return None
    return node


def _kind(hint: Any) -> tuple[Any, bool]:
    """(type without None, whether None is allowed) of a field's type hint."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return args[0], len(args) < len(typing.get_args(hint))
    return hint, False


def _fields(cls: type) -> Iterable[tuple[dataclasses.Field, Any, bool]]:
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        yield (field, *_kind(hints[field.name]))


def _default(field: dataclasses.Field) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def json_object(text: str) -> dict:
    """argparse type of JSON-object options."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def add_settings_options(parser: argparse.ArgumentParser, cls: type, *, option: str = "--settings",
                         flags: bool = True, skip: Iterable[str] = ()) -> None:
    """``option`` takes the section as JSON; with ``flags``, each field also gets its own option (which wins).

    Fields in ``skip`` are left to the subcommand (values it derives, e.g. from a file).
    """
    schema = shared_schema()
    group = parser.add_argument_group(f"settings (config: {cls.config_section})")
    names = [field.name for field in dataclasses.fields(cls)]
    group.add_argument(option, type=json_object, default={}, metavar="JSON", dest=_dest(option),
                       help=f"the settings as one JSON object (keys: {', '.join(names)})")
    if not flags:
        return
    for field, kind, _ in _fields(cls):
        if field.name in skip:
            continue
        key = config_key(cls, field.name)
        node = schema_node(schema, key) or {}
        default = _default(field)
        shown = "required" if default is dataclasses.MISSING else f"default {default!r}"
        help_text = f"{node.get('description', '').strip()} (config {key}; {shown})"
        options: dict[str, Any] = {"default": None, "metavar": field.name.upper(),
                                   "help": help_text.replace("%", "%%")}
        if kind is bool:
            options.update(action=argparse.BooleanOptionalAction, metavar=None)
        elif typing.get_origin(kind) is list:
            options.update(nargs="*", type=typing.get_args(kind)[0])
        elif typing.get_origin(kind) is dict or kind is dict:
            options.update(type=json_object, metavar="JSON")
        else:
            options["type"] = kind
            if "enum" in node:
                options["choices"] = node["enum"]
        group.add_argument(f"--{field.name.replace('_', '-')}", dest=f"{_dest(option)}.{field.name}", **options)


def _dest(option: str) -> str:
    return option.lstrip("-").replace("-", "_")


def _checked(key: str, kind: Any, optional: bool, value: Any) -> Any:
    """The value as the field's type; a ConfigError naming the key otherwise (ints pass as floats)."""
    if value is None and optional:
        return None
    origin = typing.get_origin(kind)
    if origin is list and isinstance(value, list):
        return [_checked(f"{key}[{i}]", typing.get_args(kind)[0], False, item) for i, item in enumerate(value)]
    if (origin is dict or kind is dict) and isinstance(value, dict):
        return value
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind in (bool, int, str) and type(value) is kind:
        return value
    expected = getattr(kind, "__name__", str(kind)) + (" or null" if optional else "")
    raise ConfigError(key, f"expected {expected}, got {value!r}")


def settings_from(cls: type[T], values: Mapping[str, Any]) -> T:
    """The dataclass from a mapping of its fields (missing ones take their defaults); unknown keys are errors."""
    known = {field.name: (field, kind, optional) for field, kind, optional in _fields(cls)}
    for name in values:
        if name not in known:
            raise ConfigError(f"{cls.config_section}.{name}",
                              f"unknown setting of {cls.__name__} (known: {', '.join(known)})")
    for name, (field, _, _) in known.items():
        if name not in values and _default(field) is dataclasses.MISSING:
            raise ConfigError(config_key(cls, name), f"required setting of {cls.__name__} is missing")
    return cls(**{name: _checked(config_key(cls, name), *known[name][1:], value) for name, value in values.items()})


def settings_from_args(args: argparse.Namespace, cls: type[T], *, option: str = "--settings", **given: Any) -> T:
    """The JSON of ``option``, overridden by the field options given and then by ``given`` (derived values)."""
    values = dict(getattr(args, _dest(option)))
    for field in dataclasses.fields(cls):
        flag = getattr(args, f"{_dest(option)}.{field.name}", None)
        if flag is not None and field.name not in given:
            values[field.name] = flag
    return settings_from(cls, {**values, **given})


def config_settings(cls: type, config: Mapping[str, Any], *, skip: Iterable[str] = (), **given: Any) -> str:
    """The ``--settings`` JSON of a rule: exactly the dataclass's fields (less ``skip``), from the config unless given.

    Top-level keys are sorted (rule params are rerun triggers); nested mappings keep the config's order, which
    some of them carry (split ratios, word classes).
    """
    values = {}
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        if field.name in given:
            values[field.name] = given[field.name]
            continue
        node: Any = config
        for part in config_key(cls, field.name).split("."):
            node = node[part]
        values[field.name] = node
    return json.dumps({name: values[name] for name in sorted(values)}, ensure_ascii=False)
