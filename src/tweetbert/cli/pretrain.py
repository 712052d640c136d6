"""Pre-training stages: calibrate-batch-size, pretrain-candidate, pretrain-exploration."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tweetbert.cli import command, key_value, write_json


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


@command("calibrate-batch-size", "GPU: the largest batch of max-length sequences that fits, with a margin.",
         _calibrate_args)
def calibrate_batch_size(args: argparse.Namespace) -> None:
    from tweetbert.modeling.calibrate import calibrate_batch_size as calibrate

    write_json(calibrate(args.model, _max_seq_length(args.max_seq_length), margin=args.margin), args.output)


def _pretrain_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, type=Path, help="migrated model directory to continue from")
    p.add_argument("--corpus", required=True, type=Path, help="split corpus (train and validation are used)")
    p.add_argument("--output", required=True, type=Path, help="run directory: model/, metrics.json, loss_curve.tsv")
    p.add_argument("--checkpoint-dir", required=True, type=Path,
                   help="resumable checkpoints, outside --output (removed after success)")
    p.add_argument("--tensorboard-dir", type=Path, default=None)
    p.add_argument("--max-seq-length", required=True, help="a number, or max_seq_length.json")
    p.add_argument("--batch-size", required=True,
                   help="a number, or a calibrate-batch-size JSON (its batch size, or --fallback-batch-size on CPU)")
    p.add_argument("--fallback-batch-size", type=int, default=32)
    for name, kind in (("learning-rate", float), ("weight-decay", float), ("epochs", int), ("beta1", float),
                       ("beta2", float), ("epsilon", float), ("warmup-steps", float), ("mlm-probability", float),
                       ("eval-every", int), ("save-every", int), ("seed", int)):
        p.add_argument(f"--{name}", type=kind, required=name not in ("seed",), default=0 if name == "seed" else None)
    p.add_argument("--early-stopping-patience", type=int, default=None)
    p.add_argument("--whole-word-mask", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--epoch-checkpoints", action=argparse.BooleanOptionalAction, default=False)
    p.add_argument("--threads", type=int, default=1, help="torch threads; CPU results are reproducible per value")


def _batch_size(value: str, fallback: int) -> int:
    if value.isdigit():
        return int(value)
    calibrated = json.loads(Path(value).read_text())["batch_size"]
    return int(calibrated) if calibrated else fallback


@command("pretrain-candidate", "Continued MLM pre-training of one candidate; resumes from its last checkpoint.",
         _pretrain_args)
def pretrain_candidate(args: argparse.Namespace) -> None:
    from tweetbert.modeling.pretrain import PretrainSettings, pretrain

    settings = PretrainSettings(
        learning_rate=args.learning_rate, weight_decay=args.weight_decay, epochs=args.epochs, beta1=args.beta1,
        beta2=args.beta2, epsilon=args.epsilon, batch_size=_batch_size(args.batch_size, args.fallback_batch_size),
        max_seq_length=_max_seq_length(args.max_seq_length), warmup_steps=args.warmup_steps,
        mlm_probability=args.mlm_probability, whole_word_mask=args.whole_word_mask, seed=args.seed,
        eval_every=args.eval_every, save_every=args.save_every, early_stopping_patience=args.early_stopping_patience,
        epoch_checkpoints=args.epoch_checkpoints)
    pretrain(args.model, args.corpus, args.output, args.checkpoint_dir, settings,
             tensorboard_dir=args.tensorboard_dir, threads=args.threads)


def _exploration_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--candidate", action="append", required=True, type=key_value, metavar="SLUG=RUN:EPOCH",
                   help="a candidate, the training run that produces it and the epoch taken from it (repeatable)")
    p.add_argument("--runs", required=True, type=Path, help="directory holding one folder per training run")
    p.add_argument("--table", required=True, type=Path, help="TSV of every candidate's validation loss")
    p.add_argument("--heatmap", required=True, type=Path, help="learning rate x weight decay heatmap")
    p.add_argument("--epochs-plot", required=True, type=Path, help="validation loss by epochs")


@command("pretrain-exploration", "Candidate table, learning-rate x weight-decay heatmap and loss-by-epochs plot.",
         _exploration_args)
def pretrain_exploration(args: argparse.Namespace) -> None:
    from tweetbert.modeling.candidates import Candidate
    from tweetbert.modeling.exploration import candidate_table
    from tweetbert.plots.pretrain import plot_loss_by_epochs, plot_lr_wd_heatmap

    runs = {}
    for slug, produced_by in args.candidate:
        run, _, epoch = produced_by.rpartition(":")
        runs[slug] = (Candidate.from_slug(run), int(epoch))
    table = candidate_table(runs, args.runs)
    args.table.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.table, sep="\t", index=False, float_format="%.6g")
    plot_lr_wd_heatmap(table, args.heatmap)
    plot_loss_by_epochs(table, args.epochs_plot)
