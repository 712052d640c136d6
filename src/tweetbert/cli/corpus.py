"""Corpus stages: ingest, normalize, dedup (signatures, bands, merge), tune-dedup, balance, corpus-stats,
contamination, split."""

from __future__ import annotations

import argparse
from pathlib import Path

from tweetbert.cli import command, output_options, output_paths, write_json
from tweetbert.settings import add_settings_options, settings_from_args


def _dedup_options(parser: argparse.ArgumentParser) -> None:
    from tweetbert.corpus.settings import DedupParams

    add_settings_options(parser, DedupParams)


def _ingest_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", required=True, type=Path, help="raw tweets: JSON Lines, CSV, TSV or Parquet")
    p.add_argument("--output", required=True, type=Path, help="corpus Parquet (id, user_id, created_at, text)")
    p.add_argument("--stats", required=True, type=Path, help="JSON with rows read, kept and skipped by kind")
    from tweetbert.corpus.settings import IngestSettings

    add_settings_options(p, IngestSettings)


@command("ingest", "Read a raw tweet table into the corpus Parquet contract, reporting every bad row.", _ingest_args)
def ingest(args: argparse.Namespace) -> None:
    import logging

    from tweetbert.corpus.ingest import ingest_tweets
    from tweetbert.corpus.settings import IngestSettings

    settings = settings_from_args(args, IngestSettings)
    report = ingest_tweets(args.input, args.output, fmt=settings.format, columns=settings.columns,
                           on_bad_row=settings.on_bad_row, max_chars=settings.max_chars)
    if report.too_long:
        logging.getLogger(__name__).warning(
            "%s: %d text(s) longer than %d characters (raw.max_chars), the first on row %d: kept, counted in %s",
            args.input, report.too_long, settings.max_chars, report.first_too_long_row, args.stats)
    write_json({"input": str(args.input), **report.as_dict()}, args.stats)


def _normalize_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", required=True, type=Path, help="corpus Parquet from ingest")
    p.add_argument("--output", required=True, type=Path, help="normalised corpus Parquet")
    p.add_argument("--stats", required=True, type=Path, help="JSON with counts of replaced URLs and mentions")
    p.add_argument("--workers", type=int, default=1, help="processes normalising batches (default 1)")
    from tweetbert.corpus.settings import NormalizeOptions

    add_settings_options(p, NormalizeOptions)


@command("normalize", "NFKC, [URL]/[USER] placeholders and whitespace clean-up, as the tokenizer expects.",
         _normalize_args)
def normalize(args: argparse.Namespace) -> None:
    from tweetbert.corpus.normalize import normalize_corpus
    from tweetbert.corpus.settings import NormalizeOptions

    options = settings_from_args(args, NormalizeOptions)
    write_json(normalize_corpus(args.input, args.output, options, workers=args.workers), args.stats)


def _signature_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", required=True, type=Path, help="normalised corpus Parquet")
    p.add_argument("--output", required=True, type=Path, help="directory of this shard's signatures")
    p.add_argument("--shards", type=int, default=1, help="number of shards the corpus is cut into")
    p.add_argument("--shard", type=int, default=0, help="which shard (0-based)")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    from tweetbert.corpus.settings import DedupSignatureSettings

    add_settings_options(p, DedupSignatureSettings)


@command("dedup-signatures", "Dedup step 1: MeCab shingles, exact hashes and MinHash signatures of one shard.",
         _signature_args)
def dedup_signatures(args: argparse.Namespace) -> None:
    from tweetbert.corpus.dedup import write_signature_shard
    from tweetbert.corpus.settings import DedupSignatureSettings

    settings = settings_from_args(args, DedupSignatureSettings)
    write_signature_shard(args.corpus, args.output, settings.params, shards=args.shards, shard=args.shard,
                          workers=args.workers)


