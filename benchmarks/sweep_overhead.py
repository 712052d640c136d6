"""Per-trial fixed seconds of a sweep worker: the work of a trial that is not training or evaluation.

Two ways to run the same trials, interleaved in one process on the same task and configurations:

- **before** (the layout until the sweep-at-scale change): every trial loads the tokenizer, tokenises the task's
  splits, loads the model from disk (:func:`tweetbert.finetune.train.finetune`) and SHA-256s every weight after
  training (the kept-model check hashed each trial's weights, copied to the CPU);
- **after** (what a worker of ``tweetbert finetune-sweep`` does): the splits are tokenised once per study
  (:func:`~tweetbert.finetune.train.prepare_task`), the worker loads its model once
  (:class:`~tweetbert.finetune.train.Finetuner`) and restores the initial weights from memory per trial, and
  weights are hashed only when a trial becomes the best so far (as :func:`tweetbert.sweep.keep.keep_if_best` does);
  the worker's long-lived objects are frozen for Python's garbage collector.
  The one-off tokenisation and model load are counted too, spread over a worker's trials (``--worker-trials``).

Fixed seconds = a trial's wall time minus the time spent training and evaluating (:class:`StepClock`: the Trainer's
epochs, their batches, optimiser steps and validation scores included, and dev scoring). Target: after / before <= 0.3. On CUDA the "after" trials
also train with bf16 autocast and TF32; on a CPU only the fixed costs differ. Both ways must give every trial the
same dev metric (printed: the largest difference).

    python benchmarks/sweep_overhead.py                  # 8 trials each way, 1,000 training examples
    python benchmarks/sweep_overhead.py --trials 12 --train-size 2000
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from machine_load import load_report
from sweep_cost import ensure_model, log, write_reviews

TASK_NAME = "sweep_overhead_reviews"
TARGET_RATIO = 0.3


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


class StepClock:
    """Seconds spent training and evaluating: inside ``Trainer._run_epoch`` (an epoch's optimiser steps with their
    batches, and its validation scoring) and, outside it, inside ``Trainer.prediction_step`` (dev scoring)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._depth = 0

    @contextlib.contextmanager
    def installed(self):
        from transformers import Trainer

        originals = {name: getattr(Trainer, name) for name in ("_run_epoch", "prediction_step")}

        def timed(method):
            def step(*args, **kwargs):
                self._depth += 1
                started = time.perf_counter()
                try:
                    return method(*args, **kwargs)
                finally:
                    self._depth -= 1
                    if self._depth == 0:
                        self.seconds += time.perf_counter() - started

            return step

        for name, method in originals.items():
            setattr(Trainer, name, timed(method))
        try:
            yield self
        finally:
            for name, method in originals.items():
                setattr(Trainer, name, method)


