"""The Python half of ``benchmarks/gpu_check.sh``: a BERT-base-sized model from scratch, then a small matrix of
pre-training runs on one GPU, through the workflow's own path.

``prepare`` generates tweets (``generate_tweets`` -> ``normalize_texts`` -> exact duplicates and empty texts
dropped -> shuffled), trains a WordPiece vocabulary on them with ``tweetbert.tokenization.train`` (MeCab words, the
characters covering 99.9 % of occurrences plus the jōyō kanji, as the demo base model does) and saves a model
directory: that tokenizer and a randomly initialised ``BertForMaskedLM`` built from a ``BertConfig``. The embedding
matrix has ``--vocab-size`` rows (32768, as the Tohoku Japanese BERT) or the tokenizer's size if larger: generated
tweets hold fewer distinct words than that, and the extra rows keep the model at BERT-base size.

``train`` runs ``tweetbert.modeling.pretrain.pretrain`` in cells {the study's batch (55), the batch ``tweetbert
calibrate-batch-size`` found} x {compile off, on}, in that order (the compile-off cells first: they are cheap and
hold the headline figures; the JSON is rewritten after every cell, so a run cut short keeps what it measured).
Each cell is what ``tweetbert pretrain-candidate`` does: token data written once by ``tokenize_corpus`` and
memory-mapped, a seeded validation sample, checkpoints copied off the device and written in the background, bf16
autocast on a GPU that supports it. Its settings are the study's (``configs/thesis.yaml`` ``pretrain.fixed``:
learning rate, weight decay, masking) at its proportions, scaled down to a short run:

* validation every third of the run (``eval_every``) on ``eval_examples`` texts in the study's ratio of texts
  scored to texts trained (20000 per 5000 steps of 55);
* checkpoints by the clock (``save_every_minutes``, default 0.5 on a GPU), plus one just past mid-run by step
  count (``save_every``), so a cell faster than the clock still measures a save;
* ``pretrain()`` runs whole epochs, so a cell's length is set by its train split: one corpus (and token directory)
  per batch size, of ``steps x batch`` texts (all of them, for several epochs, when there are fewer), shared by its
  compile-off and compile-on cells.

Reported per cell (``cells`` in the JSON; the human summary prints a table):

* ``tokens_per_second``: non-pad tokens over ``pretrain()``'s training phase (``train_seconds``: the device is
  synchronised at every change of phase, so queued GPU work is counted; validation and checkpoint stalls are not in
  it). A compiled cell's training phase also holds its compiling (one graph per padded batch width), so:
* ``steady``: tokens/s and steps/s over the training segments between validations and saves (each segment's ends
  are synchronised by those phase changes, so no extra synchronisation is added), leaving out the first segment
  (warm-up: allocator, cuBLAS, the first compile) and any segment in which torch.compile (re)compiled.
  ``warmup.extra_seconds`` is what the left-out segments took beyond the steady rate: about the compile time.
  This replaces the former epoch timer around ``run_epoch``: the phases are synchronised now, and the segments can
  leave compiling out, which a whole-epoch time cannot;
* ``mfu``: model FLOPs utilisation of the steady rate, 6 x parameters x tokens/s / peak bf16 FLOP/s. The peak
  comes from ``GPU_PEAK_FLOPS`` (``--peak-flops``), default 989e12 = the dense bf16 peak of an H100/H200 SXM.
  ``mfu`` counts every parameter (the usual 6N rule), ``mfu_non_embedding`` leaves out the embedding matrices,
  which cost no matmul FLOPs; the tied vocabulary projection runs at the ~15 % masked positions only, so the first
  overstates the work and the second slightly understates it (attention's own FLOPs, small at tweet lengths, are
  in neither). The 35 % target is judged on ``mfu_non_embedding``;
* ``time_shares`` from ``metrics.json`` (loading, training, validation, checkpointing, other), measured. A short
  run exaggerates the shares of fixed costs (the evaluation at step 0, the first evaluation's compiling, the wait
  for the last checkpoint's write at the end), so ``validation.projected_share`` and
  ``checkpoints.projected_share`` give the shares at the study's proportions: a steady evaluation (not the first,
  none that compiled) against ``eval_every`` steady training steps (an upper bound: a short run's evaluation
  scores a few batches, so its fixed cost per evaluation weighs more than in the study's), and a save's stall
  against the study's ``save_every_minutes`` of training. Targets: validation <= 5 %, checkpointing <= 1 %;
* ``mean_padded_width`` (against the truncation length), ``tokens_per_step``, ``pad_share``: what bounds a small
  batch. ``bound_at_study_batch`` compares the study batch's step time with the time its tokens need at the
  calibrated batch's steady rate: a large ratio, and a faster step with compile on, mean a step is bound by
  per-step overhead (kernel launches, the optimizer), not by its FLOPs;
* ``peak_memory_gib``: ``torch.cuda.max_memory_allocated()`` over the cell (training and validation).

The top-level ``tokens_per_second``, ``batch_size`` and ``checkpoint_seconds`` (one save's stall) are the
calibrated batch's compile-off cell, as ``configs/thesis.yaml`` runs (``compile: false``): what ``tweetbert
plan --gpu-check`` reads.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import logging
import math
import os
import platform
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from machine_load import load_report

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
STUDY_CONFIG = ROOT / "configs" / "thesis.yaml"
DEFAULT_PEAK_FLOPS = 989e12  # H100 / H200 SXM, dense bf16 (989.4 TFLOP/s without sparsity)
WARMUP_FRACTION = 0.1  # of a cell's steps: the study's 10000 warm-up steps exceed a short run
EVALUATIONS_PER_RUN = 3  # eval_every = a third of the run (plus the one at step 0)
TARGETS = {"mfu_non_embedding": 0.35, "validation_share": 0.05, "checkpoint_share": 0.01}


def _log(message: str) -> None:
    print(f"[gpu_check.py {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- prepare ---------------------------------------------------------------------------------------------------


def prepare(args: argparse.Namespace) -> dict:
    import numpy as np
    import pandas as pd
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    from tweetbert.corpus.normalize import normalize_texts
    from tweetbert.demo import generate_tweets
    from tweetbert.demo.base_model import coverage_alphabet
    from tweetbert.tokenization.train import count_words, joyo_kanji, save_japanese_tokenizer, train_wordpiece

    started = time.perf_counter()
    workdir, model_dir = args.workdir, args.workdir / "model"
    tweets, _ = generate_tweets(args.tweets, args.seed)
    texts = list(dict.fromkeys(text for text in normalize_texts(tweets["text"].tolist()) if text))
    texts = [texts[i] for i in np.random.default_rng(args.seed).permutation(len(texts))]
    pd.DataFrame({"text": texts}).to_parquet(workdir / "texts.parquet", index=False)
    _log(f"{len(texts)} distinct tweets of {args.tweets} generated ({time.perf_counter() - started:.1f} s)")

    counts = count_words(texts, n_texts=len(texts))
    vocab = train_wordpiece(counts, args.vocab_size, sorted(coverage_alphabet(counts) | joyo_kanji()))
    save_japanese_tokenizer(vocab, model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    vocab_size = max(len(tokenizer), args.vocab_size)
    _log(f"WordPiece vocabulary of {len(tokenizer)} tokens; embedding matrix of {vocab_size} rows "
         f"({time.perf_counter() - started:.1f} s)")

    torch.manual_seed(args.seed)
    config = BertConfig(vocab_size=vocab_size, hidden_size=args.hidden_size, num_hidden_layers=args.layers,
                        num_attention_heads=args.heads, intermediate_size=args.intermediate_size,
                        max_position_embeddings=max(512, args.max_length), pad_token_id=tokenizer.pad_token_id)
    model = BertForMaskedLM(config)
    model.save_pretrained(model_dir)
    info = {"tweets_generated": args.tweets, "distinct_texts": len(texts), "tokenizer_vocab": len(tokenizer),
            "vocab_size": vocab_size, "hidden_size": args.hidden_size, "layers": args.layers, "heads": args.heads,
            "intermediate_size": args.intermediate_size, **parameter_counts(model),
            "prepare_seconds": round(time.perf_counter() - started, 1)}
    (workdir / "prepare.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    _log(f"model saved: {info['parameters']:,} parameters ({info['prepare_seconds']} s)")
    return info


def parameter_counts(model) -> dict:
    """All parameters (a tied matrix once) and those outside the embedding matrices (no matmul FLOPs there)."""
    parameters = sum(p.numel() for p in model.parameters())
    embeddings = sum(p.numel() for p in model.bert.embeddings.parameters() if p.dim() == 2)
    return {"parameters": parameters, "non_embedding_parameters": parameters - embeddings}


# --- the study's proportions and the cells ---------------------------------------------------------------------


@dataclass(frozen=True)
class Study:
    """What the check takes from the study's configuration (``pretrain.fixed``)."""

    batch_size: int
    eval_every: int
    eval_examples: int
    save_every_minutes: float
    learning_rate: float
    weight_decay: float
    mlm_probability: float
    whole_word_mask: bool
    source: str

    @property
    def scored_per_trained(self) -> float:
        """Validation texts scored per text trained on: the ratio a short run keeps."""
        return self.eval_examples / (self.eval_every * self.batch_size)


