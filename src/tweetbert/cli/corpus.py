"""Corpus stages: ingest, normalize, dedup (signatures, bands, merge), tune-dedup, balance, corpus-stats, split."""

from __future__ import annotations

import argparse
from pathlib import Path

from tweetbert.cli import command, key_value, write_json


def _signature_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """What a MinHash signature depends on; the signature step takes nothing else, so changing the LSH settings
    never recomputes signatures."""
    group = parser.add_argument_group("near-duplicate settings (config: dedup.*)")
    group.add_argument("--ngram", type=int, default=5, help="word n-gram size of the shingles (default 5)")
    group.add_argument("--num-perm", type=int, default=128, help="budget of MinHash functions (default 128)")
    group.add_argument("--seed", type=int, default=0, help="seed of the MinHash functions")
    return group


def _dedup_options(parser: argparse.ArgumentParser) -> None:
    group = _signature_options(parser)
    group.add_argument("--threshold", type=float, default=0.2, help="Jaccard threshold (default 0.2)")
    group.add_argument("--bands", type=int, default=None, help="LSH bands (default: derived from the threshold)")
    group.add_argument("--rows", type=int, default=None, help="rows per LSH band (default: derived)")
    group.add_argument("--verify", action=argparse.BooleanOptionalAction, default=True,
                       help="keep candidate pairs only when their estimated Jaccard reaches the threshold")


def _dedup_params(args: argparse.Namespace):
    from tweetbert.corpus.dedup import DedupParams

    return DedupParams(ngram=args.ngram, threshold=args.threshold, num_perm=args.num_perm, bands=args.bands,
                       rows=args.rows, verify=args.verify, seed=args.seed)


def _signature_params(args: argparse.Namespace):
    from tweetbert.corpus.dedup import DedupParams

    return DedupParams(ngram=args.ngram, num_perm=args.num_perm, seed=args.seed)


def _ingest_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", required=True, type=Path, help="raw tweets: JSON Lines, CSV, TSV or Parquet")
    p.add_argument("--output", required=True, type=Path, help="corpus Parquet (id, user_id, created_at, text)")
    p.add_argument("--stats", required=True, type=Path, help="JSON with rows read, kept and skipped by kind")
    p.add_argument("--format", default="auto", choices=["auto", "jsonl", "csv", "tsv", "parquet"])
    p.add_argument("--column", action="append", default=[], type=key_value, metavar="FIELD=NAME",
                   help="name of a field's column in the file, e.g. --column text=body (repeatable)")
    p.add_argument("--on-bad-row", default="error", choices=["error", "skip"],
                   help="stop at the first bad row (default) or skip and count bad rows")
    p.add_argument("--max-chars", type=int, default=25_000,
                   help="count texts longer than this in the stats as too_long (config raw.max_chars)")


@command("ingest", "Read a raw tweet table into the corpus Parquet contract, reporting every bad row.", _ingest_args)
def ingest(args: argparse.Namespace) -> None:
    import logging

    from tweetbert.corpus.io import read_tweets, write_corpus

    frame, report = read_tweets(args.input, fmt=args.format, columns=dict(args.column), on_bad_row=args.on_bad_row,
                                max_chars=args.max_chars)
    if report.too_long:
        logging.getLogger(__name__).warning(
            "%s: %d text(s) longer than %d characters (raw.max_chars), the first on row %d: kept, counted in %s",
            args.input, report.too_long, args.max_chars, report.first_too_long_row, args.stats)
    write_corpus(frame, args.output)
    write_json({"input": str(args.input), **report.as_dict()}, args.stats)


def _normalize_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", required=True, type=Path, help="corpus Parquet from ingest")
    p.add_argument("--output", required=True, type=Path, help="normalised corpus Parquet")
    p.add_argument("--stats", required=True, type=Path, help="JSON with counts of replaced URLs and mentions")
    for flag, help_text in (("nfkc", "Unicode NFKC"), ("replace-urls", "URLs -> [URL]"),
                            ("replace-mentions", "@mentions -> [USER]"), ("keep-newlines", "keep line breaks")):
        p.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, default=True, help=help_text)


@command("normalize", "NFKC, [URL]/[USER] placeholders and whitespace clean-up, as the tokenizer expects.",
         _normalize_args)