def _bands_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--signatures", required=True, type=Path, nargs="+", help="every shard's signature directory")
    p.add_argument("--output", required=True, type=Path, help=".npy file of (row, cluster root) links")
    p.add_argument("--groups", type=int, default=1, help="number of band groups")
    p.add_argument("--group", type=int, default=0, help="which band group (0-based)")
    _dedup_options(p)


@command("dedup-bands", "Dedup step 2: LSH bucketing of one group of bands over all shards, reduced to links.",
         _bands_args)
def dedup_bands(args: argparse.Namespace) -> None:
    from tweetbert.corpus.dedup import write_band_links
    from tweetbert.corpus.settings import DedupParams

    write_band_links(args.signatures, args.output, settings_from_args(args, DedupParams), groups=args.groups,
                     group=args.group)


def _dedup_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", required=True, type=Path, help="normalised corpus Parquet")
    p.add_argument("--signatures", required=True, type=Path, nargs="+", help="every shard's signature directory")
    p.add_argument("--links", required=True, type=Path, nargs="+", help="every band group's links")
    p.add_argument("--output", required=True, type=Path, help="corpus with cluster_id and is_duplicate columns")
    p.add_argument("--stats", required=True, type=Path, help="JSON with duplicate counts")
    _dedup_options(p)


@command("dedup", "Dedup step 3: exact + near-duplicate clusters; one representative kept per cluster.", _dedup_args)
def dedup(args: argparse.Namespace) -> None:
    from tweetbert.corpus.dedup import merge_clusters
    from tweetbert.corpus.settings import DedupParams

    stats = merge_clusters(args.corpus, args.signatures, args.links, settings_from_args(args, DedupParams), args.output)
    write_json(stats, args.stats)


def _tune_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", required=True, type=Path, help="template posts that should be flagged (any ingest format)")
    p.add_argument("--control", required=True, type=Path, help="distinct tweets that should not be flagged")
    from tweetbert.corpus.settings import TuneDedupSettings

    add_settings_options(p, TuneDedupSettings)
    p.add_argument("--table", required=True, type=Path, help="TSV of flag rates")
    p.add_argument("--table-html", required=True, type=Path, help="the flag rates as an HTML page for the report")
    p.add_argument("--plot", required=True, type=Path, help="PNG scatter of target vs control flag rates")


@command("tune-dedup", "Flag rates of target (template) and control tweets over n-gram sizes x thresholds.",
         _tune_args)
def tune_dedup(args: argparse.Namespace) -> None:
    from tweetbert.corpus.ingest import read_tweets
    from tweetbert.corpus.normalize import normalize_texts
    from tweetbert.corpus.settings import TuneDedupSettings
    from tweetbert.corpus.tune import flag_rate_grid
    from tweetbert.plots.dedup import plot_flag_rates
    from tweetbert.plots.html_table import write_tsv_page

    settings = settings_from_args(args, TuneDedupSettings)
    target = normalize_texts(read_tweets(args.target, source_key="tune_dedup.target")[0]["text"].tolist())
    control = normalize_texts(read_tweets(args.control, source_key="tune_dedup.control")[0]["text"].tolist())
    grid = flag_rate_grid(target, control, settings.ngram_sizes, settings.thresholds, num_perm=settings.num_perm,
                          seed=settings.seed)
    args.table.parent.mkdir(parents=True, exist_ok=True)
    grid.to_csv(args.table, sep="\t", index=False, float_format="%.6f")
    write_tsv_page(args.table, args.table_html, title="Dedup calibration: flag rates by n-gram size and threshold")
    plot_flag_rates(grid, args.plot, (settings.ngram, settings.threshold))


def _balance_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", required=True, type=Path, help="dedup-annotated corpus (duplicates are dropped)")
    p.add_argument("--output", required=True, type=Path, help="balanced corpus Parquet")
    p.add_argument("--stats", required=True, type=Path)
    from tweetbert.corpus.settings import BalanceSettings

    add_settings_options(p, BalanceSettings)


