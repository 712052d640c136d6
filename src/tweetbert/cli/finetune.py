"""Fine-tuning stages: finetune-sweep (a study's job: its workers, then the kept best model on test), select-best,
and the studies' views: study-plots (Optuna's own plots of one study) and trial-counts (every sweep's trials by
state)."""

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
    from tweetbert.sweep.settings import SweepSettings

    _task_args(p)
    p.add_argument("--keep-dir", required=True, type=Path,
                   help="where the study's best trial's model is kept (shared by its workers; outside job outputs)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads of the job, shared out among its workers")
    add_settings_options(p, SweepSettings)
    lead = p.add_argument_group("the study's leading job", "it goes on until the study is complete, then scores the "
                                "best trial's kept model on test (all three)")
    lead.add_argument("--name", help="the model's name in results (candidate slug or control name)")
    lead.add_argument("--best", type=Path, help="best.json: params, dev and test metrics of the best trial's model")
    lead.add_argument("--trials", type=Path, help="trials.tsv of the whole study")
    lead.add_argument("--predictions", type=Path,
                      help="JSON of the kept model's per-example test outputs (for the selection's bootstrap)")
    lead.add_argument("--seeds", type=int, default=1,
                      help="fine-tune the best configuration with this many seeds in all (selection.seeds), "
                      "recording each seed's dev and test scores and their mean and sd in best.json")
    peer = p.add_argument_group("a further job of a study that spans jobs (sweep.jobs_per_study > 1)")
    p.add_argument("--job-index", type=int,
                   help="with sweep.jobs_per_study > 1, this job's index k (0 leads): its workers are j<k>w0, j<k>w1, ...")
    peer.add_argument("--summary", type=Path, help="JSON written when this job's workers have no trial left to run")


@command("finetune-sweep", "A model x task Optuna study: sweep.workers worker processes on the job's GPUs, then the "
         "kept best model scored on test.", _sweep_args)
def finetune_sweep(args: argparse.Namespace) -> None:
    import os

    from tweetbert.errors import CheckFailed
    from tweetbert.sweep.job import job_gpus, narrow_to_first_gpu
    from tweetbert.sweep.settings import SweepSettings
    from tweetbert.sweep.storage import surfacing_storage_errors

    settings = settings_from_args(args, SweepSettings)
    leads = args.best is not None
    lead_args = (args.name, args.best, args.trials, args.predictions)
    if {arg is None for arg in lead_args} != {not leads} or leads == (args.summary is not None):
        raise CheckFailed("finetune-sweep: give --name, --best, --trials and --predictions (the study's leading job) "
                          "or --summary (a further job)")
    if args.seeds < 1:
        raise CheckFailed(f"finetune-sweep: --seeds must be at least 1, got {args.seeds}")
    devices = job_gpus(settings.gpus, os.environ.get("CUDA_VISIBLE_DEVICES"))
    narrow_to_first_gpu(devices)  # before anything starts CUDA in this process
    with surfacing_storage_errors():  # one line naming sweep.storage, not Optuna's masking traceback
        _run_sweep_job(args, settings, devices, leads)


