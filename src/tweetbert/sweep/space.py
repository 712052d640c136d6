"""The fine-tuning search space: parsed from the config once (so a typo fails before any job starts) into Optuna
distributions, then drawn per trial by :func:`suggest`.

A config entry replaces the default of that hyper-parameter entirely (no field-by-field merge: switching from a
range to ``choices`` must not inherit ``log``). An entry is ``{choices: [...]}`` or
``{low: ..., high: ..., log: bool, step: ...}``; whether a range is of integers is the hyper-parameter's own
(``epochs`` is; ``weight_decay: {low: 0, high: 1}`` is not). Only the hyper-parameters below are known, so a
misspelt name is an error, not a parameter silently unused. ``warmup_ratio`` is a fraction of all optimiser steps
(transformers 5 takes it as a float ``warmup_steps``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from tweetbert.errors import ConfigError

SPACE_KEY = "sweep.space"
SearchSpace = dict[str, BaseDistribution]


@dataclass(frozen=True)
class _Domain:
    """Values a hyper-parameter can take at all, whatever the config says."""

    integer: bool
    minimum: float
    maximum: float = math.inf
    minimum_inclusive: bool = True
    maximum_inclusive: bool = True

    def describe(self) -> str:
        left = "[" if self.minimum_inclusive else "("
        right = "]" if self.maximum_inclusive else ")"
        kind = "an integer" if self.integer else "a number"
        return f"{kind} in {left}{self.minimum:g}, {self.maximum:g}{right}"

    def admits(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        if self.integer and not isinstance(value, int):
            return False
        above = value >= self.minimum if self.minimum_inclusive else value > self.minimum
        below = value <= self.maximum if self.maximum_inclusive else value < self.maximum
        return above and below


DOMAINS: dict[str, _Domain] = {
    "learning_rate": _Domain(integer=False, minimum=0.0, minimum_inclusive=False),
    "batch_size": _Domain(integer=True, minimum=1),
    "epochs": _Domain(integer=True, minimum=1),
    "warmup_ratio": _Domain(integer=False, minimum=0.0, maximum=1.0, maximum_inclusive=False),
    "weight_decay": _Domain(integer=False, minimum=0.0),
}
# The usual BERT fine-tuning ranges (Devlin et al. 2019, appendix A.3), widened a little.
DEFAULT_SPACE: dict[str, dict[str, Any]] = {
    "learning_rate": {"low": 1e-5, "high": 1e-4, "log": True},
    "batch_size": {"choices": [16, 32]},
    "epochs": {"low": 2, "high": 5},
    "warmup_ratio": {"low": 0.0, "high": 0.1},
    "weight_decay": {"low": 0.0, "high": 0.1},
}
_RANGE_FIELDS = {"low", "high", "log", "step"}


def parse_space(config: Mapping[str, Any] | None = None, *, key: str = SPACE_KEY) -> SearchSpace:
    """The defaults overridden by ``config``; every error names its full key (``sweep.space.epochs.high``)."""
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise ConfigError(key, f"expected a mapping of hyper-parameter to range, got {config!r}")
    unknown = sorted(set(config) - set(DEFAULT_SPACE))
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", f"unknown hyper-parameter; known: {', '.join(DEFAULT_SPACE)}")
    return {name: _distribution(f"{key}.{name}", DOMAINS[name], config.get(name, default))
            for name, default in DEFAULT_SPACE.items()}


def _distribution(key: str, domain: _Domain, spec: Any) -> BaseDistribution:
    if not isinstance(spec, Mapping):
        raise ConfigError(key, f"expected {{choices: [...]}} or {{low: ..., high: ...}}, got {spec!r}")
    if "choices" in spec:
        extra = sorted(set(spec) - {"choices"})
        if extra:
            raise ConfigError(f"{key}.{extra[0]}", "not allowed next to `choices`")
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{key}.choices", f"expected a non-empty list, got {choices!r}")
        for choice in choices:
            if not domain.admits(choice):
                raise ConfigError(f"{key}.choices", f"{choice!r} is not {domain.describe()}")
        if len(set(choices)) != len(choices):
            raise ConfigError(f"{key}.choices", f"duplicate values in {choices!r}")
        return CategoricalDistribution(choices)

    unknown = sorted(set(spec) - _RANGE_FIELDS)
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", "unknown field; expected low, high, log, step or choices")
    for field in ("low", "high"):
        if field not in spec:
            raise ConfigError(f"{key}.{field}", "missing (or give `choices`)")
        if not domain.admits(spec[field]):
            raise ConfigError(f"{key}.{field}", f"{spec[field]!r} is not {domain.describe()}")
    low, high = spec["low"], spec["high"]
    if low > high:
        raise ConfigError(f"{key}.low", f"{low!r} is above high ({high!r})")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{key}.log", f"expected true or false, got {log!r}")
    if log and low <= 0:
        raise ConfigError(f"{key}.low", f"a log range must start above 0, got {low!r}")
    step = spec.get("step")
    if step is not None:
        if log:
            raise ConfigError(f"{key}.step", "a log range cannot have a step")
        if isinstance(step, bool) or not isinstance(step, (int, float)) or not step > 0:
            raise ConfigError(f"{key}.step", f"expected a positive number, got {step!r}")
    if domain.integer:
        if step is not None and not isinstance(step, int):
            raise ConfigError(f"{key}.step", f"{step!r} is not an integer")
        return IntDistribution(low, high, log=log, step=1 if step is None else step)
    return FloatDistribution(float(low), float(high), log=log, step=None if step is None else float(step))


def suggest(trial: optuna.trial.BaseTrial, space: SearchSpace) -> dict[str, Any]:
    """One value per hyper-parameter, drawn by the trial's sampler (or taken from an enqueued or fixed trial)."""
    params: dict[str, Any] = {}
    for name, dist in space.items():
        if isinstance(dist, CategoricalDistribution):
            params[name] = trial.suggest_categorical(name, dist.choices)
        elif isinstance(dist, IntDistribution):
            params[name] = trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
        elif isinstance(dist, FloatDistribution):
            params[name] = trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
        else:
            raise TypeError(f"{name}: unsupported distribution {dist!r}")
    return params
