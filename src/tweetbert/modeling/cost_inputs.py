"""What a GPU-hour projection needs to know, measured where the workflow has run and estimated (saying so) where not.

Every value comes with its source, a string starting ``measured``, ``configured``, ``given``, ``estimated`` or
``assumed``, so the plan shows which of its numbers are facts of this run and which are guesses. Corpus sizes come
from the token counts of the tokenised corpus, the split's stats or the split corpus itself (streamed), else from
the raw corpus's size times the reference study's retention; tokens per text from the token counts or the length
histogram, else a tweet's typical length; task sizes from a finished sweep's ``best.json``, the task's files, the
published sizes (JGLUE, WRIME), else an assumed size.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tweetbert.corpus.ingest import detect_format
from tweetbert.corpus.io import corpus_batches
from tweetbert.errors import ConfigError, InputError

REFERENCE_RAW_TWEETS = 60_000_000
REFERENCE_RETENTION = {"dedup": 27.5 / 60, "balanced": 15 / 60}
"""Share of the raw tweets each corpus keeps in the reference study: 60M raw -> 27.5M after dedup -> 15M with at
most 100 tweets per user (configs/thesis.yaml, README "Scaling the corpus")."""
DEFAULT_TOKENS_PER_TEXT = 30.0
"""A tweet's typical length in tokens, [CLS] and [SEP] included, where no length histogram has been measured."""
ASSUMED_TASK_EXAMPLES = {"demo": 1_500, "other": 5_000}
"""Examples of a task whose size nothing tells (the demo generates about 1,500 per task)."""
CARVED_SHARES = {"train": 0.65, "validation": 0.05, "dev": 0.15, "test": 0.15}
_JGLUE = {"marc_ja": (187_528, 5_654), "jsts": (12_451, 1_457), "jnli": (20_073, 2_434), "jcola": (6_919, 865),
          "jsquad": (62_697, 4_442), "jcommonsenseqa": (8_939, 1_119)}
"""JGLUE's published (train, valid) sizes (github.com/yahoojapan/JGLUE)."""
PUBLISHED_EXAMPLES: dict[str, tuple[dict[str, int], str]] = {
    **{task: ({"train": round(train * 65 / 85), "validation": round(train * 5 / 85), "dev": round(train * 15 / 85),
               "test": valid}, "published JGLUE sizes (valid plays test; validation and dev carved from train)")
       for task, (train, valid) in _JGLUE.items()},
    **{task: ({"train": round(30_000 * 65 / 70), "validation": round(30_000 * 5 / 70), "dev": 2_500, "test": 2_500},
              "published WRIME ver2 sizes (validation carved from train)")
       for task in ("wrime_emotion", "wrime_sentiment")},
}
"""Split sizes the workflow gives a task's published files where they are not at hand yet."""
TASK_SEQUENCES = {"marc_ja": (1, 100), "jsts": (1, 40), "jnli": (1, 40), "jcola": (1, 20), "jsquad": (1, math.inf),
                  "jcommonsenseqa": (5, 22)}
"""Assumed (sequences per example, tokens per sequence) of the tasks that are not tweets: reviews, caption pairs,
short sentences, a context that fills the window, five question+choice sequences. Tweet tasks: as the corpus."""


@dataclass(frozen=True)
class Throughput:
    tokens_per_second: float
    source: str
    batch_size: int | None = None
    checkpoint_seconds: float | None = None


@dataclass(frozen=True)
class CorpusSize:
    corpus: str
    train_texts: int
    validation_texts: int
    texts_source: str
    tokens_per_text: float
    tokens_source: str


@dataclass(frozen=True)
class TaskSize:
    task: str
    examples: Mapping[str, int]  # train, validation, dev, test
    source: str
    tokens_per_example: float
    tokens_source: str


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(path, f"not valid JSON ({error.msg})", row=error.lineno) from None


def _cell_speed(record: dict, batch_size: int | None, compiled: bool) -> tuple[float, str] | None:
    """The steady tokens/s of gpu_check's cell at the config's batch and compile setting, if it ran one."""
    for cell in record.get("cells", []) if batch_size is not None else []:
        steady = cell.get("steady") or {}
        if cell.get("batch_size") == batch_size and bool(cell.get("compile")) == compiled and \
                steady.get("tokens_per_second"):
            return float(steady["tokens_per_second"]), f"cell {cell.get('name')}"
    return None


