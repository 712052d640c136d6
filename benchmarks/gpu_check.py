"""The Python half of ``benchmarks/gpu_check.sh``: a BERT-base-sized model from scratch, then pre-training on a GPU.

``prepare`` generates tweets (``generate_tweets`` -> ``normalize_texts`` -> exact duplicates and empty texts
dropped -> shuffled), trains a WordPiece vocabulary on them with ``tweetbert.tokenization.train`` (MeCab words, the
characters covering 99.9 % of occurrences plus the jōyō kanji, as the demo base model does) and saves a model
directory: that tokenizer and a randomly initialised ``BertForMaskedLM`` built from a ``BertConfig``. The embedding
matrix has ``--vocab-size`` rows (32768, as the Tohoku Japanese BERT) or the tokenizer's size if larger: generated
tweets hold fewer distinct words than that, and the extra rows keep the model at BERT-base size.

``train`` reads the batch size ``tweetbert calibrate-batch-size`` wrote (a CPU falls back to
``--fallback-batch-size``), writes the split corpus (train: ``steps x batch`` texts when there are enough, else all
of them for as many epochs as the steps need; validation: a fixed share), runs ``tweetbert.modeling.pretrain.
pretrain`` (bf16 autocast on a GPU that supports it, chosen by ``pretrain`` itself) and reports:

* ``tokens_per_second``: non-pad tokens over the wall time of the training epochs, measured here with
  ``torch.cuda.synchronize()`` at the start and end of every epoch (``tweetbert.modeling.pretrain.run_epoch`` is
  wrapped; the validation at an epoch's end, tokenising and saving are outside it), so queued GPU work cannot escape
  the clock;
* ``tokens_per_second_pretrain_metrics``: ``pretrain``'s own figure (the sum of its per-step timers);
* ``mfu``: model FLOPs utilisation, 6 x parameters x tokens/s / peak bf16 FLOP/s, with every parameter counted
  (the usual 6N rule). The peak comes from ``GPU_PEAK_FLOPS`` (``--peak-flops``), default 989e12 = the dense
  (no sparsity) bf16 peak of an H100/H200 SXM. ``mfu_non_embedding`` counts the parameters without the embedding
  matrices, which cost no matmul FLOPs: the truer figure for this loop, where the tied vocabulary projection runs
  only at the ~15 % masked positions (so both slightly misstate the work done; attention's own FLOPs, small at
  tweet lengths, are left out of both);
* ``peak_memory_gib``: ``torch.cuda.max_memory_allocated()`` over the whole ``pretrain`` call (training and
  validation), and the calibrated batch size.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DEFAULT_PEAK_FLOPS = 989e12  # H100 / H200 SXM, dense bf16 (989.4 TFLOP/s without sparsity)
VALIDATION_SHARE = 0.02
MAX_VALIDATION_TEXTS = 4000
MIN_VALIDATION_TEXTS = 64


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


# --- train -----------------------------------------------------------------------------------------------------


def write_corpus(workdir: Path, batch_size: int, steps: int) -> tuple[Path, int, int]:
    """The split corpus for ``steps`` optimizer steps; returns its path, train texts and epochs."""
    import pandas as pd

    texts = pd.read_parquet(workdir / "texts.parquet")["text"].tolist()
    n_validation = min(MAX_VALIDATION_TEXTS, max(MIN_VALIDATION_TEXTS, round(VALIDATION_SHARE * len(texts))))
    available = len(texts) - n_validation
    if available < batch_size:
        raise SystemExit(f"only {available} training texts for a batch of {batch_size}: raise GPU_CHECK_TWEETS")
    n_train = min(available, steps * batch_size)
    epochs = math.ceil(steps / math.ceil(n_train / batch_size))
    path = workdir / "corpus.parquet"
    pd.DataFrame({"text": texts[:n_train] + texts[-n_validation:],
                  "split": ["train"] * n_train + ["validation"] * n_validation}).to_parquet(path, index=False)
    return path, n_train, epochs


def train(args: argparse.Namespace) -> dict:
    import torch
    import transformers

    from tweetbert.modeling import pretrain as pretrain_module
    from tweetbert.modeling.pretrain import PretrainSettings, pretrain

    workdir = args.workdir
    prepared = json.loads((workdir / "prepare.json").read_text(encoding="utf-8"))
    calibration = json.loads(args.calibration.read_text(encoding="utf-8"))
    cuda = torch.cuda.is_available()
    batch_size = calibration["batch_size"] or args.fallback_batch_size
    source = "calibrated" if calibration["batch_size"] else "fallback (no GPU: calibration gives none)"
    corpus, n_train, epochs = write_corpus(workdir, batch_size, args.steps)
    _log(f"batch {batch_size} ({source}); {n_train} train texts x {epochs} epoch(s) for >= {args.steps} steps")

    # Synchronised wall time of every training epoch (measurement only; the loop itself is untouched).
    epochs_timed: list[tuple[float, int]] = []
    run_epoch = getattr(pretrain_module, "run_epoch", None)

    def timed_run_epoch(run) -> None:
        if cuda:
            torch.cuda.synchronize()
        tokens_before, started = run.state.tokens_seen, time.perf_counter()
        try:
            run_epoch(run)
        finally:
            if cuda:
                torch.cuda.synchronize()
            epochs_timed.append((time.perf_counter() - started, run.state.tokens_seen - tokens_before))

    timer = run_epoch is not None
    if timer:
        pretrain_module.run_epoch = timed_run_epoch
    else:
        _log("warning: tweetbert.modeling.pretrain.run_epoch is gone; only pretrain()'s own tokens/s is reported")
    settings = PretrainSettings(learning_rate=1e-4, weight_decay=0.01, epochs=epochs, batch_size=batch_size,
                                max_seq_length=args.max_length, warmup_steps=0.06, seed=args.seed,
                                eval_every=500, save_every=10**9)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    try:
        metrics = pretrain(workdir / "model", corpus, workdir / "run", workdir / "checkpoints", settings,
                           progress=args.progress, threads=args.threads)
    finally:
        if timer:
            pretrain_module.run_epoch = run_epoch
    pretrain_seconds = time.perf_counter() - started

    if timer:
        seconds = sum(s for s, _ in epochs_timed)
        tokens = sum(t for _, t in epochs_timed)
        if tokens != metrics["tokens_seen"]:
            raise RuntimeError(f"the epoch timer saw {tokens} tokens, pretrain() reports {metrics['tokens_seen']}")
    else:
        seconds, tokens = metrics["train_seconds"], metrics["tokens_seen"]
    tokens_per_second = tokens / seconds
    peak = args.peak_flops
    result = {
        "device": torch.cuda.get_device_name() if cuda else f"cpu ({platform.processor() or platform.machine()})",
        "tiny": args.tiny,
        "versions": {"torch": torch.__version__, "cuda": torch.version.cuda, "transformers": transformers.__version__,
                     "python": platform.python_version()},
        "mixed_precision": metrics["mixed_precision"],
        "attention": metrics["attention"],
        "model": {key: prepared[key] for key in ("hidden_size", "layers", "heads", "intermediate_size", "vocab_size",
                                                 "tokenizer_vocab", "parameters", "non_embedding_parameters")},
        "calibration": calibration,
        "batch_size": batch_size,
        "batch_size_source": source,
        "max_seq_length": args.max_length,
        "train_texts": n_train,
        "epochs": epochs,
        "optimizer_steps": metrics["optimizer_steps"],
        "tokens_seen": tokens,
        "train_seconds_synchronized": round(seconds, 3) if timer else None,
        "tokens_per_second": round(tokens_per_second, 1),
        "tokens_per_second_pretrain_metrics": metrics["tokens_per_second"],
        "peak_flops": peak,
        "peak_flops_source": args.peak_flops_source,
        "mfu": round(6 * prepared["parameters"] * tokens_per_second / peak, 6),
        "mfu_non_embedding": round(6 * prepared["non_embedding_parameters"] * tokens_per_second / peak, 6),
        "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
        "peak_memory_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2) if cuda else None,
        "initial_validation_loss": metrics["initial_validation_loss"],
        "final_validation_loss": metrics["final_validation_loss"],
        "pretrain_call_seconds": round(pretrain_seconds, 1),
        "prepare_seconds": prepared["prepare_seconds"],
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def summary(result: dict) -> str:
    model = result["model"]
    memory = "n/a (no GPU)" if result["peak_memory_gib"] is None else (
        f"{result['peak_memory_gib']} GiB allocated ({result['peak_memory_reserved_gib']} GiB reserved)")
    calibrated = result["calibration"]
    lines = [
        f"device              {result['device']}  (mixed precision: {result['mixed_precision']}, "
        f"attention: {result['attention']})",
        f"model               hidden {model['hidden_size']}, {model['layers']} layers, {model['heads']} heads, "
        f"vocabulary {model['vocab_size']} (tokenizer {model['tokenizer_vocab']}), {model['parameters']:,} parameters",
        f"batch size          {result['batch_size']} ({result['batch_size_source']}; largest fitting: "
        f"{calibrated.get('max_fitting')}, at {calibrated['max_seq_length']} tokens)",
        f"steps               {result['optimizer_steps']} ({result['epochs']} epoch(s) of {result['train_texts']} "
        f"texts), {result['tokens_seen']:,} real tokens",
        f"tokens/s            {result['tokens_per_second']:,.0f} " + (
            f"(synchronised epochs, {result['train_seconds_synchronized']} s; pretrain()'s own figure: "
            f"{result['tokens_per_second_pretrain_metrics']:,.0f})" if result["train_seconds_synchronized"] is not None
            else "(pretrain()'s own per-step timers: the epoch timer could not be installed)"),
        f"MFU                 {100 * result['mfu']:.1f} % (6 x all parameters; "
        f"{100 * result['mfu_non_embedding']:.1f} % without embeddings) of {result['peak_flops']:.3g} FLOP/s "
        f"[{result['peak_flops_source']}]",
        f"peak GPU memory     {memory}",
        f"validation loss     {result['initial_validation_loss']:.3f} -> {result['final_validation_loss']:.3f}",
    ]
    if result["device"].startswith("cpu"):
        lines.append("note                CPU run (GPU_CHECK_TINY): MFU against a GPU peak means nothing here")
    elif result["mixed_precision"] != "bf16":
        lines.append("WARNING             pretrain() did not use bf16 on this GPU")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="stage", required=True)
    p = sub.add_parser("prepare", help="tweets, tokenizer and a randomly initialised model directory")
    p.add_argument("--workdir", type=Path, required=True)
    p.add_argument("--tweets", type=int, default=200_000)
    p.add_argument("--vocab-size", type=int, default=32768)
    p.add_argument("--hidden-size", type=int, default=768)
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--intermediate-size", type=int, default=3072)
    p.add_argument("--max-length", type=int, default=116)
    p.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("train", help="pre-train with the calibrated batch size and report")
    t.add_argument("--workdir", type=Path, required=True)
    t.add_argument("--calibration", type=Path, required=True, help="calibrate-batch-size's JSON")
    t.add_argument("--output", type=Path, required=True, help="the report (JSON)")
    t.add_argument("--steps", type=int, default=300)
    t.add_argument("--max-length", type=int, default=116)
    t.add_argument("--fallback-batch-size", type=int, default=16)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--peak-flops", type=float, default=None, help=f"default: $GPU_PEAK_FLOPS or {DEFAULT_PEAK_FLOPS:g}")
    t.add_argument("--tiny", action="store_true", help="recorded in the report")
    t.add_argument("--progress", action="store_true", help="pretrain()'s progress bar")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.stage == "prepare":
        prepare(args)
        return
    if args.peak_flops is not None:
        args.peak_flops_source = "--peak-flops"
    elif os.environ.get("GPU_PEAK_FLOPS"):
        args.peak_flops, args.peak_flops_source = float(os.environ["GPU_PEAK_FLOPS"]), "GPU_PEAK_FLOPS"
    else:
        args.peak_flops = DEFAULT_PEAK_FLOPS
        args.peak_flops_source = "default: H100/H200 SXM dense bf16; set GPU_PEAK_FLOPS for another GPU"
    print(summary(train(args)))


if __name__ == "__main__":
    main()
