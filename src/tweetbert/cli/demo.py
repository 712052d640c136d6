"""Demo stages: generated raw tweets, ground truth, task files and general-domain text; the tiny base model built
from that text; stand-in annotations of the acceptability sheet."""

from __future__ import annotations

import argparse
from pathlib import Path

from tweetbert.cli import command
from tweetbert.settings import add_settings_options, settings_from_args

CALIBRATION_SIZE = 3000


def _demo_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.demo.settings import DemoDataSettings

    p.add_argument("--out-dir", required=True, type=Path, help="directory for the demo files (e.g. results/demo/demo)")
    add_settings_options(p, DemoDataSettings)


@command("demo-data", "Generate the demo: raw tweets with planted duplicates, task files, general-domain text.",
         _demo_args)
def demo_data(args: argparse.Namespace) -> None:
    from tweetbert.demo import write_demo_data
    from tweetbert.demo.calibration import write_calibration_sets
    from tweetbert.demo.settings import DemoDataSettings

    settings = settings_from_args(args, DemoDataSettings)
    paths = write_demo_data(args.out_dir, seed=settings.seed, n_tweets=settings.n_tweets,
                            planted_task_texts=settings.planted_task_texts)
    write_calibration_sets(paths["tweets"], paths["duplicate_clusters"], args.out_dir / "tune_target.jsonl",
                           args.out_dir / "tune_control.jsonl", CALIBRATION_SIZE, settings.seed)


def _annotate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--key", required=True, type=Path, help="the acceptability kit's key.tsv")
    p.add_argument("--sheet", required=True, type=Path, help="the kit's empty sheet.csv")
    p.add_argument("--output", required=True, type=Path, help="the filled copy")


@command("demo-annotate", "Fill the demo's acceptability sheet with two rule-based stand-in annotators "
                          "(part-of-speech agreement; not human judgements).", _annotate_args)
def demo_annotate(args: argparse.Namespace) -> None:
    from tweetbert.demo.annotations import annotate_demo_sheet

    annotate_demo_sheet(args.key, args.sheet, args.output)


def _base_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.demo.settings import DemoBaseModelSettings

    p.add_argument("--text", required=True, type=Path, help="general-domain text, one sentence per line")
    p.add_argument("--output", required=True, type=Path, help="model directory (safetensors + tokenizer)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads; the weights are reproducible for a fixed thread count (default 1)")
    add_settings_options(p, DemoBaseModelSettings)


@command("build-base-model", "Demo only: a tiny general-domain Japanese BERT (own WordPiece, short MLM training).",
         _base_args)
def build_base_model(args: argparse.Namespace) -> None:
    from dataclasses import asdict

    from tweetbert.demo.base_model import build_demo_base_model
    from tweetbert.demo.settings import DemoBaseModelSettings

    settings = settings_from_args(args, DemoBaseModelSettings)
    build_demo_base_model(args.text, args.output, **asdict(settings), threads=args.threads)
