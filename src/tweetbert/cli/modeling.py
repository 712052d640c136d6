"""Modeling stages: migrate-embeddings, calibrate-batch-size, tokenize-corpus, pretrain-candidate,
pretrain-exploration, pretrain-loss-curves, export and candidates (the grid's slugs)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tweetbert.cli import command, key_value, threads_option, write_json
from tweetbert.modeling.settings import DERIVED_PRETRAIN_SETTINGS
from tweetbert.settings import add_settings_options, settings_from_args


def _migrate_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.modeling.settings import MigrateSettings

    p.add_argument("--base", required=True, help="base model: hub id or local directory")
    p.add_argument("--tokenizer", required=True, type=Path, help="the new tokenizer directory")
    p.add_argument("--output", required=True, type=Path, help="migrated model directory")
    p.add_argument("--stats", required=True, type=Path, help="JSON with migrated/new token counts")
    p.add_argument("--corpus", type=Path, default=None,
                   help="split corpus whose train tweets FOCUS learns from (needed by --method focus only)")
    add_settings_options(p, MigrateSettings)


@command("migrate-embeddings", "Move a base model onto the new vocabulary: shared tokens keep their rows.",
         _migrate_args)
def migrate_embeddings(args: argparse.Namespace) -> None:
    from tweetbert.modeling.migrate import migrate_embeddings as migrate
    from tweetbert.modeling.settings import MigrateSettings

    settings = settings_from_args(args, MigrateSettings)
    texts = None
    if settings.method == "focus" and args.corpus is not None:
        from tweetbert.corpus.io import read_split_texts

        texts = read_split_texts(args.corpus, "train")
    counts = migrate(args.base, args.tokenizer, args.output, method=settings.method, seed=settings.seed,
                     initializer_range=settings.initializer_range, texts=texts)
    write_json(counts, args.stats)


def _candidates_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.modeling.candidates import PHASES

    p.add_argument("--config", required=True, type=Path, help="workflow config file (e.g. configs/thesis.yaml)")
    p.add_argument("--phase", choices=PHASES, default="candidates",
                   help="the grids' phase to list: selection candidates, or exploration points (pre-trained only)")


@command("candidates", "Print the grid points of one phase of the config's pre-training grids, one slug per line.",
         _candidates_args)
def candidates(args: argparse.Namespace) -> None:
    from tweetbert.config import load_config
    from tweetbert.demo import task_specs  # noqa: F401  (registers the demo's tasks, which its config names)
    from tweetbert.modeling.candidates import expand_grids

    config = load_config(args.config)
    pretrain = config["pretrain"]
    for candidate in expand_grids(pretrain["grids"], pretrain["fixed"], config["corpora"], args.phase):
        print(candidate.slug)


def _max_seq_length(value: str) -> int:
    """A number, or the path of a length-histogram JSON whose max_seq_length is taken."""
    if value.isdigit():
        return int(value)
    return int(json.loads(Path(value).read_text())["max_seq_length"])


def _calibrate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, type=Path, help="model directory")
    p.add_argument("--max-seq-length", required=True, help="a number, or max_seq_length.json")
    p.add_argument("--margin", type=float, default=0.1, help="safety margin below the largest fitting batch")
    p.add_argument("--output", required=True, type=Path, help="JSON with the calibrated batch size")
    threads_option(p)


@command("calibrate-batch-size", "GPU: the largest batch of max-length sequences that fits, with a margin.",
         _calibrate_args)
def calibrate_batch_size(args: argparse.Namespace) -> None:
    from tweetbert.modeling.calibrate import calibrate_batch_size as calibrate

    write_json(calibrate(args.model, _max_seq_length(args.max_seq_length), margin=args.margin), args.output)


def _tokenize_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", required=True, type=Path, help="split corpus (its train and validation texts)")
    p.add_argument("--tokenizer", required=True, type=Path, help="tokenizer (or model) directory with vocab.txt")
    p.add_argument("--max-seq-length", required=True, help="a number, or max_seq_length.json")
    p.add_argument("--output", required=True, type=Path, help="token data directory (ids, offsets, tokens.json)")
    p.add_argument("--workers", type=int, default=1, help="MeCab worker processes")


@command("tokenize-corpus", "Tokenise a corpus's train and validation texts once, for every pre-training run of it.",
         _tokenize_args)
def tokenize_corpus(args: argparse.Namespace) -> None:
    from tweetbert.modeling.tokens import tokenize_corpus as tokenize

    tokenize(args.corpus, args.tokenizer, _max_seq_length(args.max_seq_length), args.output, workers=args.workers)


def _pretrain_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.modeling.settings import PretrainSettings

    p.add_argument("--model", required=True, type=Path, help="migrated model directory to continue from")
    p.add_argument("--tokens", required=True, type=Path,
                   help="token data of the corpus for the model's vocabulary (tweetbert tokenize-corpus)")
    p.add_argument("--name", required=True, help="the run's name (its slug), for the model cards")
    p.add_argument("--output-model", required=True, type=Path, help="directory of the final model")
    p.add_argument("--metrics", required=True, type=Path, help="JSON of the run's metrics")
    p.add_argument("--loss-curve", required=True, type=Path, help="TSV of training and validation loss by step")
    p.add_argument("--epoch-models", type=Path, default=None,
                   help="with epoch_checkpoints (and only then): directory of the epoch-k/ model directories")
    p.add_argument("--checkpoint-dir", required=True, type=Path,
                   help="resumable checkpoints, outside every output (removed after success)")
    p.add_argument("--tensorboard-dir", type=Path, default=None)
    p.add_argument("--max-seq-length", required=True, help="a number, or max_seq_length.json")
    p.add_argument("--batch-size", required=True,
                   help="a number, or a calibrate-batch-size JSON (its batch size, or --fallback-batch-size on CPU)")
    p.add_argument("--fallback-batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=1, help="torch threads; CPU results are reproducible per value")
    add_settings_options(p, PretrainSettings, skip=DERIVED_PRETRAIN_SETTINGS)


def _batch_size(value: str, fallback: int) -> int:
    if value.isdigit():
        return int(value)
    calibrated = json.loads(Path(value).read_text())["batch_size"]
    return int(calibrated) if calibrated else fallback


@command("pretrain-candidate", "Continued MLM pre-training of one candidate; resumes from its last checkpoint.",
         _pretrain_args)
def pretrain_candidate(args: argparse.Namespace) -> None:
    from tweetbert.modeling.pretrain import pretrain
    from tweetbert.modeling.pretrain_record import RunOutputs
    from tweetbert.modeling.settings import PretrainSettings

    settings = settings_from_args(args, PretrainSettings,
                                  batch_size=_batch_size(args.batch_size, args.fallback_batch_size),
                                  max_seq_length=_max_seq_length(args.max_seq_length))
    outputs = RunOutputs(args.name, args.output_model, args.metrics, args.loss_curve, args.epoch_models)
    pretrain(args.model, args.tokens, outputs, args.checkpoint_dir, settings,
             tensorboard_dir=args.tensorboard_dir, threads=args.threads)


def _exploration_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--candidate", action="append", default=[], type=key_value, metavar="SLUG=RUN:EPOCH",
                   help="a selection candidate, the training run that produces it and the epoch taken from it "
                        "(repeatable)")
    p.add_argument("--explored", action="append", default=[], type=key_value, metavar="SLUG=RUN:EPOCH",
                   help="an exploration point, pre-trained but never fine-tuned, as --candidate (repeatable)")
    p.add_argument("--learning-rate", required=True, type=float,
                   help="the fixed learning rate (pretrain.fixed.learning_rate) the weight-decay plot is drawn at")
    p.add_argument("--metrics", required=True, action="append", type=key_value, metavar="RUN=PATH",
                   help="a training run's metrics.json (repeatable: every run the points name)")
    p.add_argument("--epoch-models", action="append", default=[], type=key_value, metavar="RUN=PATH",
                   help="a training run's folder of epoch models, for points that are an earlier epoch (repeatable)")
    p.add_argument("--table", required=True, type=Path, help="TSV of every point's phase and validation loss")
    p.add_argument("--table-html", required=True, type=Path, help="the same table as an HTML page for the report")
    p.add_argument("--heatmap", required=True, type=Path, help="learning rate x weight decay heatmap")
    p.add_argument("--weight-decay-plot", required=True, type=Path,
                   help="validation loss by weight decay at --learning-rate")
    p.add_argument("--epochs-plot", required=True, type=Path, help="validation loss by epochs, per phase")


def _produced_by(pairs: list[tuple[str, str]]) -> dict:
    """SLUG=RUN:EPOCH pairs as slug -> (run, epoch)."""
    from tweetbert.modeling.candidates import Candidate

    runs = {}
    for slug, produced_by in pairs:
        run, _, epoch = produced_by.rpartition(":")
        runs[slug] = (Candidate.from_slug(run), int(epoch))
    return runs


@command("pretrain-exploration", "Table of every grid point by phase, learning-rate x weight-decay heatmap, "
         "loss-by-weight-decay and loss-by-epochs plots.", _exploration_args)
def pretrain_exploration(args: argparse.Namespace) -> None:
    from tweetbert.errors import ConfigError
    from tweetbert.modeling.exploration import candidate_table
    from tweetbert.plots.html_table import write_tsv_page
    from tweetbert.plots.pretrain import plot_loss_by_epochs, plot_loss_by_weight_decay, plot_lr_wd_heatmap

    if not args.candidate and not args.explored:
        raise ConfigError("pretrain.grids", "no grid point to tabulate (give --candidate or --explored)")
    table = candidate_table({"exploration": _produced_by(args.explored), "candidates": _produced_by(args.candidate)},
                            {run: Path(path) for run, path in args.metrics},
                            {run: Path(path) for run, path in args.epoch_models})
    args.table.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.table, sep="\t", index=False, float_format="%.6g")
    write_tsv_page(args.table, args.table_html, title="Pre-training runs: every grid point by phase")
    plot_lr_wd_heatmap(table, args.heatmap)
    plot_loss_by_weight_decay(table, args.learning_rate, args.weight_decay_plot)
    plot_loss_by_epochs(table, args.epochs_plot)


def _loss_curves_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--curves", required=True, nargs="+", type=Path,
                   help="each training run's loss_curve.tsv, in pretrain/runs/<run>/ (the folder names the panel)")
    p.add_argument("--corpus", required=True, action="append", type=key_value, metavar="RUN=CORPUS",
                   help="the corpus each run trained on, from the expanded grid (repeatable; colours its panel)")
    p.add_argument("--plot", required=True, type=Path, help="PNG: one panel per run, training and validation loss")


@command("pretrain-loss-curves", "One panel per pre-training run: training and validation loss against the step.",
         _loss_curves_args)
def pretrain_loss_curves(args: argparse.Namespace) -> None:
    import pandas as pd

    from tweetbert.errors import InputError
    from tweetbert.modeling.pretrain_record import CURVE_COLUMNS
    from tweetbert.plots.pretrain import plot_loss_curves

    corpora = dict(args.corpus)
    curves = {}
    for path in sorted(args.curves, key=lambda path: path.parent.name):
        curve = pd.read_csv(path, sep="\t")
        missing = [column for column in CURVE_COLUMNS if column not in curve.columns]
        if missing:
            raise InputError(path, f"not a loss curve: no column {', '.join(missing)}")
        if path.parent.name not in corpora:
            raise InputError(path, f"no --corpus {path.parent.name}=CORPUS for this run")
        curves[path.parent.name] = curve
    plot_loss_curves(curves, {run: corpora[run] for run in curves}, args.plot)


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, type=Path,
                   help="a model folder the workflow wrote, e.g. results/<run>/pretrain/runs/<run>/model")
    p.add_argument("--to", required=True, type=Path, help="new or empty folder to write the Hub-ready copy into")


@command("export", "Copy a model folder to a Hub-ready one: safetensors weights, tokenizer files and model card.",
         _export_args)
def export(args: argparse.Namespace) -> None:
    from tweetbert.modeling.export import export_model

    for path in export_model(args.model, args.to):
        print(path)