def configurations(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [{"learning_rate": 10 ** rng.uniform(-4, -3), "batch_size": 32, "epochs": rng.choice([1, 2]),
             "warmup_ratio": 0.0, "weight_decay": 0.0} for _ in range(n)]


def timed(clock: StepClock, run) -> tuple[float, float, dict]:
    """(wall seconds, step seconds, result) of one trial."""
    steps_before = clock.seconds
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(sys.stderr):
        result = run(Path(scratch))
    return time.perf_counter() - started, clock.seconds - steps_before, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=8, help="trials each way (default 8)")
    parser.add_argument("--model", type=Path, default=None, help="base model directory (default: the demo's)")
    parser.add_argument("--train-size", type=int, default=1000, help="train examples (default 1000)")
    parser.add_argument("--eval-size", type=int, default=200, help="validation and dev examples each (default 200)")
    parser.add_argument("--max-length", type=int, default=48, help="tokens per input (default 48)")
    parser.add_argument("--worker-trials", type=int, default=25,
                        help="trials a worker runs, over which its one-off work is spread (default 25: the thesis's "
                             "100 trials over 4 workers)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.trials < 1:
        parser.error("--trials must be at least 1")

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers

    from tweetbert.finetune.train import Finetuner, finetune, prepare_task, weights_sha256
    from tweetbert.tasks.registry import table_task

    if args.threads:
        torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    sizes = {"train": args.train_size, "validation": args.eval_size, "dev": args.eval_size, "test": 10}
    spec = table_task(TASK_NAME)
    clock = StepClock()
    before, after = [], []
    with tempfile.TemporaryDirectory(prefix="sweep-overhead-") as tmp, clock.installed():
        scratch = Path(tmp)
        model = ensure_model(args.model, scratch)
        task = spec.loader(TASK_NAME, spec.resolve_options({"path": str(write_reviews(scratch / "r.csv", sizes, 0))}))
        load_before = load_average()
        log(f"load average before: {load_before}")
        started = time.perf_counter()
        prepared = prepare_task(model, task, spec, max_length=args.max_length, splits=("train", "validation", "dev"))
        worker = Finetuner(model, prepared, seed=0)
        gc.freeze()  # as tweetbert.sweep.job.load_worker does: Trainer.train()'s gc.collect() skips long-lived objects
        once = time.perf_counter() - started
        best = float("-inf")
        for k, params in enumerate(configurations(args.trials, seed=0)):
            def old_trial(out: Path, params: dict = params) -> dict:
                result = finetune(model, task, spec, params, seed=0, output_dir=out, max_length=args.max_length)
                weights_sha256(result["model"])
                return result

            def new_trial(out: Path, params: dict = params) -> dict:
                nonlocal best
                result = worker.run(params, output_dir=out)
                if result["objective"] > best:  # kept: the only trials whose weights are hashed
                    best = result["objective"]
                    weights_sha256(result["model"])
                return result

            before.append(timed(clock, old_trial))
            after.append(timed(clock, new_trial))
            log(f"trial {k}: before {before[-1][0]:.2f} s ({before[-1][1]:.2f} in steps), "
                f"after {after[-1][0]:.2f} s ({after[-1][1]:.2f} in steps)")
        load_after = load_average()

    fixed_before = [wall - steps for wall, steps, _ in before]
    fixed_after = [wall - steps + once / args.worker_trials for wall, steps, _ in after]
    dev_gap = max(abs(b[2]["objective"] - a[2]["objective"]) for b, a in zip(before, after))
    ratio = statistics.mean(fixed_after) / statistics.mean(fixed_before)
    device = "CUDA " + torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    print(f"# Sweep overhead: per-trial fixed seconds, before vs after ({args.trials} trials each way, {device}, "
          f"{torch.get_num_threads()} torch threads)\n")
    print(f"Task: generated reviews, train {sizes['train']} / validation {sizes['validation']} / dev {sizes['dev']}, "
          f"max length {args.max_length}, batch 32, 1-2 epochs. Load average (1/5/15 min): {load_before} before, "
          f"{load_after} after.\n")
    print("| way | trial wall s (mean) | in steps s (mean) | fixed s (mean) | fixed s (median) |")
    print("|---|---|---|---|---|")
    for name, rows, fixed in (("before", before, fixed_before), ("after", after, fixed_after)):
        print(f"| {name} | {statistics.mean(r[0] for r in rows):.2f} | {statistics.mean(r[1] for r in rows):.2f} | "
              f"{statistics.mean(fixed):.2f} | {statistics.median(fixed):.2f} |")
    print(f"\nAfter's one-off work per worker (tokenise splits, load model, snapshot weights): {once:.2f} s, "
          f"counted above as {once / args.worker_trials:.2f} s per trial.")
    print(f"Fixed seconds after / before: **{ratio:.2f}** (target <= {TARGET_RATIO}: "
          f"{'met' if ratio <= TARGET_RATIO else 'NOT met'}).")
    print(f"Largest dev-metric difference between the two ways, trial by trial: {dev_gap:.2g}.")


if __name__ == "__main__":
    with load_report():
        main()
