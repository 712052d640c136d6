"""Tokenization stages: char-coverage, train-tokenizer, length-histogram, tokenizer-stats, task-vocabulary."""

from __future__ import annotations

import argparse
from pathlib import Path

from tweetbert.cli import command, key_value, output_options, output_paths, write_json
from tweetbert.settings import add_settings_options, settings_from_args


def _coverage_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.tokenization.settings import CharCoverageSettings

    p.add_argument("--corpus", required=True, type=Path, help="split corpus Parquet")
    p.add_argument("--split", default="train", help="split whose tweets are counted (default train)")
    add_settings_options(p, CharCoverageSettings)
    p.add_argument("--table", required=True, type=Path, help="TSV of characters by rank")
    p.add_argument("--chars", required=True, type=Path, help="the selected characters, one per line")
    p.add_argument("--plot", required=True, type=Path, help="cumulative coverage plot")
    p.add_argument("--stats", required=True, type=Path, help="JSON summary")


@command("char-coverage", "Rank characters by tweets containing them; the smallest set covering the corpus.",
         _coverage_args)
def char_coverage(args: argparse.Namespace) -> None:
    from tweetbert.tokenization.coverage import write_char_coverage
    from tweetbert.tokenization.settings import CharCoverageSettings

    settings = settings_from_args(args, CharCoverageSettings)
    summary = write_char_coverage(args.corpus, args.table, args.chars, args.plot, coverage=settings.char_coverage,
                                  split=args.split)
    write_json(summary, args.stats)


def _train_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.tokenization.settings import TokenizerTrainSettings

    p.add_argument("--corpus", required=True, type=Path, help="split corpus Parquet")
    p.add_argument("--split", default="train", help="split the vocabulary is trained on (default train)")
    p.add_argument("--chars", required=True, type=Path, help="covered characters (from char-coverage)")
    add_settings_options(p, TokenizerTrainSettings)
    p.add_argument("--output", required=True, type=Path, help="tokenizer directory (BertJapaneseTokenizer)")
    p.add_argument("--workers", type=int, default=1,
                   help="MeCab processes counting words, then the tokenizers trainer's threads (default 1)")


@command("train-tokenizer", "Train a WordPiece vocabulary on MeCab words; save a Japanese-BERT tokenizer.",
         _train_args)
def train_tokenizer(args: argparse.Namespace) -> None:
    from tweetbert.threads import limit_threads
    from tweetbert.tokenization.settings import TokenizerTrainSettings
    from tweetbert.tokenization.train import corpus_word_counts, joyo_kanji, save_japanese_tokenizer, train_wordpiece

    settings = settings_from_args(args, TokenizerTrainSettings)
    covered = [line for line in args.chars.read_text(encoding="utf-8").split("\n") if line]
    counts = corpus_word_counts(args.corpus, args.split, workers=args.workers)
    limit_threads(args.workers)  # the counting processes are done: the trainer's rayon threads take their place
    vocab = train_wordpiece(counts, settings.vocab_size, sorted(set(covered) | joyo_kanji()),
                            min_frequency=settings.min_frequency)
    save_japanese_tokenizer(vocab, args.output)


def _lengths_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.tokenization.settings import LengthHistogramSettings

    p.add_argument("--corpus", required=True, type=Path, help="split corpus Parquet")
    p.add_argument("--split", default="train", help="split whose lengths are measured (default train)")
    p.add_argument("--tokenizer", required=True, type=Path, help="tokenizer directory")
    add_settings_options(p, LengthHistogramSettings)
    p.add_argument("--table", required=True, type=Path, help="TSV of the length distribution")
    p.add_argument("--choice", required=True, type=Path, help="JSON with max_seq_length (read by pre-training)")
    p.add_argument("--plot", required=True, type=Path, help="histogram with cumulative share")
    p.add_argument("--workers", type=int, default=1)


@command("length-histogram", "Tokenized lengths and the max_seq_length covering 99.9 %% of tweets.", _lengths_args)
def length_histogram(args: argparse.Namespace) -> None:
    from tweetbert.tokenization.lengths import write_length_histogram
    from tweetbert.tokenization.settings import LengthHistogramSettings

    settings = settings_from_args(args, LengthHistogramSettings)
    write_length_histogram(args.corpus, args.tokenizer, args.table, args.choice, args.plot,
                           coverage=settings.length_coverage, split=args.split, workers=args.workers)


def _stats_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.tokenization.stats import TOKENIZER_STATS_OUTPUTS

    p.add_argument("--corpus", required=True, type=Path, help="split corpus Parquet")
    p.add_argument("--split", default="validation", help="split the tokenizers are compared on")
    p.add_argument("--tokenizer", action="append", default=[], required=True, type=key_value, metavar="NAME=DIR",
                   help="a tokenizer to compare (repeatable); DIR may be a hub id")
    p.add_argument("--base", required=True, help="NAME of the base tokenizer (for vocabulary overlap)")
    p.add_argument("--workers", type=int, default=1)
    output_options(p, TOKENIZER_STATS_OUTPUTS)
    p.add_argument("--summary-html", required=True, type=Path, help="the summary as an HTML page for the report")
    p.add_argument("--corpus-name", default="", help="the corpus's name in the page's title")


@command("tokenizer-stats", "Unknown rate, lengths, vocabulary use, overlap with the base and composition.",
         _stats_args)
def tokenizer_stats(args: argparse.Namespace) -> None:
    from tweetbert.plots.html_table import write_tsv_page
    from tweetbert.tokenization.stats import TOKENIZER_STATS_OUTPUTS, write_tokenizer_stats

    tokenizers = {name: Path(location) for name, location in args.tokenizer}
    write_tokenizer_stats(args.corpus, tokenizers, args.base, output_paths(args, TOKENIZER_STATS_OUTPUTS),
                          split=args.split, workers=args.workers)
    named = f" ({args.corpus_name})" if args.corpus_name else ""
    write_tsv_page(args.summary, args.summary_html, title=f"Base vs new tokenizers on held-out tweets{named}")


def _task_vocabulary_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.settings import json_object
    from tweetbert.tokenization.settings import TaskVocabularySettings
    from tweetbert.tokenization.task_vocabulary import TASK_VOCABULARY_OUTPUTS

    p.add_argument("--tasks", required=True, type=json_object, metavar="JSON",
                   help="the tasks to measure: a JSON object of task name -> its loader options (config tasks.*)")
    p.add_argument("--tokenizer", action="append", required=True, type=key_value, metavar="NAME=LOCATION",
                   help="a tokenizer to measure, e.g. base=<hub id or dir> (repeatable; the table keeps this order)")
    p.add_argument("--workers", type=int, default=1, help="tokenizer processes")
    add_settings_options(p, TaskVocabularySettings)
    output_options(p, TASK_VOCABULARY_OUTPUTS)


@command("task-vocabulary", "Base vs new tokenizers on each task's own text: [UNK] rate, tokens, words split.",
         _task_vocabulary_args)
def task_vocabulary(args: argparse.Namespace) -> None:
    from tweetbert.demo import task_specs  # noqa: F401  (registers the demo's tasks, which its config names)
    from tweetbert.tokenization.settings import TaskVocabularySettings
    from tweetbert.tokenization.task_vocabulary import TASK_VOCABULARY_OUTPUTS, write_task_vocabulary

    write_task_vocabulary(args.tasks, dict(args.tokenizer), output_paths(args, TASK_VOCABULARY_OUTPUTS),
                          settings_from_args(args, TaskVocabularySettings), workers=args.workers)