def read_study(path: Path) -> Study:
    import yaml

    fixed = yaml.safe_load(path.read_text(encoding="utf-8"))["pretrain"]["fixed"]
    numbers = {"batch_size": int, "eval_every": int, "eval_examples": int, "save_every_minutes": float}
    for key in numbers:
        if isinstance(fixed.get(key), bool) or not isinstance(fixed.get(key), int | float):
            raise SystemExit(f"{path}: pretrain.fixed.{key} is {fixed.get(key)!r}; the check scales the study's "
                             "proportions and needs a number there")
    return Study(**{key: cast(fixed[key]) for key, cast in numbers.items()},
                 learning_rate=float(fixed["learning_rate"]), weight_decay=float(fixed["weight_decay"]),
                 mlm_probability=float(fixed["mlm_probability"]), whole_word_mask=bool(fixed["whole_word_mask"]),
                 source=f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} pretrain.fixed")


@dataclass(frozen=True)
class Plan:
    """One batch size's corpus and schedule: ``epochs x steps_per_epoch`` steps over ``train_texts`` texts."""

    batch_size: int
    source: str  # whose batch: the study's, the calibrated (or CPU fallback) one, or both
    steps_per_epoch: int
    epochs: int
    eval_every: int
    eval_examples: int

    @property
    def steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    @property
    def train_texts(self) -> int:
        return self.steps_per_epoch * self.batch_size