@command("balance", "At most N tweets per user from the deduplicated corpus (a seeded choice).", _balance_args)
def balance(args: argparse.Namespace) -> None:
    from tweetbert.corpus.balance import balance_corpus
    from tweetbert.corpus.settings import BalanceSettings

    settings = settings_from_args(args, BalanceSettings)
    write_json(balance_corpus(args.input, args.output, settings.max_per_user, settings.seed), args.stats)


def _stats_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.corpus.settings import CorpusStatsSettings
    from tweetbert.corpus.stats import CORPUS_STATS_OUTPUTS

    p.add_argument("--raw", required=True, type=Path, help="ingested raw corpus")
    p.add_argument("--dedup", required=True, type=Path, help="dedup-annotated corpus")
    p.add_argument("--balanced", required=True, type=Path, help="balanced corpus")
    output_options(p, CORPUS_STATS_OUTPUTS)
    p.add_argument("--summary-html", required=True, type=Path, help="the summary as an HTML page for the report")
    add_settings_options(p, CorpusStatsSettings)


@command("corpus-stats", "Duplicates by user activity, user contribution and diversity of raw/dedup/balanced.",
         _stats_args)
def corpus_stats(args: argparse.Namespace) -> None:
    from tweetbert.corpus.settings import CorpusStatsSettings
    from tweetbert.corpus.stats import CORPUS_STATS_OUTPUTS, write_corpus_stats
    from tweetbert.plots.html_table import write_tsv_page

    settings = settings_from_args(args, CorpusStatsSettings)
    write_corpus_stats(args.raw, args.dedup, args.balanced, output_paths(args, CORPUS_STATS_OUTPUTS),
                       seed=settings.seed, sample_size=settings.sample_size, ngram_sizes=settings.ngram_sizes)
    write_tsv_page(args.summary, args.summary_html, title="Corpus refinement in numbers")


def _split_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", required=True, type=Path,
                   help="corpus to split: the dedup-annotated corpus (its non-duplicates are used) or a subset of it")
    p.add_argument("--annotated", required=True, type=Path, help="dedup-annotated corpus (maps ids to signature rows)")
    p.add_argument("--signatures", required=True, type=Path, nargs="+", help="the dedup stage's signature shards")
    p.add_argument("--output", required=True, type=Path, help="corpus Parquet with a split column")
    p.add_argument("--stats", required=True, type=Path, help="JSON with split sizes and leakage counts")
    p.add_argument("--table", required=True, type=Path, help="TSV of split sizes and leakage counts, for the report")
    p.add_argument("--table-html", required=True, type=Path, help="the same table as an HTML page for the report")
    p.add_argument("--corpus-name", default="", help="the corpus's name in the page's title")
    p.add_argument("--exclude-rows", type=Path, default=None,
                   help="contamination's rows.npy: tweets matching a benchmark's texts, dropped before splitting")
    from tweetbert.corpus.settings import DedupParams, SplitSettings

    add_settings_options(p, SplitSettings)
    add_settings_options(p, DedupParams, option="--dedup-settings", flags=False)


@command("split", "Seeded train/validation/dev/test split keeping duplicate groups together; fails on leakage.",
         _split_args)
def split(args: argparse.Namespace) -> None:
    import pandas as pd

    from tweetbert.corpus.contamination import excluded_rows
    from tweetbert.corpus.settings import DedupParams, SplitSettings
    from tweetbert.corpus.split import require_every_split, split_corpus_file
    from tweetbert.errors import CheckFailed
    from tweetbert.plots.html_table import write_tsv_page

    settings = settings_from_args(args, SplitSettings)
    dedup = settings_from_args(args, DedupParams, option="--dedup-settings")

    def check(stats: dict) -> None:
        require_every_split(stats, settings.ratios, args.corpus)
        write_json(stats, args.stats)
        rows = [(name, count, f"{count / max(stats['rows'], 1):.4f}") for name, count in stats["splits"].items()]
        rows += [(key.replace("_", " "), value, "") for key, value in stats["leakage"].items()]
        if "benchmark_tweets_removed" in stats:
            rows.append(("benchmark tweets removed", stats["benchmark_tweets_removed"], ""))
        pd.DataFrame(rows, columns=["split", "tweets", "share"]).to_csv(args.table, sep="\t", index=False)
        named = f" ({args.corpus_name})" if args.corpus_name else ""
        write_tsv_page(args.table, args.table_html, title=f"Split sizes and leakage checks{named}")
        crossing = {key: value for key, value in stats["leakage"].items() if value}
        if crossing:
            raise CheckFailed(f"duplicates cross splits in {args.corpus}: {crossing} (see {args.stats})")

    split_corpus_file(args.corpus, args.annotated, args.signatures, args.output, dedup, settings.ratios, settings.seed,
                      check=check, exclude_rows=excluded_rows(args.exclude_rows))