def throughput(tokens_per_second: float | None, gpu_check: Path | None, batch_size: int | None = None,
               compiled: bool = False) -> Throughput:
    """One GPU's training tokens/s: given, or from ``benchmarks/gpu_check.py``'s JSON: its cell at the config's
    batch size and compile setting when it ran one (a small batch can be launch-bound), else its calibrated
    batch's figure; with the calibrated batch and, when it records one, the seconds a checkpoint stalls."""
    if tokens_per_second is not None:
        if not tokens_per_second > 0:
            raise ConfigError("--tokens-per-second", f"must be positive, got {tokens_per_second}")
        return Throughput(float(tokens_per_second), "given (--tokens-per-second)")
    if gpu_check is None:
        raise ConfigError("--tokens-per-second / --gpu-check", "no throughput to project with: give one GPU's "
                          "training tokens/s (--tokens-per-second N) or the JSON benchmarks/gpu_check.py wrote "
                          "(--gpu-check gpu_check.json)")
    record = read_json(gpu_check)
    speed = record.get("tokens_per_second") if isinstance(record, dict) else None
    if not isinstance(speed, (int, float)) or not speed > 0:
        raise InputError(gpu_check, f"needs a positive number, got {speed!r}", column="tokens_per_second")
    cell = _cell_speed(record, batch_size, compiled)
    where = cell[1] if cell else f"calibrated batch {record.get('batch_size')}"
    return Throughput(cell[0] if cell else float(speed),
                      f"measured: {gpu_check} ({record.get('device', 'device not named')}, {where})",
                      record.get("batch_size"), record.get("checkpoint_seconds"))


def _holds_data(path: Path) -> bool:
    """A non-empty file, or a folder holding one: an empty placeholder (as a dry run needs) is not data yet."""
    if path.is_dir():
        return any(_holds_data(child) for child in path.iterdir())
    return path.is_file() and path.stat().st_size > 0


def _line_count(path: Path) -> int:
    lines = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 24):
            lines += chunk.count(b"\n")
    return lines


def raw_tweets(config: Mapping[str, Any], results: Path, given: int | None = None) -> tuple[int, str]:
    """Tweets of the raw corpus: ingest's count, the demo's setting, the file's rows or lines, or the study's 60M."""
    ingest = results / "corpus" / "ingest.json"
    raw = config["raw"]
    if given is not None:
        return given, "given (--raw-tweets)"
    if ingest.is_file():
        return int(read_json(ingest)["rows_kept"]), f"measured: {ingest}"
    if raw["path"] == "demo":
        return int(config["demo"]["n_tweets"]), "configured (demo.n_tweets)"
    path = Path(raw["path"])
    if not _holds_data(path):
        return REFERENCE_RAW_TWEETS, (f"assumed: raw.path {path} missing or empty, the reference study's 60M raw "
                                      "tweets")
    fmt = detect_format(path, raw["format"])
    if fmt == "parquet":
        try:
            return pq.ParquetFile(path).metadata.num_rows, f"measured: {path} (Parquet metadata)"
        except (pa.ArrowException, OSError) as error:
            raise InputError(path, f"not a readable Parquet file ({error})") from None
    header = 0 if fmt == "jsonl" else 1
    return max(_line_count(path) - header, 0), f"measured: {path} (line count)"


def _split_counts(path: Path) -> dict[str, int]:
    """Rows per split of a split corpus, reading only its split column a batch at a time."""
    counts: dict[str, int] = {}
    for batch in corpus_batches(path, ["split"]):
        for item in pc.value_counts(batch.column(0)).to_pylist():
            counts[item["values"]] = counts.get(item["values"], 0) + item["counts"]
    return counts


def _max_length(config: Mapping[str, Any], results: Path, corpus: str) -> int | None:
    fixed = config["pretrain"]["fixed"]["max_seq_length"]
    if fixed != "histogram":
        return int(fixed)
    choice = results / "tokenizer" / corpus / "max_seq_length.json"
    return int(read_json(choice)["max_seq_length"]) if choice.is_file() else None


def _histogram_mean(path: Path, cap: int | None) -> float:
    """Mean tokens per tweet of a length histogram (``length``, ``tweets``), cut at the sequence length trained."""
    import pandas as pd

    table = pd.read_csv(path, sep="\t")
    lengths = table["length"].clip(upper=cap) if cap else table["length"]
    return float((lengths * table["tweets"]).sum() / table["tweets"].sum())