def eval_schedule(batch_size: int, steps: int, study: Study) -> tuple[int, int]:
    """``eval_every`` (a third of the run) and ``eval_examples`` (the study's ratio of texts scored to trained)."""
    eval_every = max(1, steps // EVALUATIONS_PER_RUN)
    return eval_every, max(1, round(study.scored_per_trained * eval_every * batch_size))


def plan(batch_size: int, source: str, steps: int, available: int, study: Study) -> Plan:
    """At least ``steps`` steps of ``batch_size`` from ``available`` texts: one epoch when they suffice, else the
    fewest epochs, each a whole number of full batches (no ragged last batch: one compiled shape less)."""
    if available < batch_size:
        raise SystemExit(f"only {available} training texts for a batch of {batch_size}: raise GPU_CHECK_TWEETS")
    epochs = math.ceil(steps * batch_size / available)
    while math.ceil(steps / epochs) * batch_size > available:
        epochs += 1
    return Plan(batch_size, source, math.ceil(steps / epochs), epochs, *eval_schedule(batch_size, steps, study))


@dataclass(frozen=True)
class Cell:
    plan: Plan
    compile: bool

    @property
    def name(self) -> str:
        return f"batch{self.plan.batch_size}-compile-{'on' if self.compile else 'off'}"


def settings_of(cell: Cell, study: Study, args: argparse.Namespace):
    from tweetbert.modeling.pretrain import PretrainSettings

    p = cell.plan
    return PretrainSettings(learning_rate=study.learning_rate, weight_decay=study.weight_decay, epochs=p.epochs,
                            batch_size=p.batch_size, max_seq_length=args.max_length, warmup_steps=WARMUP_FRACTION,
                            mlm_probability=study.mlm_probability, whole_word_mask=study.whole_word_mask,
                            seed=args.seed, eval_every=p.eval_every, eval_examples=p.eval_examples,
                            eval_batch_size=None, save_every=p.steps // 2 + 1,
                            save_every_minutes=args.save_every_minutes, compile=cell.compile)


def write_corpus(workdir: Path, texts: list[str], p: Plan, n_validation: int, args: argparse.Namespace) -> dict:
    """The split corpus of one batch size (its first texts to train on, the last ones shared for validation),
    tokenised once by ``tokenize_corpus`` for both of its cells."""
    import pandas as pd

    from tweetbert.modeling.tokens import tokenize_corpus

    directory = workdir / f"corpus-batch{p.batch_size}"
    directory.mkdir(parents=True, exist_ok=True)
    corpus = directory / "corpus.parquet"
    pd.DataFrame({"text": texts[: p.train_texts] + texts[-n_validation:],
                  "split": ["train"] * p.train_texts + ["validation"] * n_validation}).to_parquet(corpus, index=False)
    started = time.perf_counter()
    info = tokenize_corpus(corpus, workdir / "model", args.max_length, directory / "tokens", workers=args.threads,
                           progress=False)
    return {"tokens_dir": directory / "tokens", "tokenize_seconds": round(time.perf_counter() - started, 2),
            "splits": info["splits"], "dtype": info["dtype"]}


# --- what pretrain() does not report per segment ---------------------------------------------------------------


def compile_events() -> int:
    """Frames torch.compile has traced and graphs it has built so far: a change means it (re)compiled."""
    from torch._dynamo.utils import counters

    return sum(counters["frames"].values()) + sum(counters["aot_autograd"].values())


@dataclass(frozen=True)
class Mark:
    """The end of a training segment: a validation or a save began here (the clock synchronised the device)."""

    training_seconds: float  # pretrain()'s training phase so far
    tokens: int
    step: int
    events_before: int  # compile events when the boundary began
    events_after: int  # and when it ended (the next segment starts from these)


@dataclass
class Probe:
    """Wraps ``train_step``, ``evaluate`` and ``save`` of ``tweetbert.modeling.pretrain`` for one call (reading
    only: the loop runs as it would): batch shapes, each evaluation's and save's seconds, the segment marks."""

    marks: list[Mark] = field(default_factory=list)
    evaluations: list[tuple[float, bool]] = field(default_factory=list)  # seconds, compiled during it
    stalls: list[float] = field(default_factory=list)  # seconds each save stalled training
    rows: int = 0
    positions: int = 0

    def _boundary(self, run, phase: str, call):
        events, seconds = compile_events(), run.clock.seconds[phase]
        result = call()
        after = compile_events()
        self.marks.append(Mark(run.clock.seconds["training"], run.state.tokens_seen, run.state.step, events, after))
        return result, run.clock.seconds[phase] - seconds, after != events

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        from tweetbert.modeling import pretrain as module

        train_step, evaluate, save = module.train_step, module.evaluate, module.save

        def probed_train_step(run, inputs):
            rows, width = inputs[0].shape
            self.rows += rows
            self.positions += rows * width
            return train_step(run, inputs)

        def probed_evaluate(run):
            loss, seconds, compiled = self._boundary(run, "validation", lambda: evaluate(run))
            self.evaluations.append((seconds, compiled))
            return loss

        def probed_save(run, **kwargs):
            _, seconds, _ = self._boundary(run, "checkpointing", lambda: save(run, **kwargs))
            self.stalls.append(seconds)

        module.train_step, module.evaluate, module.save = probed_train_step, probed_evaluate, probed_save
        try:
            yield
        finally:
            module.train_step, module.evaluate, module.save = train_step, evaluate, save


def segments(marks: list[Mark]) -> dict:
    """Steady throughput from the training segments between marks: the first segment (warm-up) and any during
    which torch.compile ran are left out; ``extra_seconds`` is what those took beyond the steady rate."""
    steady = {"steps": 0, "tokens": 0, "seconds": 0.0}
    warmup = {"steps": 0, "tokens": 0, "seconds": 0.0, "segments": 0, "compiling_segments": 0}
    first = True
    for before, after in itertools.pairwise(marks):
        steps = after.step - before.step
        if steps == 0:
            continue
        compiled = after.events_before != before.events_after
        part = warmup if first or compiled else steady
        part["steps"] += steps
        part["tokens"] += after.tokens - before.tokens
        part["seconds"] += after.training_seconds - before.training_seconds
        if part is warmup:
            warmup["segments"] += 1
            warmup["compiling_segments"] += compiled
        first = False
    if steady["steps"] == 0 or steady["seconds"] <= 0:
        return {"steady": None, "warmup": warmup | {"extra_seconds": None}}
    rate = steady["tokens"] / steady["seconds"]
    steady |= {"tokens_per_second": rate, "steps_per_second": steady["steps"] / steady["seconds"],
               "seconds_per_step": steady["seconds"] / steady["steps"]}
    return {"steady": steady, "warmup": warmup | {"extra_seconds": warmup["seconds"] - warmup["tokens"] / rate}}


# --- one cell --------------------------------------------------------------------------------------------------


def run_cell(cell: Cell, corpus: dict, study: Study, prepared: dict, args: argparse.Namespace) -> dict:
    import torch
    import torch._dynamo

    from tweetbert.modeling.pretrain import EVAL_BATCH_FACTOR, pretrain

    cuda = torch.cuda.is_available()
    settings = settings_of(cell, study, args)
    cell_dir = args.workdir / "cells" / cell.name
    shutil.rmtree(cell_dir, ignore_errors=True)  # a checkpoint left by a killed check would be resumed
    if cuda:
        gc.collect()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    memory_before = torch.cuda.memory_allocated() / 2**30 if cuda else None
    probe = Probe()
    started = time.perf_counter()
    with probe.installed():
        metrics = pretrain(args.workdir / "model", corpus["tokens_dir"], cell_dir / "run", cell_dir / "checkpoints",
                           settings, progress=args.progress, threads=args.threads)
    call_seconds = time.perf_counter() - started
    peak = (torch.cuda.max_memory_allocated() / 2**30, torch.cuda.max_memory_reserved() / 2**30) if cuda else None
    torch._dynamo.reset()  # the next cell compiles its own model from a clean slate

    timing = segments(probe.marks)
    steady = timing["steady"]
    seconds = metrics["time_seconds"]
    evaluations = [s for s, _ in probe.evaluations]
    steady_evaluations = [s for i, (s, compiled) in enumerate(probe.evaluations) if i > 0 and not compiled]
    evaluation = sum(steady_evaluations) / len(steady_evaluations) if steady_evaluations else None
    stall = sum(probe.stalls) / len(probe.stalls) if probe.stalls else None

    def share(part: float | None, whole: float | None) -> float | None:
        return None if part is None or whole is None else round(part / (part + whole), 5)

    def mfu(parameters: int) -> float | None:
        return None if steady is None else round(6 * parameters * steady["tokens_per_second"] / args.peak_flops, 4)

    p = cell.plan
    return {
        "name": cell.name, "batch_size": p.batch_size, "batch_source": p.source, "compile": cell.compile,
        "compiled": metrics["compiled"], "optimizer_steps": metrics["optimizer_steps"], "epochs": p.epochs,
        "train_texts": metrics["train_texts"], "tokens_seen": metrics["tokens_seen"],
        "tokens_per_step": round(metrics["tokens_seen"] / metrics["optimizer_steps"], 1),
        "mean_padded_width": round(probe.positions / probe.rows, 2), "max_seq_length": args.max_length,
        "pad_share": round(1 - metrics["tokens_seen"] / probe.positions, 4),
        "train_seconds": metrics["train_seconds"], "tokens_per_second": metrics["tokens_per_second"],
        "steady": None if steady is None else {key: round(value, 4) if isinstance(value, float) else value
                                               for key, value in steady.items()},
        "warmup": {key: round(value, 3) if isinstance(value, float) else value
                   for key, value in timing["warmup"].items()},
        "mfu": mfu(prepared["parameters"]), "mfu_non_embedding": mfu(prepared["non_embedding_parameters"]),
        "wall_seconds": metrics["wall_seconds"], "call_seconds": round(call_seconds, 2),
        "time_seconds": seconds, "time_shares": metrics["time_shares"],
        "validation": {
            "eval_every": p.eval_every, "eval_examples": p.eval_examples,
            "texts_scored": metrics["validation_texts_scored"],
            "eval_batch_size": settings.eval_batch_size or EVAL_BATCH_FACTOR * p.batch_size,
            "seconds": [round(s, 3) for s in evaluations],
            "compiling_evaluations": sum(compiled for _, compiled in probe.evaluations),
            "steady_seconds": None if evaluation is None else round(evaluation, 4),
            "measured_share": metrics["time_shares"]["validation"],
            "projected_share": share(evaluation, None if steady is None else p.eval_every * steady["seconds_per_step"]),
        },
        "checkpoints": {
            "save_every_minutes": settings.save_every_minutes, "save_every": settings.save_every,
            "saves": len(probe.stalls), "stall_seconds": [round(s, 3) for s in probe.stalls],
            "final_wait_seconds": round(max(seconds["checkpointing"] - sum(probe.stalls), 0.0), 3),
            "background_write_seconds": metrics["checkpoint_write_seconds"],
            "measured_share": metrics["time_shares"]["checkpointing"],
            "projected_share": share(stall, 60 * study.save_every_minutes),
        },
        "memory_before_gib": None if memory_before is None else round(memory_before, 2),
        "peak_memory_gib": None if peak is None else round(peak[0], 2),
        "peak_memory_reserved_gib": None if peak is None else round(peak[1], 2),
        "device_name": metrics["device_name"], "mixed_precision": metrics["mixed_precision"],
        "attention": metrics["attention"],
        "validation_loss": [metrics["initial_validation_loss"], metrics["final_validation_loss"]],
    }


# --- the matrix ------------------------------------------------------------------------------------------------


def bound_at_study_batch(cells: list[dict], study: Study, calibrated: int) -> dict | None:
    """Why the study's batch is slower per token than the calibrated one: its step time against the time its
    tokens need at the calibrated batch's steady rate, and what compiling does to its step rate."""
    by = {(c["batch_size"], c["compile"]): c for c in cells}
    small, large = by.get((study.batch_size, False)), by.get((calibrated, False))
    if small is None or large is None or calibrated == study.batch_size or not (small["steady"] and large["steady"]):
        return None
    step = small["steady"]["seconds_per_step"]
    needed = small["tokens_per_step"] / large["steady"]["tokens_per_second"]
    compiled = by.get((study.batch_size, True))
    return {
        "seconds_per_step": round(step, 5), "seconds_its_tokens_need_at_calibrated_rate": round(needed, 5),
        "step_over_token_time": round(step / needed, 2),
        "tokens_per_step": small["tokens_per_step"], "mean_padded_width": small["mean_padded_width"],
        "max_seq_length": small["max_seq_length"],
        "compile_step_rate_ratio": (round(compiled["steady"]["steps_per_second"] / small["steady"]["steps_per_second"],
                                          3) if compiled and compiled["steady"] else None),
    }


def verdicts(cells: list[dict], calibrated: int, study: Study) -> dict:
    """Each target, per cell where it applies (None where the cell could not measure it)."""
    def met(value, target, below: bool):
        return None if value is None else (value <= target if below else value >= target)

    return {
        "targets": TARGETS,
        "mfu_at_calibrated_batch": {c["name"]: met(c["mfu_non_embedding"], TARGETS["mfu_non_embedding"], False)
                                    for c in cells if c["batch_size"] == calibrated},
        "mfu_at_study_batch": {c["name"]: met(c["mfu_non_embedding"], TARGETS["mfu_non_embedding"], False)
                               for c in cells if c["batch_size"] == study.batch_size},
        "validation_share": {c["name"]: met(c["validation"]["projected_share"], TARGETS["validation_share"], True)
                             for c in cells},
        "checkpoint_share": {c["name"]: met(c["checkpoints"]["projected_share"], TARGETS["checkpoint_share"], True)
                             for c in cells},
    }


def write_result(result: dict, args: argparse.Namespace) -> None:
    text = json.dumps(result, indent=2, default=str) + "\n"
    for path in (args.output, args.copy_to):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def train(args: argparse.Namespace) -> dict:
    import pandas as pd
    import torch
    import transformers

    workdir = args.workdir
    prepared = json.loads((workdir / "prepare.json").read_text(encoding="utf-8"))
    calibration = json.loads(args.calibration.read_text(encoding="utf-8"))
    study = read_study(args.study_config)
    cuda = torch.cuda.is_available()
    calibrated = calibration["batch_size"] or args.fallback_batch_size
    calibrated_source = "calibrated" if calibration["batch_size"] else "fallback (no GPU: calibration gives none)"
    texts = pd.read_parquet(workdir / "texts.parquet")["text"].tolist()

    wanted = {study.batch_size: ("study", args.steps), calibrated: (calibrated_source, args.calibrated_steps)}
    if calibrated == study.batch_size:
        wanted = {calibrated: (f"study and {calibrated_source}", max(args.steps, args.calibrated_steps))}
    # Validation texts, from the end of the texts: the most any cell scores per evaluation.
    n_validation = max(eval_schedule(batch, steps, study)[1] for batch, (_, steps) in wanted.items())
    plans = [plan(batch, source, steps, len(texts) - n_validation, study) for batch, (source, steps) in wanted.items()]
    cells = [Cell(p, compiled) for compiled in args.compile for p in plans]  # compile-off cells first

    result = {
        "device": torch.cuda.get_device_name() if cuda else f"cpu ({platform.processor() or platform.machine()})",
        "tiny": args.tiny, "complete": False,
        "versions": {"torch": torch.__version__, "cuda": torch.version.cuda, "transformers": transformers.__version__,
                     "python": platform.python_version()},
        "model": {key: prepared[key] for key in ("hidden_size", "layers", "heads", "intermediate_size", "vocab_size",
                                                 "tokenizer_vocab", "parameters", "non_embedding_parameters")},
        "calibration": calibration,
        "study": {"batch_size": study.batch_size, "eval_every": study.eval_every,
                  "eval_examples": study.eval_examples, "save_every_minutes": study.save_every_minutes,
                  "scored_per_trained": round(study.scored_per_trained, 5), "source": study.source},
        "peak_flops": args.peak_flops, "peak_flops_source": args.peak_flops_source,
        "max_seq_length": args.max_length, "validation_texts": n_validation,
        "compile_cells": True in args.compile,
        "corpora": {}, "cells": [], "prepare_seconds": prepared["prepare_seconds"],
    }
    corpora = {}
    for p in plans:
        corpora[p.batch_size] = write_corpus(workdir, texts, p, n_validation, args)
        result["corpora"][str(p.batch_size)] = {key: value for key, value in corpora[p.batch_size].items()
                                                if key != "tokens_dir"} | {"epochs": p.epochs}
        _log(f"batch {p.batch_size} ({p.source}): {p.train_texts} train texts x {p.epochs} epoch(s) = {p.steps} "
             f"steps, tokenised in {corpora[p.batch_size]['tokenize_seconds']} s")
    for index, cell in enumerate(cells, start=1):
        _log(f"cell {index}/{len(cells)}: {cell.name}: {cell.plan.steps} steps, validation every "
             f"{cell.plan.eval_every} on {cell.plan.eval_examples} texts")
        row = run_cell(cell, corpora[cell.plan.batch_size], study, prepared, args)
        result["cells"].append(row)
        write_result(result, args)
        steady = "none" if row["steady"] is None else f"{row['steady']['tokens_per_second']:,.0f}"
        _log(f"cell {cell.name}: {row['tokens_per_second']:,.0f} tokens/s over the training phase, {steady} steady; "
             f"{row['wall_seconds']} s of wall")

    # The compile-off cell when there is one: configs/thesis.yaml runs with compile: false.
    headline = min((c for c in result["cells"] if c["batch_size"] == calibrated), key=lambda c: c["compile"])
    if headline["steady"] is None:
        raise RuntimeError(f"{headline['name']} has no steady training segment: raise GPU_CHECK_CALIBRATED_STEPS")
    stalls = headline["checkpoints"]["stall_seconds"]
    result |= {
        "complete": True,
        "headline_cell": headline["name"],
        "tokens_per_second": headline["steady"]["tokens_per_second"],
        "batch_size": calibrated,
        "checkpoint_seconds": round(sum(stalls) / len(stalls), 3) if stalls else None,
        "mixed_precision": headline["mixed_precision"], "attention": headline["attention"],
        "bound_at_study_batch": bound_at_study_batch(result["cells"], study, calibrated),
        "verdicts": verdicts(result["cells"], calibrated, study),
    }
    write_result(result, args)
    return result


# --- the human summary -----------------------------------------------------------------------------------------


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f} %"


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _verdict(value: bool | None) -> str:
    return {True: "met", False: "NOT met", None: "not measured"}[value]


