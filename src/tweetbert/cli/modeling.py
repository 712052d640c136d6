"""Model stages: build-base-model (demo), migrate-embeddings."""

from __future__ import annotations

import argparse
from pathlib import Path

from tweetbert.cli import command, write_json


def _base_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--text", required=True, type=Path, help="general-domain text, one sentence per line")
    p.add_argument("--output", required=True, type=Path, help="model directory (safetensors + tokenizer)")
    p.add_argument("--vocab-size", type=int, default=6000)
    p.add_argument("--hidden-size", type=int, default=64)
    p.add_argument("--num-layers", type=int, default=2)
    p.add_argument("--num-heads", type=int, default=2)
    p.add_argument("--intermediate-size", type=int, default=256)
    p.add_argument("--max-position", type=int, default=128)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads; the weights are reproducible for a fixed thread count (default 1)")


@command("build-base-model", "Demo only: a tiny general-domain Japanese BERT (own WordPiece, short MLM training).",
         _base_args)
def build_base_model(args: argparse.Namespace) -> None:
    from tweetbert.demo.base_model import build_demo_base_model

    build_demo_base_model(args.text, args.output, vocab_size=args.vocab_size, hidden_size=args.hidden_size,
                          num_layers=args.num_layers, num_heads=args.num_heads,
                          intermediate_size=args.intermediate_size, max_position=args.max_position,
                          steps=args.steps, batch_size=args.batch_size, learning_rate=args.learning_rate,
                          seed=args.seed, threads=args.threads)


def _migrate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", required=True, help="base model: hub id or local directory")
    p.add_argument("--tokenizer", required=True, type=Path, help="the new tokenizer directory")
    p.add_argument("--output", required=True, type=Path, help="migrated model directory")
    p.add_argument("--stats", required=True, type=Path, help="JSON with migrated/new token counts")
    p.add_argument("--method", default="random", choices=["random", "subword_mean", "focus"],
                   help="initialisation of tokens the base vocabulary lacks")
    p.add_argument("--initializer-range", type=float, default=None,
                   help="std of the random initialisation (default: the base config's)")
    p.add_argument("--corpus", type=Path, default=None,
                   help="split corpus whose train tweets FOCUS learns from (needed by --method focus only)")
    p.add_argument("--seed", type=int, default=0)


@command("migrate-embeddings", "Move a base model onto the new vocabulary: shared tokens keep their rows.",
         _migrate_args)
def migrate_embeddings(args: argparse.Namespace) -> None:
    from tweetbert.modeling.migrate import migrate_embeddings as migrate

    texts = None
    if args.method == "focus" and args.corpus is not None:
        from tweetbert.corpus.io import read_split_texts

        texts = read_split_texts(args.corpus, "train")
    counts = migrate(args.base, args.tokenizer, args.output, method=args.method, seed=args.seed,
                     initializer_range=args.initializer_range, texts=texts)
    write_json(counts, args.stats)


def _candidates_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, type=Path, help="workflow config file (e.g. configs/thesis.yaml)")


@command("candidates", "Print the pre-training candidates the config's grids expand to, one slug per line.",
         _candidates_args)
def candidates(args: argparse.Namespace) -> None:
    from tweetbert.config import load_config
    from tweetbert.demo import task_specs  # noqa: F401  (registers the demo's tasks, which its config names)
    from tweetbert.modeling.candidates import expand_grids

    config = load_config(args.config)
    pretrain = config["pretrain"]
    for candidate in expand_grids(pretrain["grids"], pretrain["fixed"], config["corpora"]):
        print(candidate.slug)
