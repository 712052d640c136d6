"""Analysis stages of the selected model: probe-embeddings, topk-accuracy, acceptability-sheet,
acceptability-report and downstream."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tweetbert.cli import command, key_value


def _models_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, action="append", type=key_value, metavar="NAME=LOCATION",
                   help="a model to probe: its name in tables and plots, and its directory or hub id (repeatable, "
                        "in plot order)")


def _texts_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--texts", required=True, type=Path, help="a corpus Parquet (with --split) or a table of texts")
    p.add_argument("--split", help="read this split of a corpus Parquet (e.g. test: tweets no candidate trained on)")
    p.add_argument("--text-column", default="text", help="the table's text column (WRIME: Sentence)")


def _read_texts(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    from tweetbert.analysis.evaluation_texts import read_evaluation_texts

    return read_evaluation_texts(args.texts, split=args.split, column=args.text_column)


def _probe_args(p: argparse.ArgumentParser) -> None:
    _models_arg(p)
    p.add_argument("--noun-classes", required=True, help="JSON object: class name -> list of nouns")
    p.add_argument("--n-kanji", type=int, default=50)
    p.add_argument("--n-emoji", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", required=True, type=Path)


@command("probe-embeddings", "t-SNE maps and silhouette scores of word classes in each model's [CLS] output and "
                             "input embeddings.", _probe_args)
def probe_embeddings(args: argparse.Namespace) -> None:
    from tweetbert.analysis.probe_words import probe_items
    from tweetbert.analysis.probes import write_probes

    items = probe_items(json.loads(args.noun_classes), n_kanji=args.n_kanji, n_emoji=args.n_emoji, seed=args.seed)
    write_probes(dict(args.model), items, args.out_dir, seed=args.seed)


def _topk_args(p: argparse.ArgumentParser) -> None:
    _models_arg(p)
    _texts_args(p)
    p.add_argument("--k", type=int, nargs="+", required=True, help="the K values of top-K accuracy")
    p.add_argument("--max-examples", type=int, default=2000)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", required=True, type=Path)


@command("topk-accuracy", "Top-K masked-token accuracy of each model on the same masked words.", _topk_args)
def topk_accuracy(args: argparse.Namespace) -> None:
    from tweetbert.analysis.topk import write_topk

    _, texts = _read_texts(args)
    write_topk(texts, dict(args.model), args.out_dir, ks=args.k, max_examples=args.max_examples,
               max_length=args.max_length, seed=args.seed)


def _sheet_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="the selected model's directory")
    _texts_args(p)
    p.add_argument("--k", type=int, nargs="+", required=True, help="the prediction ranks, one group of examples each")
    p.add_argument("--per-k", type=int, default=30)
    p.add_argument("--min-tokens", type=int, default=20)
    p.add_argument("--max-tokens", type=int, default=40)
    p.add_argument("--annotator", nargs="+", required=True, help="the annotators' names (one label column each)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", required=True, type=Path)


@command("acceptability-sheet", "The annotation kit: rank-K replacements of masked words, a sheet per annotator "
                                "column and a printable page.", _sheet_args)
def acceptability_sheet(args: argparse.Namespace) -> None:
    from tweetbert.analysis.acceptability_sheet import write_kit

    ids, texts = _read_texts(args)
    write_kit(ids, texts, args.model, args.out_dir, ks=args.k, per_k=args.per_k, min_tokens=args.min_tokens,
              max_tokens=args.max_tokens, annotators=args.annotator, seed=args.seed)


def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--key", required=True, type=Path, help="the kit's key.tsv")
    p.add_argument("--sheet", required=True, type=Path, nargs="+", help="the filled copies of sheet.csv")
    p.add_argument("--out-dir", required=True, type=Path)


@command("acceptability-report", "Acceptability by K, Cohen's kappa and each annotator's labels from filled sheets.",
         _report_args)
def acceptability_report(args: argparse.Namespace) -> None:
    from tweetbert.analysis.acceptability_report import write_acceptability_report

    write_acceptability_report(args.key, args.sheet, args.out_dir)


def _downstream_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--best", required=True, type=Path, nargs="+", help="best.json of every model x task")
    p.add_argument("--selection", required=True, type=Path, help="best_model.json of select-best")
    p.add_argument("--control", nargs="*", default=[], help="the control models' names")
    p.add_argument("--task", nargs="+", required=True, help="the benchmark tasks")
    p.add_argument("--out-dir", required=True, type=Path)


@command("downstream", "Benchmark table of the selected model vs controls, with the published results.",
         _downstream_args)
def downstream(args: argparse.Namespace) -> None:
    from tweetbert.analysis.downstream import write_downstream
    from tweetbert.demo import task_specs  # noqa: F401  (registers the demo's tasks and their metrics)

    selected = json.loads(args.selection.read_text(encoding="utf-8"))["model"]
    write_downstream(args.best, selected, args.control, args.task, args.out_dir)
