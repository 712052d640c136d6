"""Is the selection a tie, and what does "beats base" mean on this data? Sentences and numbers for the selection.

Criterion (stated in every note that uses it): the runner-up's mean development metric over the target tasks is
within noise of the selected candidate's when the difference of the two means is below 1.96 times the standard
error of that difference, ``1.96 * sqrt(se1**2 + se2**2)``. Each mean's standard error comes from the development
split sizes that every ``best.json`` records under ``splits.dev.examples``: for a task with dev metric ``p`` on
``n`` examples the standard error is ``sqrt(p * (1 - p) / n)`` (exact for a proportion such as accuracy), and the
mean over ``T`` target tasks has ``sqrt(sum(se_t**2)) / T``. For metrics that are not proportions (correlations,
F1) the same formula, with ``p`` clipped to [0, 1], is only an approximation of their sampling noise. The two
models are scored on the same dev examples, so treating them as independent overstates the noise: the criterion
errs towards calling a tie. Exactly equal means (compared rounded) are always a tie; when a dev split size is
missing the noise is unknown and only equal means tie.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

Z = 1.96
"""Two-sided 95 % normal quantile: the noise threshold is Z standard errors of the difference."""
RANDOM_CONTROL = "random"
"""The control whose encoder is randomly initialised (the base model's architecture, no pre-training)."""
BASE_CONTROL = "base"
_DECIMALS = 12


def dev_examples(best_files: Sequence[Path]) -> dict[tuple[str, str], int]:
    """(model, task) -> the number of development examples, from each best.json's ``splits`` (where recorded)."""
    found: dict[tuple[str, str], int] = {}
    for path in best_files:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        examples = ((record.get("splits") or {}).get("dev") or {}).get("examples")
        if isinstance(examples, int) and not isinstance(examples, bool) and examples > 0:
            found[(str(record["model"]), str(record["task"]))] = examples
    return found


def mean_se(model: str, values: Sequence[float], tasks: Sequence[str],
            examples: Mapping[tuple[str, str], int]) -> float | None:
    """Standard error of ``model``'s mean dev metric over ``tasks`` (None when a dev split size is missing)."""
    if any((model, task) not in examples for task in tasks):
        return None
    variance = math.fsum(min(max(p, 0.0), 1.0) * (1 - min(max(p, 0.0), 1.0)) / examples[(model, task)]
                         for p, task in zip(values, tasks, strict=True))
    return math.sqrt(variance) / len(tasks)


def _noise(first: float | None, second: float | None) -> float | None:
    return None if first is None or second is None else Z * math.hypot(first, second)


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _order_reason(winner: str, runner_up: str, values: Mapping[str, Sequence[float]], rule: str,
                  epochs: Mapping[str, Any]) -> str:
    """Why the ranking put ``winner`` first: the rule's score, or the first tie-break of select_best that differs."""
    first, second = values[winner], values[runner_up]
    if rule == "min_dev":
        score, secondary = (min, "lowest target-task dev"), (_mean, "mean dev")
    else:
        score, secondary = (_mean, "mean dev"), (min, "lowest target-task dev")
    if round(score[0](first), _DECIMALS) != round(score[0](second), _DECIMALS):
        return (f"because its {score[1]} is higher ({score[0](first):.4f} vs {score[0](second):.4f}), "
                f"though by less than the noise")
    rule_text = (f"by the order rule (higher {score[1]}, then higher {secondary[1]}, then fewer pre-training epochs, "
                 f"then slug order)")
    if round(secondary[0](first), _DECIMALS) != round(secondary[0](second), _DECIMALS):
        return f"{rule_text}: higher {secondary[1]} ({secondary[0](first):.4f} vs {secondary[0](second):.4f})"
    if int(epochs[winner]) != int(epochs[runner_up]):
        return f"{rule_text}: fewer pre-training epochs ({int(epochs[winner])} vs {int(epochs[runner_up])})"
    return f"{rule_text}: slug order"


def tie_record(ranking: Sequence[str], eligible: Mapping[str, bool], values: Mapping[str, Sequence[float]],
               tasks: Sequence[str], rule: str, epochs: Mapping[str, Any],
               examples: Mapping[tuple[str, str], int] | None) -> dict[str, Any]:
    """``tie``, ``runner_up``, ``runner_up_dev``, ``dev_margin``, ``dev_noise`` and ``tie_note`` of a selection.

    The runner-up is the next candidate in ``ranking`` with the selected one's gate status (a candidate the gate
    rules out cannot tie with one it admits). See the module docstring for the criterion.
    """
    winner = ranking[0]
    rivals = [model for model in ranking[1:] if eligible[model] == eligible[winner]]
    if not rivals:
        return {"tie": False, "runner_up": None, "runner_up_dev": None, "dev_margin": None, "dev_noise": None,
                "tie_note": "No tie: no other candidate is eligible (it is the only one, or the gate rules out "
                            "the rest)."}
    runner_up = rivals[0]
    best, second = _mean(values[winner]), _mean(values[runner_up])
    margin = best - second
    noise = _noise(mean_se(winner, values[winner], tasks, examples or {}),
                   mean_se(runner_up, values[runner_up], tasks, examples or {}))
    equal = round(best, _DECIMALS) == round(second, _DECIMALS)
    tie = equal or (noise is not None and abs(margin) < noise)
    noise_text = "noise unknown: no development split sizes" if noise is None else f"noise {noise:.3f}"
    if tie:
        bound = "equal means" if noise is None else f"margin {abs(margin):.3f} < {noise:.3f}"
        reason = _order_reason(winner, runner_up, values, rule, epochs)
        note = (f"Tie: {winner} and {runner_up} are within noise on development ({bound}; mean dev "
                f"{best:.4f} vs {second:.4f}); {winner} was kept {reason}. "
                f"Noise: 1.96 x the standard error of the difference of the mean dev metrics, from the dev split "
                f"sizes (sqrt(p(1-p)/n) per task).")
    else:
        note = (f"Not a tie: {winner} leads the runner-up {runner_up} by {margin:.3f} mean dev "
                f"({best:.4f} vs {second:.4f}; {noise_text}).")
    return {"tie": tie, "runner_up": runner_up, "runner_up_dev": second, "dev_margin": margin, "dev_noise": noise,
            "tie_note": note}


def base_vs_random(values: Mapping[str, Sequence[float]], tasks: Sequence[str],
                   examples: Mapping[tuple[str, str], int] | None) -> dict[str, Any] | None:
    """Mean dev of the ``base`` control vs the random-init control (None unless both have every target task)."""
    if BASE_CONTROL not in values or RANDOM_CONTROL not in values:
        return None
    base, random = _mean(values[BASE_CONTROL]), _mean(values[RANDOM_CONTROL])
    noise = _noise(mean_se(BASE_CONTROL, values[BASE_CONTROL], tasks, examples or {}),
                   mean_se(RANDOM_CONTROL, values[RANDOM_CONTROL], tasks, examples or {}))
    return {"base": base, "random": random, "margin": base - random, "noise": noise}


def base_context_note(comparison: Mapping[str, Any] | None) -> str:
    """Beating the base model in context: how the base model itself fares against the random-init control."""
    if not comparison:
        return ""
    head = f"Context: base {comparison['base']:.3f} vs random-init {comparison['random']:.3f} (mean dev)"
    margin, noise = comparison["margin"], comparison.get("noise")
    if round(margin, _DECIMALS) <= 0:
        return (f"{head}: on this data the base model is no better than a randomly initialised one, "
                f"so beating it says little.")
    if noise is not None and margin < noise:
        return (f"{head}: on this data the base model is within noise of a randomly initialised one "
                f"(margin {margin:.3f} < {noise:.3f}), so beating it says little.")
    return f"{head}: the base model is {margin:.3f} above a randomly initialised one."
