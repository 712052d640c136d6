"""MLM pre-training throughput on CPU: our loop against Hugging Face ``Trainer`` with ``run_mlm.py``-style padding.

Every method trains the same tiny model (``build_demo_base_model``: hidden 64, 2 layers, its own WordPiece
vocabulary) on the same tweets (``generate_tweets(n, seed)`` -> ``normalize_texts`` -> exact duplicates and empty
texts dropped -> shuffled; the first ``(warmup + steps) x batch`` texts are the train split, so one epoch is exactly
the steps run), with the same batch size, the same number of optimizer steps, the same truncation length and the
same torch intra-op threads. Our two rows read the corpus as the workflow does: tokenised once, in the setup, by
``tokenize_corpus`` and memory-mapped by each worker (``load_tokens``); the ``Trainer`` rows tokenise in their
worker, untimed. Each method runs in a fresh process (``--worker METHOD``) so none inherits another's allocator or
thread state. The first ``--warmup-steps`` optimizer steps are not timed.

Methods (``--methods``, default all four):

* ``hf-padded`` (the baseline) — ``Trainer`` + ``BertForMaskedLM`` + ``DataCollatorForLanguageModeling(
  mlm_probability=0.15)``, every tweet tokenised by the saved tokenizer with ``padding="max_length"``,
  ``max_length=116``, ``truncation=True`` and ``return_special_tokens_mask=True``, as ``run_mlm.py
  --line_by_line --pad_to_max_length`` does; the MLM head runs at every position.
* ``hf-grouped`` — the same ``Trainer``, but tokenised without padding, ``train_sampling_strategy=
  "group_by_length"`` (transformers 5's name for ``group_by_length=True``) and the collator padding each batch
  to its longest text: what ``Trainer`` alone gains from padding less.
* ``ours`` — the workflow's step function, ``tweetbert.modeling.pretrain.train_step`` (whole-word masking and
  dynamic padding by ``WholeWordMasking``, ``MaskedOnlyMLM`` so the vocabulary projection runs at masked positions
  only, AdamW, linear schedule, gradient clipping, through ``accelerate``) on the batches of ``epoch_batches``
  (length-grouped), driven step by step so the warm-up steps can be left out of the timing.
* ``ours-pretrain`` — ``pretrain()`` itself, exactly as ``tweetbert pretrain-candidate`` runs it, for one epoch of
  the same train split, at the study's proportions scaled down to the run (``configs/thesis.yaml``: validation every
  5000 steps on a sample of 20000 texts at batch 55, checkpoints every 30 minutes): validation every third of the
  run on the same ratio of texts scored to texts trained, checkpoints by the clock every ``--save-every-minutes``
  plus one just past mid-run (so a fast run still saves once). Its tokens/s is its own ``metrics.json`` figure
  (tokens over the training phase, warm-up steps included; validation, checkpoint stalls and loading excluded): a
  check that the ``ours`` row measures what the workflow really does. Beside it, the validation and checkpointing
  shares of its wall time (``metrics.json`` ``time_shares``) against the targets (<= 5 %, <= 1 %). A short run
  exaggerates both (the evaluation at step 0, the wait for the last checkpoint's write), so the checkpointing share
  is also given for one save's stall against the study's 30 minutes.

Reported per method: real tokens/s (non-pad tokens, ``[CLS]``/``[SEP]`` included, of the timed steps' batches over
their wall seconds), pad share (pad positions / all positions of those batches), wall and CPU seconds of the timed
steps (CPU well below wall x threads means other processes took the cores), the tokens/s ratio against the padded
baseline, and for ``ours-pretrain`` the validation and checkpointing shares of wall time. Timing for the ``Trainer`` rows runs from ``on_step_end`` of the last warm-up step to
``on_step_end`` of the last step (a ``TrainerCallback``); the batches are recorded in the order the collator makes
them (one data-loader process, so that is the step order).

    .venv/bin/python benchmarks/pretrain_throughput.py                       # ~2 min on 2 cores
    .venv/bin/python benchmarks/pretrain_throughput.py --steps 60 --batch-size 32 --threads 1
    .venv/bin/python benchmarks/pretrain_throughput.py --methods hf-padded,ours --repeats 3
    .venv/bin/python benchmarks/pretrain_throughput.py --methods hf-padded,ours-pretrain --steps 30
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gpu_check import STUDY_CONFIG, Probe, eval_schedule, read_study  # the study's proportions, defined once
from machine_load import load_report

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

METHODS = ("hf-padded", "hf-grouped", "ours", "ours-pretrain")
BASELINE = "hf-padded"
LABELS = {
    "hf-padded": "HF `Trainer`, padded to max length (baseline)",
    "hf-grouped": "HF `Trainer`, `group_by_length` + dynamic padding",
    "ours": "ours: `train_step` on `epoch_batches`",
    "ours-pretrain": "ours: `pretrain()` end to end",
}
MLM_PROBABILITY = 0.15
LEARNING_RATE = 1e-4
BASE_MODEL_STEPS = 20  # the base model's own MLM steps: its weights do not change the cost of a step
TARGETS = {"validation": 0.05, "checkpointing": 0.01}  # shares of pretrain()'s wall time


# --- setup (once, in the parent process) -----------------------------------------------------------------------


def prepare(workdir: Path, args: argparse.Namespace) -> dict:
    """The base model directory, the split corpus and its token data (what every worker reads); returns what the
    table notes need."""
    import numpy as np
    import pandas as pd

    from tweetbert.corpus.normalize import normalize_texts
    from tweetbert.demo import generate_tweets, write_general_text
    from tweetbert.demo.base_model import build_demo_base_model
    from tweetbert.modeling.tokens import tokenize_corpus

    started = time.perf_counter()
    tweets, _ = generate_tweets(args.tweets, args.seed)
    texts = list(dict.fromkeys(text for text in normalize_texts(tweets["text"].tolist()) if text))
    texts = [texts[i] for i in np.random.default_rng(args.seed).permutation(len(texts))]
    n_train = (args.warmup_steps + args.steps) * args.batch_size
    n_validation = eval_schedule(args.batch_size, args.warmup_steps + args.steps, read_study(STUDY_CONFIG))[1]
    if len(texts) < n_train + n_validation:
        raise SystemExit(f"--tweets {args.tweets} gives {len(texts)} distinct texts, but {n_train} train + "
                         f"{n_validation} validation texts are needed: raise --tweets or lower --steps/--batch-size")
    frame = pd.DataFrame({"text": texts[: n_train + n_validation],
                          "split": ["train"] * n_train + ["validation"] * n_validation})
    frame.to_parquet(workdir / "corpus.parquet", index=False)
    general = write_general_text(workdir / "general_text.txt", args.seed)
    base = build_demo_base_model(general, workdir / "base", steps=BASE_MODEL_STEPS, seed=args.seed,
                                 threads=args.threads)
    tokenize_corpus(workdir / "corpus.parquet", workdir / "base", args.max_length, workdir / "tokens",
                    workers=args.threads, progress=False)
    return {"distinct_tweets": len(texts), "train_texts": n_train, "vocab_size": base["vocab_size"],
            "parameters": base["parameters"], "setup_seconds": round(time.perf_counter() - started, 1)}


# --- workers (one fresh process per method) --------------------------------------------------------------------


def _train_texts(workdir: Path) -> list[str]:
    from tweetbert.corpus.io import read_split_texts

    return read_split_texts(workdir / "corpus.parquet", "train")


def _summary(batches: list[tuple[int, int]], seconds: float, cpu_seconds: float, steps: int) -> dict:
    """Tokens/s and pad share of the timed batches: (real tokens, padded positions) per batch."""
    real = sum(b[0] for b in batches)
    positions = sum(b[1] for b in batches)
    return {"steps": steps, "real_tokens": real, "positions": positions, "seconds": seconds,
            "cpu_seconds": cpu_seconds, "tokens_per_second": real / seconds, "pad_share": 1 - real / positions}


def run_trainer(workdir: Path, args: argparse.Namespace, grouped: bool) -> dict:
    import torch
    from transformers import (
        AutoTokenizer,
        BertForMaskedLM,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    model_dir = workdir / "base"
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    padding = {} if grouped else {"padding": "max_length"}
    encoded = tokenizer(_train_texts(workdir), max_length=args.max_length, truncation=True,
                        return_special_tokens_mask=True, **padding)
    dataset = [{key: encoded[key][i] for key in encoded} for i in range(len(encoded["input_ids"]))]
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=MLM_PROBABILITY)
    batches: list[tuple[int, int]] = []

    def collate(features):
        batch = collator(features)
        batches.append((int(batch["attention_mask"].sum()), batch["attention_mask"].numel()))
        return batch

    class Clock(TrainerCallback):
        def __init__(self):
            self.marks: dict[int, tuple[float, float]] = {}
            self.threads: int | None = None

        def on_step_end(self, training_args, state, control, **kwargs):
            if state.global_step in (args.warmup_steps, args.warmup_steps + args.steps):
                self.marks[state.global_step] = (time.perf_counter(), time.process_time())
                self.threads = torch.get_num_threads()

    total = args.warmup_steps + args.steps
    training_args = TrainingArguments(
        output_dir=str(workdir / f"trainer-{'grouped' if grouped else 'padded'}"),
        per_device_train_batch_size=args.batch_size,
        max_steps=total,
        learning_rate=LEARNING_RATE,
        warmup_steps=0.1,
        max_grad_norm=1.0,
        train_sampling_strategy="group_by_length" if grouped else "random",
        eval_strategy="no",
        save_strategy="no",
        logging_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=True,
        dataloader_num_workers=0,
        seed=args.seed,
    )
    torch.manual_seed(args.seed)
    model = BertForMaskedLM.from_pretrained(model_dir, attn_implementation="sdpa")
    clock = Clock()
    trainer = Trainer(model=model, args=training_args, train_dataset=dataset, data_collator=collate,
                      processing_class=tokenizer, callbacks=[clock])
    torch.set_num_threads(args.threads)
    trainer.train()
    if clock.threads != args.threads:
        raise RuntimeError(f"torch ran {clock.threads} threads under Trainer, {args.threads} were set")
    (t0, c0), (t1, c1) = clock.marks[args.warmup_steps], clock.marks[total]
    return _summary(batches[args.warmup_steps : total], t1 - t0, c1 - c0, args.steps)


def run_ours(workdir: Path, args: argparse.Namespace) -> dict:
    import torch
    from accelerate import Accelerator
    from transformers import AutoTokenizer

    from tweetbert.modeling.pretrain import PretrainSettings, start_run, train_step
    from tweetbert.modeling.pretrain_data import DROPOUT, derived_seed
    from tweetbert.modeling.pretrain_model import load_model
    from tweetbert.modeling.tokens import load_tokens

    torch.set_num_threads(args.threads)
    model_dir, tokens_dir = workdir / "base", workdir / "tokens"
    settings = _settings(args, PretrainSettings)
    splits, _ = load_tokens(tokens_dir, model_dir)
    accelerator = Accelerator(cpu=True, mixed_precision="no")
    run = start_run(accelerator, settings, tokens_dir, splits, load_model(model_dir),
                    AutoTokenizer.from_pretrained(model_dir), workdir / "ours-checkpoints", {}, time.perf_counter())
    run.wrapper.train()  # as pretrain's train() does: from_pretrained leaves the model in eval mode
    lengths = run.data.train.lengths
    batches = run.data.epoch(0)
    total = args.warmup_steps + args.steps
    if len(batches) != total:
        raise RuntimeError(f"expected {total} batches in the epoch, got {len(batches)}")
    for step in range(total):
        if step == args.warmup_steps:
            t0, c0 = time.perf_counter(), time.process_time()
        torch.manual_seed(derived_seed(settings.seed, DROPOUT, step, 0))  # dropout, as run_epoch seeds it
        inputs, _ = run.data.train_step_inputs(batches, epoch=0, epoch_step=step)  # masked as run_epoch's are
        train_step(run, inputs)
    t1, c1 = time.perf_counter(), time.process_time()
    if torch.get_num_threads() != args.threads:
        raise RuntimeError(f"torch ran {torch.get_num_threads()} threads, {args.threads} were set")
    timed = [(int(lengths[b].sum()), len(b) * int(lengths[b].max())) for b in batches[args.warmup_steps : total]]
    return _summary(timed, t1 - t0, c1 - c0, args.steps)


def run_ours_pretrain(workdir: Path, args: argparse.Namespace) -> dict:
    import torch

    from tweetbert.modeling.pretrain import PretrainSettings, pretrain
    from tweetbert.modeling.pretrain_data import epoch_batches
    from tweetbert.modeling.tokens import load_tokens

    total = args.warmup_steps + args.steps
    eval_every, eval_examples = eval_schedule(args.batch_size, total, read_study(STUDY_CONFIG))
    settings = _settings(args, PretrainSettings, eval_every=eval_every, eval_examples=eval_examples,
                         save_every=total // 2 + 1, save_every_minutes=args.save_every_minutes)
    out_dir, checkpoints = workdir / "ours-pretrain", workdir / "ours-pretrain-checkpoints"
    probe = Probe()  # reads each save's stall, which metrics.json sums with the wait for the last write
    cpu_before = time.process_time()
    with probe.installed():
        metrics = pretrain(workdir / "base", workdir / "tokens", out_dir, checkpoints, settings, progress=False,
                           threads=args.threads)
    cpu_seconds = time.process_time() - cpu_before  # the whole call: loading, validation and saving included
    if torch.get_num_threads() != args.threads:
        torch.set_num_threads(args.threads)
    if metrics["optimizer_steps"] != total:
        raise RuntimeError(f"pretrain() ran {metrics['optimizer_steps']} steps, expected {total}")
    lengths = load_tokens(workdir / "tokens", workdir / "base")[0]["train"].lengths
    batches = epoch_batches(lengths, settings.batch_size, settings.seed, 0)
    real = int(lengths.sum())
    if real != metrics["tokens_seen"]:
        raise RuntimeError(f"pretrain() saw {metrics['tokens_seen']} tokens, the batches hold {real}")
    positions = sum(len(b) * int(lengths[b].max()) for b in batches)
    return {"steps": metrics["optimizer_steps"], "real_tokens": real, "positions": positions,
            "seconds": metrics["train_seconds"], "cpu_seconds": None, "call_cpu_seconds": cpu_seconds,
            "wall_seconds": metrics["wall_seconds"], "tokens_per_second": metrics["tokens_per_second"],
            "pad_share": 1 - real / positions, "time_shares": metrics["time_shares"], "stalls": probe.stalls,
            "eval_every": eval_every, "eval_examples": eval_examples,
            "save_every_minutes": settings.save_every_minutes}


def _settings(args: argparse.Namespace, settings_class, **schedule):
    """One epoch of the train split; without ``schedule``, no validation or checkpoint inside the run."""
    total = args.warmup_steps + args.steps
    quiet = {"eval_every": total + 1, "save_every": None, "save_every_minutes": None}
    return settings_class(learning_rate=LEARNING_RATE, epochs=1, batch_size=args.batch_size,
                          max_seq_length=args.max_length, warmup_steps=0.1, mlm_probability=MLM_PROBABILITY,
                          whole_word_mask=True, seed=args.seed, **(quiet | schedule))


def worker(method: str, workdir: Path, args: argparse.Namespace) -> dict:
    if method == "hf-padded":
        return run_trainer(workdir, args, grouped=False)
    if method == "hf-grouped":
        return run_trainer(workdir, args, grouped=True)
    if method == "ours":
        return run_ours(workdir, args)
    if method == "ours-pretrain":
        return run_ours_pretrain(workdir, args)
    raise ValueError(method)


# --- driver and table ------------------------------------------------------------------------------------------


def _child(method: str, workdir: Path, args: argparse.Namespace) -> dict:
    command = [sys.executable, os.path.abspath(__file__), "--worker", method, "--workdir", str(workdir),
               "--steps", str(args.steps), "--warmup-steps", str(args.warmup_steps),
               "--batch-size", str(args.batch_size), "--threads", str(args.threads),
               "--max-length", str(args.max_length), "--seed", str(args.seed),
               "--save-every-minutes", str(args.save_every_minutes)]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-6000:])
        raise SystemExit(f"worker {method} failed (exit status {done.returncode})")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = round(time.perf_counter() - started, 1)
    result["load_before"] = load_before
    result["load_after"] = os.getloadavg()[0]
    return result


def _fmt_seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _share(row: dict, phase: str) -> str:
    """A phase's share of ``pretrain()``'s wall time, for the row that ran ``pretrain()``."""
    return f"{100 * row['time_shares'][phase]:.1f} %" if "time_shares" in row else "–"


def _met(value: float, target: float) -> str:
    return f"target ≤ {100 * target:.0f} %: {'met' if value <= target else 'NOT met'}"


def pretrain_shares(row: dict, study) -> str:
    """The ``pretrain()`` row's validation and checkpointing shares of wall time against their targets, and one
    save's stall against the study's checkpoint interval (a short run exaggerates the measured share)."""
    validation, checkpointing = row["time_shares"]["validation"], row["time_shares"]["checkpointing"]
    stalls = row["stalls"]  # at least the one past mid-run
    stall = sum(stalls) / len(stalls)
    at_study = (f"{len(stalls)} save(s), {1000 * stall:.1f} ms stall each: "
                f"{100 * stall / (stall + 60 * study.save_every_minutes):.4f} % at the study's "
                f"{study.save_every_minutes:g}-minute saves")
    return (f"`pretrain()` at the study's proportions (validation every {row['eval_every']} steps on "
            f"{row['eval_examples']} texts; checkpoints every {row['save_every_minutes']:g} min and once past "
            f"mid-run): validation {100 * validation:.1f} % of wall ({_met(validation, TARGETS['validation'])}), "
            f"checkpointing {100 * checkpointing:.1f} % ({_met(checkpointing, TARGETS['checkpointing'])}; "
            f"{at_study}).")


def table(results: dict[str, list[dict]], args: argparse.Namespace, info: dict) -> str:
    best = {method: max(runs, key=lambda r: r["tokens_per_second"]) for method, runs in results.items()}
    baseline = best.get(BASELINE)
    lines = [
        f"Tiny demo BERT (hidden 64, 2 layers, vocabulary {info['vocab_size']}, {info['parameters']:,} parameters); "
        f"{info['train_texts']} train texts (of {info['distinct_tweets']} distinct normalised tweets from "
        f"{args.tweets} generated); batch {args.batch_size}; "
        f"{args.steps} timed optimizer steps after {args.warmup_steps} untimed; truncation {args.max_length}; "
        f"torch intra-op threads {args.threads} for every method"
        + (f"; best of {args.repeats} runs" if args.repeats > 1 else "") + ".",
        "",
        ("| method | steps timed | real tokens/s | pad share | seconds | CPU s | tokens/s ÷ baseline | validation / "
         "wall | checkpointing / wall |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for method, row in best.items():
        ratio = f"{row['tokens_per_second'] / baseline['tokens_per_second']:.2f}×" if baseline else "–"
        lines.append(f"| {LABELS[method]} | {row['steps']} | {row['tokens_per_second']:,.0f} | "
                     f"{100 * row['pad_share']:.1f} % | {_fmt_seconds(row['seconds'])} | "
                     f"{_fmt_seconds(row['cpu_seconds'])} | {ratio} | {_share(row, 'validation')} | "
                     f"{_share(row, 'checkpointing')} |")
    lines.append("")
    if "ours-pretrain" in best:
        lines.append(f"`pretrain()` row: its own metrics.json tokens/s over the training phase of all "
                     f"{best['ours-pretrain']['steps']} steps (warm-up steps included); CPU s not separable from its "
                     "loading, validation and saving.")
    if args.repeats > 1:
        for method, runs in results.items():
            rates = [r["tokens_per_second"] for r in runs]
            lines.append(f"- {method}: tokens/s over {len(runs)} runs: median {statistics.median(rates):,.0f}, "
                         f"min {min(rates):,.0f}, max {max(rates):,.0f}")
    busy = [method for method, row in best.items()
            if row["cpu_seconds"] is not None and row["cpu_seconds"] < 0.85 * row["seconds"] * min(args.threads,
                                                                                              os.cpu_count() or 1)]
    loads = ", ".join(f"{method} {row['load_before']:.1f}->{row['load_after']:.1f}" for method, row in best.items())
    lines.append(f"Load average (1 min) around each worker: {loads} on {os.cpu_count()} cores.")
    if busy:
        lines.append(f"Warning: CPU seconds well below wall seconds x threads for {', '.join(busy)}: other processes "
                     "held the cores during those runs; rerun on a quieter machine (or with --repeats).")
    targets = []
    if baseline and "ours" in best:
        ratio = best["ours"]["tokens_per_second"] / baseline["tokens_per_second"]
        targets.append(f"ours ÷ padded baseline {ratio:.2f}× (target ≥ 6×: {'met' if ratio >= 6 else 'NOT met'})")
    if "ours" in best:
        share = best["ours"]["pad_share"]
        targets.append(f"ours' pad share {100 * share:.1f} % (target ≤ 5 %: {'met' if share <= 0.05 else 'NOT met'})")
    if targets:
        lines.append("Targets: " + "; ".join(targets) + ".")
    if "ours-pretrain" in best:
        lines.append(pretrain_shares(best["ours-pretrain"], read_study(STUDY_CONFIG)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100, help="timed optimizer steps per method (default 100)")
    parser.add_argument("--warmup-steps", type=int, default=5, help="untimed steps before them (default 5)")
    parser.add_argument("--batch-size", type=int, default=32, help="sequences per step (default 32)")
    parser.add_argument("--tweets", type=int, default=20_000, help="generated tweets (default 20000)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads, every method (default 1)")
    parser.add_argument("--max-length", type=int, default=116, help="truncation / padding length (default 116)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated subset of {','.join(METHODS)}")
    parser.add_argument("--repeats", type=int, default=1, help="runs per method; the table shows the fastest")
    parser.add_argument("--save-every-minutes", type=float, default=0.05,
                        help="pretrain()'s checkpoints by the clock (default 0.05: about one in a run of seconds)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the model and corpus here (default: temp)")
    parser.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.steps, args.batch_size, args.threads, args.repeats) < 1 or args.warmup_steps < 0:
        parser.error("--steps, --batch-size, --threads and --repeats must be positive, --warmup-steps >= 0")
    if not args.save_every_minutes > 0:
        parser.error("--save-every-minutes must be positive")

    if args.worker:
        import logging

        logging.disable(logging.WARNING)  # keep the worker's stdout to the one JSON line
        result = worker(args.worker, args.workdir, args)
        print(json.dumps(result))
        return

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {list(METHODS)}")
    temporary = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="pretrain-throughput-")) if temporary else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        print(f"setup in {workdir}: {args.tweets} tweets, tiny base model ...", file=sys.stderr)
        info = prepare(workdir, args)
        print(f"setup done in {info['setup_seconds']} s", file=sys.stderr)
        results: dict[str, list[dict]] = {method: [] for method in methods}
        for repeat in range(args.repeats):
            for method in methods:
                result = _child(method, workdir, args)
                results[method].append(result)
                print(f"[{repeat + 1}/{args.repeats}] {method}: {result['tokens_per_second']:,.0f} real tokens/s, "
                      f"pad share {100 * result['pad_share']:.1f} %, {result['seconds']:.2f} s timed "
                      f"({result['process_seconds']} s process)", file=sys.stderr)
        print(table(results, args, info))
    finally:
        if temporary:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    with load_report():
        main()