def _run_sweep_job(args: argparse.Namespace, settings, devices: list[str], leads: bool) -> None:
    import optuna

    from tweetbert.finetune.train import prepare_task
    from tweetbert.sweep.best import score_best_trial
    from tweetbert.sweep.job import StudyJob, run_study_job, worker_ids
    from tweetbert.sweep.storage import open_storage
    from tweetbert.threads import limit_threads

    spec, task = _load(args)
    prepared = prepare_task(args.model, task, spec, max_length=settings.max_length)
    job = StudyJob(args.study, str(args.storage), args.model, args.random_init, prepared, settings, args.keep_dir,
                   threads=max(1, args.threads // settings.workers))
    limit_threads(job.threads)  # the worker processes inherit their share, not the job's every thread
    run_study_job(job, worker_ids(settings.workers, args.job_index), devices, leader=leads)
    limit_threads(args.threads)  # the leader scores the best trial alone
    storage = open_storage(args.storage, retry_seconds=settings.storage_retry_seconds,
                           connect_timeout=settings.storage_connect_timeout)
    study = optuna.load_study(study_name=args.study, storage=storage)
    if not leads:
        write_json({"study": args.study, "job": args.job_index, "trials": len(study.trials)}, args.summary)
        return
    best, trials = score_best_trial(study, prepared, name=args.name, keep_dir=args.keep_dir, seed=settings.seed,
                                    predictions=args.predictions, model_dir=args.model, random_init=args.random_init,
                                    seeds=args.seeds)
    args.trials.parent.mkdir(parents=True, exist_ok=True)
    trials.to_csv(args.trials, sep="\t", index=False, float_format="%.6g")
    write_json(best, args.best)


def _select_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.analysis.selection_outputs import SELECTION_OUTPUTS
    from tweetbert.analysis.settings import SelectionSettings

    p.add_argument("--best", required=True, type=Path, nargs="+", help="every model x task best.json")
    p.add_argument("--predictions", type=Path, nargs="*", default=[],
                   help="every model x target task test_predictions.json (the bootstrap's items)")
    add_settings_options(p, SelectionSettings)
    output_options(p, SELECTION_OUTPUTS)


@command("select-best", "Aggregate every sweep, compare candidates with controls and select the best candidate.",
         _select_args)
def select_best(args: argparse.Namespace) -> None:
    from tweetbert.analysis.selection_outputs import SELECTION_OUTPUTS, write_selection
    from tweetbert.analysis.settings import SelectionSettings

    settings = settings_from_args(args, SelectionSettings)
    write_selection(args.best, settings.target_tasks, output_paths(args, SELECTION_OUTPUTS),
                    predictions=args.predictions, rule=settings.rule, require_beats=settings.require_beats,
                    resamples=settings.bootstrap, seed=settings.seed)


def _study_plots_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.plots.studies import STUDY_PLOTS

    p.add_argument("--storage", required=True, help="journal file path or RDB URL of the study")
    p.add_argument("--study", required=True, help="study name (<model>/<task>)")
    p.add_argument("--best", type=Path, help="the study's best.json, whose main_metric labels the axes")
    output_options(p, STUDY_PLOTS)


@command("study-plots", "Optuna's views of one finished study: optimisation history, parameter importances, "
         "intermediate values with the pruned trials marked.", _study_plots_args)
def study_plots(args: argparse.Namespace) -> None:
    import json

    import optuna

    from tweetbert.errors import InputError
    from tweetbert.plots.studies import STUDY_PLOTS, write_study_plots
    from tweetbert.sweep.storage import journal_path, open_storage, surfacing_storage_errors

    journal = journal_path(args.storage)
    if journal is not None and not journal.is_file():  # opening it would create an empty one
        raise InputError(journal, "no such journal file: has the study's sweep run?")
    metric = None
    if args.best is not None:
        metric = json.loads(args.best.read_text(encoding="utf-8"))["main_metric"]
    with surfacing_storage_errors():
        storage = open_storage(args.storage)
        try:
            study = optuna.load_study(study_name=args.study, storage=storage)
        except KeyError:  # Optuna's answer for a study name the storage lacks
            where = journal if journal is not None else "sweep.storage"  # an RDB URL may hold a password
            raise InputError(where, f"holds no study {args.study!r}") from None
    write_study_plots(study, output_paths(args, STUDY_PLOTS), metric=metric)


def _trial_counts_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.analysis.studies import TRIAL_COUNT_OUTPUTS

    p.add_argument("--trials", required=True, type=Path, nargs="+",
                   help="every sweep's finetune/<model>/<task>/trials.tsv (the path names the study)")
    output_options(p, TRIAL_COUNT_OUTPUTS)


@command("trial-counts", "Trials of every sweep by state (complete, pruned, failed, ...), from their trials.tsv.",
         _trial_counts_args)
def trial_counts(args: argparse.Namespace) -> None:
    from tweetbert.analysis.studies import TRIAL_COUNT_OUTPUTS, write_trial_counts

    write_trial_counts(args.trials, output_paths(args, TRIAL_COUNT_OUTPUTS))