TABLE_HEADER = ("| cell | steps | tokens/step | padded width | tokens/s (phase) | tokens/s (steady) | steps/s | MFU "
                "(non-emb.) | warm-up extra s | validation share (run → study) | checkpoint share (run → study) | "
                "peak GiB |")


def table_row(c: dict) -> str:
    steady, v, k = c["steady"], c["validation"], c["checkpoints"]
    rates = ("– | – | –" if steady is None else f"{steady['tokens_per_second']:,.0f} | "
             f"{steady['steps_per_second']:,.1f} | {_pct(c['mfu'])} ({_pct(c['mfu_non_embedding'])})")
    memory = "–" if c["peak_memory_gib"] is None else c["peak_memory_gib"]
    return (f"| {c['name']} | {c['optimizer_steps']} | {c['tokens_per_step']:,.0f} | "
            f"{c['mean_padded_width']:.1f} / {c['max_seq_length']} | {c['tokens_per_second']:,.0f} | {rates} | "
            f"{_seconds(c['warmup']['extra_seconds'])} | {_pct(v['measured_share'])} → {_pct(v['projected_share'], 2)} "
            f"| {_pct(k['measured_share'])} → {_pct(k['projected_share'], 3)} ({k['saves']} saves) | {memory} |")


def bound_line(bound: dict) -> str:
    ratio, compiled = bound["step_over_token_time"], bound["compile_step_rate_ratio"]
    why = "bound by per-step overhead (kernel launches, optimizer)" if ratio > 1.5 else "near the rate"
    return (f"study batch: a step takes {1000 * bound['seconds_per_step']:.2f} ms; its "
            f"{bound['tokens_per_step']:,.0f} tokens (mean padded width {bound['mean_padded_width']:.1f} of "
            f"{bound['max_seq_length']}) need {1000 * bound['seconds_its_tokens_need_at_calibrated_rate']:.2f} ms at "
            f"the calibrated batch's steady rate: {ratio:.1f}×, {why}"
            + ("" if compiled is None else f"; compile on changes its step rate {compiled:.2f}×"))