def normalize(args: argparse.Namespace) -> None:
    from tweetbert.corpus.io import read_corpus, write_corpus
    from tweetbert.corpus.normalize import NormalizeOptions, normalize_texts
    from tweetbert.errors import InputError

    options = NormalizeOptions(nfkc=args.nfkc, replace_urls=args.replace_urls,
                               replace_mentions=args.replace_mentions, keep_newlines=args.keep_newlines)
    frame = read_corpus(args.input, ["id", "user_id", "created_at", "text"])
    if frame.empty:
        raise InputError(args.input, "holds no tweets: nothing to normalise (did ingest keep none? see raw.path)")
    frame["text"] = normalize_texts(frame["text"].tolist(), options)
    empty = frame.index[frame["text"].str.len() == 0]
    if len(empty):
        raise InputError(args.input, "text is empty after normalisation", row=int(empty[0]) + 1, column="text")
    write_corpus(frame, args.output)
    text = frame["text"]
    write_json({"rows": int(len(frame)), "options": vars(options),
                "tweets_with_url": int(text.str.contains("[URL]", regex=False).sum()),
                "tweets_with_mention": int(text.str.contains("[USER]", regex=False).sum()),
                "tweets_with_newline": int(text.str.contains("\n", regex=False).sum())}, args.stats)


def _signature_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", required=True, type=Path, help="normalised corpus Parquet")
    p.add_argument("--output", required=True, type=Path, help="directory of this shard's signatures")
    p.add_argument("--shards", type=int, default=1, help="number of shards the corpus is cut into")
    p.add_argument("--shard", type=int, default=0, help="which shard (0-based)")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    _signature_options(p)


@command("dedup-signatures", "Dedup step 1: MeCab shingles, exact hashes and MinHash signatures of one shard.",
         _signature_args)
def dedup_signatures(args: argparse.Namespace) -> None:
    from tweetbert.corpus.dedup import write_signature_shard

    write_signature_shard(args.corpus, args.output, _signature_params(args), shards=args.shards, shard=args.shard,
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

    write_band_links(args.signatures, args.output, _dedup_params(args), groups=args.groups, group=args.group)


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
    from tweetbert.corpus.io import write_corpus

    frame, stats = merge_clusters(args.corpus, args.signatures, args.links, _dedup_params(args))
    write_corpus(frame, args.output)
    write_json(stats, args.stats)


def _tune_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", required=True, type=Path, help="template posts that should be flagged (any ingest format)")
    p.add_argument("--control", required=True, type=Path, help="distinct tweets that should not be flagged")
    p.add_argument("--ngram-sizes", type=int, nargs="+", default=[2, 3, 4, 5, 6])
    p.add_argument("--thresholds", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.5, 0.7])
    p.add_argument("--num-perm", type=int, default=128)
    p.add_argument("--chosen-ngram", type=int, default=None, help="the configured n-gram size, marked in the plot")
    p.add_argument("--chosen-threshold", type=float, default=None, help="the configured threshold, marked in the plot")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--table", required=True, type=Path, help="TSV of flag rates")
    p.add_argument("--plot", required=True, type=Path, help="PNG scatter of target vs control flag rates")


@command("tune-dedup", "Flag rates of target (template) and control tweets over n-gram sizes x thresholds.",
         _tune_args)
def tune_dedup(args: argparse.Namespace) -> None:
    from tweetbert.corpus.io import read_tweets
    from tweetbert.corpus.normalize import normalize_texts
    from tweetbert.corpus.tune import flag_rate_grid
    from tweetbert.plots.dedup import plot_flag_rates

    target = normalize_texts(read_tweets(args.target, source_key="tune_dedup.target")[0]["text"].tolist())
    control = normalize_texts(read_tweets(args.control, source_key="tune_dedup.control")[0]["text"].tolist())
    grid = flag_rate_grid(target, control, args.ngram_sizes, args.thresholds, num_perm=args.num_perm, seed=args.seed)
    args.table.parent.mkdir(parents=True, exist_ok=True)
    grid.to_csv(args.table, sep="\t", index=False, float_format="%.6f")
    chosen = (args.chosen_ngram, args.chosen_threshold) if args.chosen_ngram and args.chosen_threshold else None
    plot_flag_rates(grid, args.plot, chosen)


def _balance_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", required=True, type=Path, help="dedup-annotated corpus (duplicates are dropped)")
    p.add_argument("--output", required=True, type=Path, help="balanced corpus Parquet")
    p.add_argument("--stats", required=True, type=Path)
    p.add_argument("--max-per-user", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)


