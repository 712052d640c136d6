"""Fine-tuning stages: finetune-sweep (one worker of a study), finetune-best (test once, on the kept best model)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tweetbert.cli import command, key_value, output_options, output_paths, write_json
from tweetbert.settings import add_settings_options, settings_from_args


def _task_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="model directory or hub id")
    p.add_argument("--random-init", action="store_true", help="train the model's architecture from fresh weights")
    p.add_argument("--task", required=True, help="task name in the registry (tweetbert.tasks.registry)")
    p.add_argument("--task-option", action="append", default=[], type=key_value, metavar="KEY=VALUE",
                   help="a loader option of the task, e.g. path=data/jts1k.csv (repeatable; values are YAML)")
    p.add_argument("--storage", required=True, help="journal file path or RDB URL of the study")
    p.add_argument("--study", required=True, help="study name")


def _load(args: argparse.Namespace):
    import yaml

    from tweetbert.demo import task_specs  # noqa: F401  (registers the demo's tasks)
    from tweetbert.tasks.registry import get_task, load_task

    options = {key: yaml.safe_load(value) for key, value in args.task_option}
    return get_task(args.task), load_task(args.task, options)


def _sweep_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.sweep.workers import SweepSettings

    _task_args(p)
    p.add_argument("--worker-id", required=True, help="this worker's id (letters, digits, _ and -)")
    p.add_argument("--keep-dir", required=True, type=Path,
                   help="where the study's best trial's model is kept (shared by its workers; outside job outputs)")
    p.add_argument("--summary", required=True, type=Path, help="JSON written when the study is complete")
    add_settings_options(p, SweepSettings)
    alone = p.add_argument_group("the study's only worker", "with these, the worker also does finetune-best's work "
                                 "once its study is complete, in this process (all three or none)")
    alone.add_argument("--name", help="the model's name in results (candidate slug or control name)")
    alone.add_argument("--best", type=Path, help="best.json: params, dev and test metrics of the best trial's model")
    alone.add_argument("--trials", type=Path, help="trials.tsv of the whole study")


@command("finetune-sweep", "One worker of a model x task Optuna study; returns once the study has N trials.",
         _sweep_args)
def finetune_sweep(args: argparse.Namespace) -> None:
    import tempfile

    import optuna
    from optuna.trial import TrialState

    from tweetbert.errors import CheckFailed
    from tweetbert.finetune.train import finetune
    from tweetbert.sweep.callback import OptunaReportCallback
    from tweetbert.sweep.keep import keep_if_best
    from tweetbert.sweep.space import parse_space, suggest
    from tweetbert.sweep.storage import open_storage
    from tweetbert.sweep.workers import SweepSettings, run_worker

    settings = settings_from_args(args, SweepSettings)
    scores_best = args.best is not None
    if {args.name is None, args.best is None, args.trials is None} != {not scores_best}:
        raise CheckFailed("finetune-sweep: --name, --best and --trials go together (the study's only worker)")
    spec, task = _load(args)
    space = parse_space(settings.space)

    def objective(trial: optuna.Trial) -> float:
        """Prunes on validation; the objective is the dev metric of the model training ended with, kept if best."""
        report = OptunaReportCallback(trial, spec.main_metric, settings.evaluations_per_epoch)
        with tempfile.TemporaryDirectory() as scratch:
            result = finetune(args.model, task, spec, suggest(trial, space), seed=settings.seed,
                              output_dir=Path(scratch), callbacks=[report], random_init=args.random_init,
                              max_length=settings.max_length, evaluations_per_epoch=settings.evaluations_per_epoch)
        trial.set_user_attr("steps", result["steps"])
        report.raise_if_pruned()
        record = {"trial": trial.number, "objective": result["objective"], "dev": result["dev"],
                  "weights_sha256": result["weights_sha256"], "params": trial.params, "worker": args.worker_id}
        trial.set_user_attr("weights_sha256", result["weights_sha256"])
        standing = {t.number: t.user_attrs.get("weights_sha256")
                    for t in trial.study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.COMPLETE))}
        keep_if_best(args.keep_dir, result["model"], record, standing)
        return float(result["objective"])

    run_worker(args.study, args.storage, objective, settings.n_trials, seed=settings.seed, worker_id=args.worker_id,
               pruner=settings.pruner, pruner_startup_trials=settings.pruner_startup_trials,
               pruner_warmup_epochs=settings.pruner_warmup_epochs,
               evaluations_per_epoch=settings.evaluations_per_epoch, lease_timeout=settings.lease_timeout,
               heartbeat_interval=settings.heartbeat_interval, grace_period=settings.grace_period)
    study = optuna.load_study(study_name=args.study, storage=open_storage(args.storage))
    if scores_best:
        running = [t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))]
        if running:
            raise CheckFailed(f"study {args.study}: trials {running} are still running in another worker; "
                              "--best is for a study's only worker (use finetune-best after every worker returned)")
        _write_best(args, study, spec, task, seed=settings.seed, max_length=settings.max_length)
    write_json({"study": args.study, "worker": args.worker_id, "trials": len(study.trials)}, args.summary)


def _best_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.finetune.train import FinetuneSettings

    _task_args(p)
    p.add_argument("--name", required=True, help="the model's name in results (candidate slug or control name)")
    p.add_argument("--keep-dir", required=True, type=Path, help="the study's kept best model (finetune-sweep)")
    p.add_argument("--best", required=True, type=Path, help="best.json: params, dev and test metrics of one model")
    p.add_argument("--trials", required=True, type=Path, help="trials.tsv of the whole study")
    add_settings_options(p, FinetuneSettings)


@command("finetune-best", "Score the kept model of the best trial on the test split, once; no retraining.",
         _best_args)
def finetune_best(args: argparse.Namespace) -> None:
    import optuna

    from tweetbert.finetune.train import FinetuneSettings
    from tweetbert.sweep.storage import open_storage

    settings = settings_from_args(args, FinetuneSettings)
    spec, task = _load(args)
    study = optuna.load_study(study_name=args.study, storage=open_storage(args.storage))
    _write_best(args, study, spec, task, seed=settings.seed, max_length=settings.max_length)


def _write_best(args: argparse.Namespace, study, spec, task, *, seed: int, max_length: int) -> None:
    """best.json and trials.tsv of a finished study (``--best``/``--trials``, the kept model in ``--keep-dir``)."""
    from tweetbert.finetune.best import score_best_trial

    best, trials = score_best_trial(study, args.model, spec, task, name=args.name, keep_dir=args.keep_dir, seed=seed,
                                    max_length=max_length)
    args.trials.parent.mkdir(parents=True, exist_ok=True)
    trials.to_csv(args.trials, sep="\t", index=False, float_format="%.6g")
    write_json(best, args.best)


def _select_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.analysis.selection import SELECTION_OUTPUTS, SelectionSettings

    p.add_argument("--best", required=True, type=Path, nargs="+", help="every model x task best.json")
    add_settings_options(p, SelectionSettings)
    output_options(p, SELECTION_OUTPUTS)


@command("select-best", "Aggregate every sweep, compare candidates with controls and select the best candidate.",
         _select_args)
def select_best(args: argparse.Namespace) -> None:
    from tweetbert.analysis.selection import SELECTION_OUTPUTS, SelectionSettings, write_selection

    settings = settings_from_args(args, SelectionSettings)
    write_selection(args.best, settings.target_tasks, output_paths(args, SELECTION_OUTPUTS), rule=settings.rule,
                    require_beats=settings.require_beats)