def summary(result: dict) -> str:
    model, calibration, study = result["model"], result["calibration"], result["study"]
    batch = "calibrated" if calibration["batch_size"] else "fallback (no GPU)"
    target = f"{100 * TARGETS['mfu_non_embedding']:.0f} %"
    lines = [
        (f"device          {result['device']} (mixed precision: {result['mixed_precision']}, attention: "
         f"{result['attention']}; torch {result['versions']['torch']})"),
        (f"model           hidden {model['hidden_size']}, {model['layers']} layers, {model['heads']} heads, "
         f"vocabulary {model['vocab_size']} (tokenizer {model['tokenizer_vocab']}), {model['parameters']:,} "
         "parameters"),
        (f"batch sizes     study {study['batch_size']} ({study['source']}); {result['batch_size']} {batch} "
         f"(largest fitting: {calibration.get('max_fitting')}, at {calibration['max_seq_length']} tokens)"),
        (f"proportions     validation every third of a cell, {study['scored_per_trained']:.4f} texts scored per "
         f"text trained (study: {study['eval_examples']} per {study['eval_every']} steps of {study['batch_size']}); "
         f"shares projected to the study's {study['save_every_minutes']:g}-minute checkpoints"),
        "",
        TABLE_HEADER,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(table_row(c) for c in result["cells"]),
        "",
        "targets (MFU without embeddings, of the steady rate; shares at the study's proportions):",
    ]
    labels = {"mfu_at_calibrated_batch": f"MFU ≥ {target} at the calibrated batch",
              "mfu_at_study_batch": f"MFU ≥ {target} at the study batch",
              "validation_share": f"validation ≤ {100 * TARGETS['validation_share']:.0f} % of wall",
              "checkpoint_share": f"checkpointing ≤ {100 * TARGETS['checkpoint_share']:.0f} % of wall"}
    for key, label in labels.items():
        cells = ", ".join(f"{name} {_verdict(value)}" for name, value in result["verdicts"][key].items())
        lines.append(f"  {label}: {cells}")
    if result["bound_at_study_batch"] is not None:
        lines.append(bound_line(result["bound_at_study_batch"]))
    if not result["compile_cells"]:
        lines.append("note: no compile-on cells in this run (GPU_CHECK_COMPILE)")
    if result["device"].startswith("cpu"):
        lines.append("note: CPU run (GPU_CHECK_TINY): MFU against a GPU peak and the targets mean nothing here")
    elif result["mixed_precision"] != "bf16":
        lines.append("WARNING: pretrain() did not use bf16 on this GPU")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="stage", required=True)
    p = sub.add_parser("prepare", help="tweets, tokenizer and a randomly initialised model directory")
    p.add_argument("--workdir", type=Path, required=True)
    p.add_argument("--tweets", type=int, default=100_000)
    p.add_argument("--vocab-size", type=int, default=32768)
    p.add_argument("--hidden-size", type=int, default=768)
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--intermediate-size", type=int, default=3072)
    p.add_argument("--max-length", type=int, default=116)
    p.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("train", help="the matrix of pre-training cells, and the report")
    t.add_argument("--workdir", type=Path, required=True)
    t.add_argument("--calibration", type=Path, required=True, help="calibrate-batch-size's JSON")
    t.add_argument("--output", type=Path, required=True, help="the report (JSON), rewritten after every cell")
    t.add_argument("--copy-to", type=Path, default=None, help="a second path the report is written to")
    t.add_argument("--steps", type=int, default=300, help="optimizer steps at the study's batch")
    t.add_argument("--calibrated-steps", type=int, default=60, help="optimizer steps at the calibrated batch")
    t.add_argument("--compile", default="off,on", help="compile settings to run: off, on, or off,on")
    t.add_argument("--save-every-minutes", type=float, default=0.5, help="checkpoints by the clock")
    t.add_argument("--max-length", type=int, default=116)
    t.add_argument("--fallback-batch-size", type=int, default=16, help="the 'calibrated' batch on a CPU")
    t.add_argument("--study-config", type=Path, default=STUDY_CONFIG, help="its pretrain.fixed gives the proportions")
    t.add_argument("--threads", type=int, default=1, help="torch CPU threads and tokeniser workers")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--peak-flops", type=float, default=None, help=f"default: $GPU_PEAK_FLOPS or {DEFAULT_PEAK_FLOPS:g}")
    t.add_argument("--tiny", action="store_true", help="recorded in the report")
    t.add_argument("--progress", action="store_true", help="pretrain()'s progress bar")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.stage == "prepare":
        prepare(args)
        return
    compile_values = {"off": False, "on": True}
    choices = [value.strip() for value in args.compile.split(",") if value.strip()]
    if not choices or any(value not in compile_values for value in choices) or len(set(choices)) < len(choices):
        parser.error(f"--compile must be off, on or off,on; got {args.compile!r}")
    args.compile = sorted(compile_values[value] for value in choices)  # compile-off cells first
    if min(args.steps, args.calibrated_steps) < 2 * EVALUATIONS_PER_RUN:
        parser.error(f"--steps and --calibrated-steps must be at least {2 * EVALUATIONS_PER_RUN}, so that a cell "
                     "has training segments after its warm-up")
    if not args.save_every_minutes > 0:
        parser.error("--save-every-minutes must be positive")
    if args.peak_flops is not None:
        args.peak_flops_source = "--peak-flops"
    elif os.environ.get("GPU_PEAK_FLOPS"):
        args.peak_flops, args.peak_flops_source = float(os.environ["GPU_PEAK_FLOPS"]), "GPU_PEAK_FLOPS"
    else:
        args.peak_flops = DEFAULT_PEAK_FLOPS
        args.peak_flops_source = "default: H100/H200 SXM dense bf16; set GPU_PEAK_FLOPS for another GPU"
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s %(name)s] %(message)s", datefmt="%H:%M:%S")
    result = train(args)
    print(summary(result))
    print(f"\nJSON: {args.output}" + (f" and {args.copy_to}" if args.copy_to else ""))


if __name__ == "__main__":
    with load_report():
        main()
