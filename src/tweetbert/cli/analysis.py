"""Analysis stages of the selected model: probe-embeddings, topk-accuracy, acceptability-sheet,
acceptability-report, downstream and glance (the report's first page)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tweetbert.cli import command, key_value, output_options, output_paths, threads_option
from tweetbert.settings import add_settings_options, settings_from_args


def _models_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, action="append", type=key_value, metavar="NAME=LOCATION",
                   help="a model to probe: its name in tables and plots, and its directory or hub id (repeatable, "
                        "in plot order)")


def _texts_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--texts", required=True, type=Path, help="a corpus Parquet (with --split) or a table of texts")
    p.add_argument("--split", help="read this split of a corpus Parquet (e.g. test: tweets no candidate trained on), "
                                   "or with --split-column the table's rows of this split")
    p.add_argument("--text-column", default="text", help="the table's text column (WRIME: Sentence)")
    p.add_argument("--split-column", help="the table's column naming each row's split (WRIME: Train/Dev/Test)")


def _read_texts(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    from tweetbert.analysis.evaluation_texts import read_evaluation_texts

    return read_evaluation_texts(args.texts, split=args.split, column=args.text_column, split_column=args.split_column)


def _probe_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.analysis.probes import PROBE_OUTPUTS
    from tweetbert.analysis.settings import ProbeSettings

    _models_arg(p)
    output_options(p, PROBE_OUTPUTS)
    threads_option(p)
    p.add_argument("--scores-html", required=True, type=Path, help="the scores as an HTML page for the report")
    p.add_argument("--set-plot", action="append", default=[], type=key_value, metavar="SET=PATH",
                   help="PNG of one probe set's t-SNE maps (repeatable; one for each set of the sets setting)")
    add_settings_options(p, ProbeSettings)


@command("probe-embeddings", "t-SNE maps and silhouette scores of word classes in each model's [CLS] output and "
                             "input embeddings, jointly and per probe set.", _probe_args)
def probe_embeddings(args: argparse.Namespace) -> None:
    from tweetbert.analysis.probe_words import probe_items, resolve_sets
    from tweetbert.analysis.probes import PROBE_OUTPUTS, write_probes
    from tweetbert.analysis.settings import ProbeSettings
    from tweetbert.plots.html_table import write_tsv_page

    settings = settings_from_args(args, ProbeSettings)
    sets = resolve_sets(settings.sets, settings.noun_classes)
    items = probe_items(settings.noun_classes, n_kanji=settings.n_kanji, n_emoji=settings.n_emoji, seed=settings.seed)
    set_plots = {name: Path(path) for name, path in args.set_plot}
    if len(set_plots) < len(args.set_plot):
        raise ValueError("a probe set has two --set-plot paths")
    write_probes(dict(args.model), items, sets, output_paths(args, PROBE_OUTPUTS), set_plots, seed=settings.seed)
    write_tsv_page(args.scores, args.scores_html,
                   title="Class separation: silhouette by probe set, model and representation")


def _topk_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.analysis.settings import TopKSettings
    from tweetbert.analysis.topk import TOPK_OUTPUTS

    _models_arg(p)
    _texts_args(p)
    output_options(p, TOPK_OUTPUTS)
    threads_option(p)
    add_settings_options(p, TopKSettings)


@command("topk-accuracy", "Top-K masked-token accuracy of each model on the same masked words.", _topk_args)
def topk_accuracy(args: argparse.Namespace) -> None:
    from tweetbert.analysis.settings import TopKSettings
    from tweetbert.analysis.topk import TOPK_OUTPUTS, write_topk

    settings = settings_from_args(args, TopKSettings)
    _, texts = _read_texts(args)
    write_topk(texts, dict(args.model), output_paths(args, TOPK_OUTPUTS), ks=settings.top_k,
               max_examples=settings.max_examples,
               max_length=settings.max_length, seed=settings.seed)


def _sheet_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.analysis.acceptability_sheet import KIT_OUTPUTS
    from tweetbert.analysis.settings import AcceptabilitySheetSettings

    p.add_argument("--model", required=True, help="the selected model's directory")
    _texts_args(p)
    output_options(p, KIT_OUTPUTS)
    add_settings_options(p, AcceptabilitySheetSettings)


@command("acceptability-sheet", "The annotation kit: rank-K replacements of masked words, a sheet per annotator "
                                "column and a printable page.", _sheet_args)
def acceptability_sheet(args: argparse.Namespace) -> None:
    from tweetbert.analysis.acceptability_sheet import KIT_OUTPUTS, write_kit
    from tweetbert.analysis.settings import AcceptabilitySheetSettings

    settings = settings_from_args(args, AcceptabilitySheetSettings)
    ids, texts = _read_texts(args)
    write_kit(ids, texts, args.model, output_paths(args, KIT_OUTPUTS), ks=settings.ks, per_k=settings.per_k,
              min_tokens=settings.min_tokens, max_tokens=settings.max_tokens, annotators=settings.annotators,
              seed=settings.seed)


def _report_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.analysis.acceptability_report import REPORT_OUTPUTS

    p.add_argument("--key", required=True, type=Path, help="the kit's key.tsv")
    p.add_argument("--sheet", required=True, type=Path, nargs="+", help="the filled copies of sheet.csv")
    output_options(p, REPORT_OUTPUTS)


@command("acceptability-report", "Acceptability by K, Cohen's kappa and each annotator's labels from filled sheets.",
         _report_args)
def acceptability_report(args: argparse.Namespace) -> None:
    from tweetbert.analysis.acceptability_report import REPORT_OUTPUTS, write_acceptability_report

    write_acceptability_report(args.key, args.sheet, output_paths(args, REPORT_OUTPUTS))


def _downstream_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.analysis.downstream import DOWNSTREAM_OUTPUTS
    from tweetbert.analysis.settings import DownstreamSettings

    p.add_argument("--best", required=True, type=Path, nargs="+", help="best.json of every model x task")
    p.add_argument("--selection", required=True, type=Path, help="best_model.json of select-best")
    p.add_argument("--predictions", type=Path, nargs="*", default=[],
                   help="test_predictions.json of every model x task (the paired bootstrap's items)")
    p.add_argument("--task-options", action="append", default=[], type=key_value, metavar="TASK=JSON",
                   help="a task's loader options as a JSON object, as fine-tuning got them: its test split gives "
                        "the chance and majority baselines (repeatable; none given: no baseline rows)")
    output_options(p, DOWNSTREAM_OUTPUTS)
    add_settings_options(p, DownstreamSettings)


@command("downstream", "Benchmark table of the selected model vs controls, with the published results.",
         _downstream_args)
def downstream(args: argparse.Namespace) -> None:
    from tweetbert.analysis.downstream import DOWNSTREAM_OUTPUTS, write_downstream
    from tweetbert.analysis.settings import DownstreamSettings
    from tweetbert.demo import task_specs  # noqa: F401  (registers the demo's tasks and their metrics)

    settings = settings_from_args(args, DownstreamSettings)
    selected = json.loads(args.selection.read_text(encoding="utf-8"))["model"]
    baselines = None
    if args.task_options:
        from tweetbert.analysis.baselines import load_baselines

        baselines = load_baselines({task: json.loads(options) for task, options in args.task_options})
    write_downstream(args.best, selected, settings.controls or [], settings.tasks,
                     output_paths(args, DOWNSTREAM_OUTPUTS), baselines, predictions=args.predictions,
                     resamples=settings.bootstrap, seed=settings.seed)


def _glance_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--selection", required=True, type=Path, help="select_best's best_model.json")
    p.add_argument("--controls", required=True, type=Path, help="select_best's controls.tsv")
    p.add_argument("--topk", type=Path, default=None, help="topk-accuracy's table, when the probe ran")
    p.add_argument("--downstream", type=Path, default=None, help="downstream's table, when benchmarks ran")
    p.add_argument("--differences", type=Path, default=None,
                   help="select_best's differences.tsv: the selected model minus each control, with intervals")
    p.add_argument("--demo", action="store_true", help="say that the run's data are generated stand-ins")
    p.add_argument("--output", required=True, type=Path, help="the HTML page")


@command("glance", "The report's first page: the selection, target-task scores, top-K and downstream headlines.",
         _glance_args)
def glance(args: argparse.Namespace) -> None:
    from tweetbert.analysis.glance import write_glance

    write_glance(args.selection, args.controls, args.topk, args.downstream, args.output,
                 differences=args.differences, demo=args.demo)