@command("balance", "At most N tweets per user from the deduplicated corpus (a seeded choice).", _balance_args)
def balance(args: argparse.Namespace) -> None:
    from tweetbert.corpus.balance import balance_users
    from tweetbert.corpus.io import read_corpus, write_corpus

    annotated = read_corpus(args.input, ["id", "user_id", "created_at", "text", "cluster_id", "is_duplicate"])
    kept = annotated[~annotated["is_duplicate"]].reset_index(drop=True)
    balanced = balance_users(kept, args.max_per_user, args.seed)
    write_corpus(balanced, args.output)
    write_json({"max_per_user": args.max_per_user, "input_rows": int(len(kept)), "kept": int(len(balanced)),
                "users": int(kept["user_id"].nunique()),
                "users_capped": int((kept["user_id"].value_counts() > args.max_per_user).sum())}, args.stats)


def _stats_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--raw", required=True, type=Path, help="ingested raw corpus")
    p.add_argument("--dedup", required=True, type=Path, help="dedup-annotated corpus")
    p.add_argument("--balanced", required=True, type=Path, help="balanced corpus")
    p.add_argument("--out-dir", required=True, type=Path)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sample-size", type=int, default=None)
    p.add_argument("--ngram-sizes", type=int, nargs="+", default=[1, 2, 3])


@command("corpus-stats", "Duplicates by user activity, user contribution and diversity of raw/dedup/balanced.",
         _stats_args)
def corpus_stats(args: argparse.Namespace) -> None:
    from tweetbert.corpus.stats import write_corpus_stats

    write_corpus_stats(args.raw, args.dedup, args.balanced, args.out_dir, seed=args.seed,
                       sample_size=args.sample_size, ngram_sizes=args.ngram_sizes)


def _split_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", required=True, type=Path,
                   help="corpus to split: the dedup-annotated corpus (its non-duplicates are used) or a subset of it")
    p.add_argument("--annotated", required=True, type=Path, help="dedup-annotated corpus (maps ids to signature rows)")
    p.add_argument("--signatures", required=True, type=Path, nargs="+", help="the dedup stage's signature shards")
    p.add_argument("--output", required=True, type=Path, help="corpus Parquet with a split column")
    p.add_argument("--stats", required=True, type=Path, help="JSON with split sizes and leakage counts")
    p.add_argument("--table", required=True, type=Path, help="TSV of split sizes and leakage counts, for the report")
    p.add_argument("--ratio", action="append", default=[], type=key_value, metavar="SPLIT=SHARE",
                   help="share of a split, e.g. --ratio train=0.75 (repeatable; default 75/5/10/10)")
    _dedup_options(p)


@command("split", "Seeded train/validation/dev/test split keeping duplicate groups together; fails on leakage.",
         _split_args)
def split(args: argparse.Namespace) -> None:
    import pandas as pd

    from tweetbert.corpus.dedup import load_shards
    from tweetbert.corpus.io import read_corpus, write_corpus
    from tweetbert.corpus.split import DEFAULT_RATIOS, DuplicateIndex, require_every_split, split_corpus
    from tweetbert.errors import CheckFailed, InputError

    ratios = {name: float(share) for name, share in args.ratio}
    frame = read_corpus(args.corpus, ["id", "user_id", "created_at", "text", "cluster_id", "is_duplicate"])
    frame = frame[~frame["is_duplicate"]].reset_index(drop=True)
    annotated_ids = read_corpus(args.annotated, ["id"])["id"]
    row_of_id = pd.Series(range(len(annotated_ids)), index=annotated_ids.to_numpy())
    rows = row_of_id.reindex(frame["id"].to_numpy())
    if rows.isna().any():
        position = int(rows.isna().to_numpy().argmax())
        raise InputError(args.corpus, f"id {frame['id'].iloc[position]!r} is not in {args.annotated}",
                         row=position + 1, column="id")
    index = DuplicateIndex.from_shards(load_shards(args.signatures), rows.to_numpy(dtype="int64"))
    out, stats = split_corpus(frame, index, _dedup_params(args), ratios or DEFAULT_RATIOS, args.seed)
    require_every_split(stats, ratios or DEFAULT_RATIOS, args.corpus)
    write_json(stats, args.stats)
    rows = [(name, count, f"{count / max(stats['rows'], 1):.4f}") for name, count in stats["splits"].items()]
    rows += [(key.replace("_", " "), value, "") for key, value in stats["leakage"].items()]
    pd.DataFrame(rows, columns=["split", "tweets", "share"]).to_csv(args.table, sep="\t", index=False)
    crossing = {key: value for key, value in stats["leakage"].items() if value}
    if crossing:
        raise CheckFailed(f"duplicates cross splits in {args.corpus}: {crossing} (see {args.stats})")
    write_corpus(out, args.output)