CONTAMINATION_OUTPUTS = {
    "matches": "TSV per task and split: examples, exact and near matches, matched tweets",
    "matched_examples": "TSV of matched examples with one matching tweet each",
    "rows": ".npy of the matched rows of the normalised corpus (what the split stage drops)",
}


def _contamination_args(p: argparse.ArgumentParser) -> None:
    from tweetbert.corpus.settings import ContaminationSettings, NormalizeOptions
    from tweetbert.settings import json_object

    p.add_argument("--tasks", required=True, type=json_object, metavar="JSON",
                   help="the tasks to check: a JSON object of task name -> its loader options (config tasks.*)")
    p.add_argument("--corpus", required=True, type=Path, help="normalised corpus Parquet (the signatures' rows)")
    p.add_argument("--signatures", required=True, type=Path, nargs="+", help="the dedup stage's signature shards")
    p.add_argument("--workers", type=int, default=1, help="MeCab/MinHash processes for the task texts")
    add_settings_options(p, ContaminationSettings)
    add_settings_options(p, NormalizeOptions, option="--normalize-settings", flags=False)
    _dedup_options_as(p, "--dedup-settings")
    output_options(p, CONTAMINATION_OUTPUTS)
    p.add_argument("--matches-html", required=True, type=Path, help="the matches as an HTML page for the report")
    p.add_argument("--matched-examples-html", required=True, type=Path,
                   help="the matched examples as an HTML page for the report")


def _dedup_options_as(parser: argparse.ArgumentParser, option: str) -> None:
    from tweetbert.corpus.settings import DedupParams

    add_settings_options(parser, DedupParams, option=option, flags=False)


@command("contamination", "Task texts (every split) found in the pre-training corpus: exact and MinHash near matches.",
         _contamination_args)
def contamination(args: argparse.Namespace) -> None:
    import logging

    from tweetbert.corpus.contamination import TaskTexts, write_contamination
    from tweetbert.corpus.settings import ContaminationSettings, DedupParams, NormalizeOptions
    from tweetbert.demo import task_specs  # noqa: F401  (registers the demo's tasks, which its config names)
    from tweetbert.plots.html_table import write_tsv_page
    from tweetbert.tasks.registry import load_task
    from tweetbert.tasks.types import SPLITS

    splits = {}
    for name, options in args.tasks.items():
        data = load_task(name, options)
        splits[name] = {split: data[split] for split in SPLITS}
    texts = TaskTexts.from_examples(splits, settings_from_args(args, NormalizeOptions, option="--normalize-settings"))
    totals = write_contamination(texts, args.corpus, args.signatures,
                                 settings_from_args(args, DedupParams, option="--dedup-settings"),
                                 settings_from_args(args, ContaminationSettings),
                                 output_paths(args, CONTAMINATION_OUTPUTS), workers=args.workers)
    logging.getLogger(__name__).info("contamination: %s", totals)
    write_tsv_page(args.matches, args.matches_html, title="Benchmark texts found in the pre-training corpus")
    write_tsv_page(args.matched_examples, args.matched_examples_html,
                   title="Benchmark texts found in the pre-training corpus: examples")
