"""Optuna's own views of one fine-tuning study: optimisation history, parameter importances and intermediate values.

Only a study's best trial reaches the selection tables; these figures show how the sweep got there: whether more
trials kept improving, which hyper-parameters mattered, and which trials the pruner stopped (and when). They are
drawn by :mod:`optuna.visualization.matplotlib`, each in its own figure (its functions make their own figure and
cannot share one). Optuna switches matplotlib to its ggplot style: that stays inside each drawing here, and the
axes are restyled to the plain look of the report's other figures.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import optuna
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from optuna.exceptions import ExperimentalWarning
from optuna.trial import TrialState

from tweetbert.plots import save_figure

STUDY_PLOTS = {
    "history": "PNG: the objective of each complete trial and the best so far, by trial number",
    "importance": "PNG: each varying hyper-parameter's importance (or why it cannot be computed)",
    "intermediate": "PNG: each trial's validation metric at every evaluation, pruned trials marked",
}
_STATE_STYLE = {  # colour and line style of a trial's intermediate values, by its state
    TrialState.COMPLETE: ("tab:blue", "-"),
    TrialState.PRUNED: ("tab:orange", "--"),
    TrialState.RUNNING: ("0.6", ":"),
}
_PRUNED_MARK = "crimson"
_FIGSIZE = (6.4, 4.2)


@contextmanager
def _optuna_drawing() -> Iterator[None]:
    """Optuna's plots are 'experimental' (a warning per call) and set the ggplot style globally: keep both here."""
    with warnings.catch_warnings(), matplotlib.rc_context():
        warnings.simplefilter("ignore", ExperimentalWarning)
        yield


def _titled(ax: Axes, view: str, study_name: str) -> None:
    """The view over the study's name, on two lines: a candidate's slug is long. Replaces Optuna's own title."""
    for loc in ("center", "right"):
        ax.set_title("", loc=loc)
    ax.set_title(f"{view}\n{study_name}", loc="left", fontsize=9)


def _restyle(ax: Axes, view: str, study_name: str, *, whole_x: bool = True) -> None:
    """The report's plain look (white background, light grid) on an axes Optuna drew in ggplot style; trial numbers
    and evaluation steps (``whole_x``) as whole ticks."""
    fig = ax.figure
    fig.set_size_inches(*_FIGSIZE)
    fig.set_facecolor("white")
    ax.set_facecolor("white")
    ax.grid(True, color="0.9")
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("0.7")
    ax.tick_params(colors="black")
    ax.xaxis.label.set_color("black")
    ax.yaxis.label.set_color("black")
    _titled(ax, view, study_name)
    if whole_x:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _complete_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Complete trials with a finite objective: the only ones Optuna's history and importances use."""
    return [trial for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if trial.value is not None and math.isfinite(trial.value)]


def varying_params(study: optuna.Study) -> list[str]:
    """Hyper-parameters that take more than one value among the complete trials (a fixed choice explains nothing)."""
    values: dict[str, set] = {}
    for trial in _complete_trials(study):
        for name, value in trial.params.items():
            values.setdefault(name, set()).add(repr(value))
    return sorted(name for name, seen in values.items() if len(seen) > 1)


def importance_obstacle(study: optuna.Study) -> str | None:
    """Why parameter importances cannot be computed for ``study``, or None when they can.

    Optuna answers even for one trial (every importance 1.0): that would look like a finding, so the figure says
    what is missing instead.
    """
    complete = _complete_trials(study)
    if len(complete) < 2:
        return (f"Parameter importance needs at least 2 complete trials;\nthis study has {len(complete)} "
                f"(of {len(study.trials)} trials).")
    if not varying_params(study):
        return (f"Parameter importance needs a hyper-parameter that varies;\nevery one of the {len(complete)} "
                "complete trials used the same values.")
    if len({trial.value for trial in complete}) < 2:
        return (f"Parameter importance needs trials that differ in outcome;\nall {len(complete)} complete "
                "trials scored the same.")
    return None


def _note_figure(view: str, study_name: str, note: str) -> plt.Figure:
    """A figure that says why a view has nothing to show, in place of an empty or misleading plot."""
    fig, ax = plt.subplots(figsize=_FIGSIZE)
    ax.set_axis_off()
    _titled(ax, view, study_name)
    ax.text(0.5, 0.5, note, ha="center", va="center", fontsize=10, wrap=True, transform=ax.transAxes)
    return fig