def corpus_size(config: Mapping[str, Any], results: Path, corpus: str, raw: tuple[int, str]) -> CorpusSize:
    """Train and validation texts of a corpus and its tokens per text, each measured where the stage has run."""
    tokens = results / "pretrain" / "tokens" / corpus / "tokens.json"
    stats = results / "corpus" / corpus / "split.json"
    split = results / "corpus" / corpus / "split.parquet"
    ratios = config["split"]["ratios"]
    if tokens.is_file():
        splits = read_json(tokens)["splits"]
        train, validation = splits["train"], splits["validation"]
        return CorpusSize(corpus, int(train["texts"]), int(validation["texts"]), f"measured: {tokens}",
                          train["tokens"] / train["texts"], f"measured: {tokens}")
    if stats.is_file():
        counts, texts_source = read_json(stats)["splits"], f"measured: {stats}"
    elif split.is_file():
        counts, texts_source = _split_counts(split), f"measured: {split}"
    else:
        kept = raw[0] * REFERENCE_RETENTION[corpus]
        counts = {name: round(kept * ratios[name]) for name in ("train", "validation")}
        texts_source = (f"estimated: {raw[0]:,} raw tweets ({raw[1]}) x {REFERENCE_RETENTION[corpus]:.1%} kept "
                        f"(the reference study's {corpus} corpus) x split.ratios")
    lengths = results / "tokenizer" / corpus / "lengths.tsv"
    if lengths.is_file():
        cap = _max_length(config, results, corpus)
        per_text = _histogram_mean(lengths, cap)
        tokens_source = f"measured: {lengths}" + (f", cut at {cap} tokens" if cap else "")
    else:
        per_text, tokens_source = DEFAULT_TOKENS_PER_TEXT, "assumed: a tweet's typical length, [CLS]/[SEP] included"
    return CorpusSize(corpus, int(counts.get("train", 0)), int(counts.get("validation", 0)), texts_source,
                      per_text, tokens_source)


def pretrain_batch_size(config: Mapping[str, Any], results: Path, corpus: str, speed: Throughput,
                        given: int | None = None) -> tuple[int, str]:
    """Sequences per optimizer step: configured, or for ``auto`` given, calibrated here, or gpu_check's."""
    configured = config["pretrain"]["fixed"]["batch_size"]
    if configured != "auto":
        return int(configured), "configured (pretrain.fixed.batch_size)"
    if given is not None:
        return given, "given (--batch-size)"
    calibration = results / "pretrain" / "calibration" / f"{corpus}.json"
    calibrated = read_json(calibration).get("batch_size") if calibration.is_file() else None
    if calibrated:  # null on a machine without a GPU
        return int(calibrated), f"measured: {calibration}"
    if speed.batch_size:
        return int(speed.batch_size), f"gpu_check's calibrated batch ({speed.source})"
    raise ConfigError("pretrain.fixed.batch_size", "is auto and no calibration has run: give --batch-size N, or a "
                                                   "--gpu-check JSON holding its calibrated batch_size")


def _task_files(path: str | Mapping[str, str], hydrated: str | None) -> list[Path]:
    files = list(path.values()) if isinstance(path, Mapping) else [path]
    return [Path(file) for file in files + ([hydrated] if hydrated else [])]


def _task_examples(config: Mapping[str, Any], results: Path, task: str) -> tuple[dict[str, int], str]:
    for best in sorted(results.glob(f"finetune/*/{task}/best.json")):
        splits = read_json(best).get("splits")
        if splits:
            return {role: int(split["examples"]) for role, split in splits.items()}, f"measured: {best}"
    options = config["tasks"][task]
    path = options.get("path")  # None for a task read from the Hub (`hub`): its size is known once a sweep ran
    if path not in (None, "demo") and all(map(_holds_data, _task_files(path, options.get("hydrated")))):
        from tweetbert.tasks.registry import load_task

        data = load_task(task, options)
        return {role: len(examples) for role, examples in data.splits.items()}, f"measured: {path}"
    if path != "demo" and task in PUBLISHED_EXAMPLES:
        return PUBLISHED_EXAMPLES[task]
    total = ASSUMED_TASK_EXAMPLES["demo" if path == "demo" else "other"]
    examples = {role: round(total * share) for role, share in CARVED_SHARES.items()}
    return examples, f"assumed: {total:,} examples split 65/5/15/15 (no file or sweep yet)"


def task_size(config: Mapping[str, Any], results: Path, task: str, tweet_tokens: float) -> TaskSize:
    """A task's split sizes and tokens per example (capped at ``sweep.max_length`` per sequence)."""
    examples, source = _task_examples(config, results, task)
    cap = config["sweep"]["max_length"]
    if task in TASK_SEQUENCES:
        sequences, length = TASK_SEQUENCES[task]
        tokens_source = f"assumed: {sequences} x {min(length, cap):g} tokens"
    else:
        sequences, length = 1, tweet_tokens
        tokens_source = "as the corpus's tweets"
    examples = {role: examples.get(role, 0) for role in CARVED_SHARES}
    return TaskSize(task, examples, source, sequences * min(length, cap), tokens_source)