def plot_history(study: optuna.Study, path: Path, *, title: str, metric: str) -> None:
    """Objective by trial with the best value so far: did the last trials still improve?"""
    if not _complete_trials(study):
        save_figure(_note_figure("Optimisation history", title, "No complete trial: nothing to plot yet."), path)
        return
    with _optuna_drawing():
        ax = optuna.visualization.matplotlib.plot_optimization_history(study, target_name=metric)
        _restyle(ax, "Optimisation history", title)
        ax.legend(fontsize=8, loc="best")
    save_figure(ax.figure, path)


def plot_importances(study: optuna.Study, path: Path, *, title: str, metric: str) -> None:
    """Importance of each varying hyper-parameter, or a figure saying why there is none (too few trials)."""
    obstacle = importance_obstacle(study)
    if obstacle is not None:
        save_figure(_note_figure("Parameter importances", title, obstacle), path)
        return
    with _optuna_drawing():
        ax = optuna.visualization.matplotlib.plot_param_importances(study, params=varying_params(study),
                                                                    target_name=metric)
        _restyle(ax, f"Parameter importances ({len(_complete_trials(study))} complete trials)", title, whole_x=False)
        if ax.get_legend() is not None:
            ax.get_legend().remove()  # one objective: the legend only repeats the metric
    save_figure(ax.figure, path)


def mark_pruned(ax: Axes, study: optuna.Study) -> dict[TrialState, int]:
    """Colours Optuna's curves ("Trial<n>") by trial state and crosses each pruned trial's last evaluation.

    Returns how many curves of each state the axes hold, for the legend.
    """
    trials = {f"Trial{trial.number}": trial for trial in study.get_trials(deepcopy=False)}
    drawn: dict[TrialState, int] = {}
    for line in ax.get_lines():
        trial = trials.get(line.get_label())
        if trial is None:
            continue
        colour, style = _STATE_STYLE.get(trial.state, ("0.6", ":"))
        line.set_color(colour)
        line.set_linestyle(style)
        drawn[trial.state] = drawn.get(trial.state, 0) + 1
        if trial.state == TrialState.PRUNED:
            step, value = max(trial.intermediate_values.items())
            ax.plot([step], [value], marker="X", markersize=9, color=_PRUNED_MARK, linestyle="none", zorder=3)
    return drawn


def _state_legend(ax: Axes, drawn: Mapping[TrialState, int]) -> None:
    """One entry per state instead of Optuna's one per trial (dozens of trials in a real sweep)."""
    handles = []
    for state, count in sorted(drawn.items(), key=lambda item: item[0].value):
        colour, style = _STATE_STYLE.get(state, ("0.6", ":"))
        label = f"{state.name.lower()} ({count})"
        if state == TrialState.PRUNED:
            label += ", X where stopped"
            handles.append(Line2D([], [], color=colour, linestyle=style, marker="X", markerfacecolor=_PRUNED_MARK,
                                  markeredgecolor=_PRUNED_MARK, label=label))
        else:
            handles.append(Line2D([], [], color=colour, linestyle=style, label=label))
    ax.legend(handles=handles, fontsize=8, loc="best")


def plot_intermediate(study: optuna.Study, path: Path, *, title: str, metric: str) -> None:
    """Each trial's validation metric at every evaluation (what the pruner judges); pruned trials dashed with an X where the pruner stopped
    them, so one sees whether it stopped trials that were still climbing."""
    if not any(trial.intermediate_values for trial in study.get_trials(deepcopy=False)):
        save_figure(_note_figure("Intermediate values", title, "No trial reported an intermediate value."), path)
        return
    with _optuna_drawing():
        ax = optuna.visualization.matplotlib.plot_intermediate_values(study)
        _restyle(ax, "Intermediate values (pruned trials marked)", title)
        drawn = mark_pruned(ax, study)
        _state_legend(ax, drawn)
        ax.set_xlabel("evaluation (step)")
        ax.set_ylabel(metric)
    save_figure(ax.figure, path)


PLOTTERS: dict[str, Callable[..., None]] = {
    "history": plot_history, "importance": plot_importances, "intermediate": plot_intermediate}


def write_study_plots(study: optuna.Study, paths: Mapping[str, Path], *, metric: str | None = None) -> None:
    """The three figures of ``study`` (keys of :data:`STUDY_PLOTS` -> PNG path), titled with the study's name.

    ``metric`` is the task's main metric: a trial's objective is its development score, its intermediate values
    are validation scores (the pruner never sees development)."""
    axis = {"history": f"dev {metric}" if metric else "objective", "importance": f"dev {metric}" if metric else
            "objective", "intermediate": f"validation {metric}" if metric else "intermediate value"}
    for name, path in paths.items():
        PLOTTERS[name](study, Path(path), title=study.study_name, metric=axis[name])
