#!/usr/bin/env bash
# The first thing to run on a GPU node: pre-training of a BERT-base-sized model on one GPU, the workflow's way.
#   1. generate tweets with the demo generator, train a WordPiece tokenizer on them and save a randomly initialised
#      BERT-base-sized model (hidden 768, 12 layers, 12 heads, 32768-row embedding) with it;
#   2. `tweetbert calibrate-batch-size` on that model at the study's max length (116);
#   3. pre-train it through tweetbert's Python API (`pretrain`, which `tweetbert pretrain-candidate` calls: token
#      data written once by `tokenize_corpus`, a sampled validation, checkpoints by the clock written in the
#      background, bf16 autocast on the GPU) in four cells: {the study's batch 55, the calibrated batch} x
#      {compile off, compile on}, compile-off cells first, validation and checkpoints at the study's proportions;
#   4. print, per cell, tokens/s (steady: compile warm-up left out), MFU, the validation and checkpointing shares of
#      wall time (measured, and projected to the study's proportions), peak GPU memory, and what bounds batch 55;
#      write gpu_check.json to the work directory and, when $OUT is set, to $OUT/gpu_check.json (both rewritten
#      after every cell, so a run cut short keeps the cells it finished).
# Not yet run on a GPU. Estimated on an H100/H200: ~2.5 minutes without the compile cells; each compile cell adds
# its compiling (one graph per padded batch width and mode, 5-6 here). benchmarks/README.md says what to expect.
#
# Needs: the package and its dependencies installed with a CUDA build of torch, e.g. `python -m venv .venv &&
# .venv/bin/pip install -e .` (the Linux x86-64 torch wheels on PyPI are CUDA builds). Run from anywhere:
#     bash benchmarks/gpu_check.sh
# Python: $PYTHON, else .venv/bin/python of the repository, else python3. With GPU_CHECK_VENV=DIR a venv is created
# there first (if missing) with `pip install -e .`: that needs network access and takes minutes (not counted
# above). Without a CUDA device the script refuses, unless GPU_CHECK_TINY=1, which runs every step on the CPU with
# a tiny model (hidden 64, 2 layers), few tweets and no compile cells (inductor on a CPU takes 30-60 s a graph), so
# the logic can be exercised anywhere (~30 s on 2 cores).
#
# Settings (environment):
#   GPU_PEAK_FLOPS              the GPU's peak bf16 FLOP/s for MFU (default 989e12: H100/H200 SXM, dense, no
#                               sparsity; e.g. 312e12 for an A100)
#   GPU_CHECK_STEPS             optimizer steps at the study's batch (default 300; tiny 12)
#   GPU_CHECK_CALIBRATED_STEPS  optimizer steps at the calibrated batch (default 60; tiny 12)
#   GPU_CHECK_COMPILE           compile settings to run: off,on (default), off or on (tiny: off)
#   GPU_CHECK_SAVE_MINUTES      checkpoints by the clock, in minutes (default 0.5; tiny 0.01); one more is taken
#                               just past mid-run whatever the clock says
#   GPU_CHECK_TWEETS            tweets generated (default 100000; tiny 3000)
#   GPU_CHECK_MAX_LENGTH        max sequence length, calibration and truncation (default 116)
#   GPU_CHECK_VOCAB             embedding rows (default 32768; tiny 0 = the tokenizer's size)
#   GPU_CHECK_THREADS           torch CPU threads and tokeniser workers (default min(8, cores); tiny 1)
#   GPU_CHECK_WORKDIR           work directory (default a new temporary one, removed at the end unless
#                               GPU_CHECK_KEEP=1)
#   OUT                         if set, gpu_check.json is written there too
set -euo pipefail

started=$SECONDS
say() { echo "[gpu_check $(date +%H:%M:%S)] $*" >&2; }
die() { echo "[gpu_check] error: $*" >&2; exit 1; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

TINY=${GPU_CHECK_TINY:-0}
[[ $TINY == 0 || $TINY == 1 ]] || die "GPU_CHECK_TINY must be 0 or 1, got '$TINY'"
cores=$(nproc 2>/dev/null || echo 1)
if [[ $TINY == 1 ]]; then
    STEPS=${GPU_CHECK_STEPS:-12}
    CALIBRATED_STEPS=${GPU_CHECK_CALIBRATED_STEPS:-12}
    COMPILE=${GPU_CHECK_COMPILE:-off}
    SAVE_MINUTES=${GPU_CHECK_SAVE_MINUTES:-0.01}
    TWEETS=${GPU_CHECK_TWEETS:-3000}
    VOCAB=${GPU_CHECK_VOCAB:-0}
    THREADS=${GPU_CHECK_THREADS:-1}
    MODEL_ARGS=(--hidden-size 64 --layers 2 --heads 2 --intermediate-size 256)
else
    STEPS=${GPU_CHECK_STEPS:-300}
    CALIBRATED_STEPS=${GPU_CHECK_CALIBRATED_STEPS:-60}
    COMPILE=${GPU_CHECK_COMPILE:-off,on}
    SAVE_MINUTES=${GPU_CHECK_SAVE_MINUTES:-0.5}
    TWEETS=${GPU_CHECK_TWEETS:-100000}
    VOCAB=${GPU_CHECK_VOCAB:-32768}
    THREADS=${GPU_CHECK_THREADS:-$(( cores < 8 ? cores : 8 ))}
    MODEL_ARGS=(--hidden-size 768 --layers 12 --heads 12 --intermediate-size 3072)
fi
MAX_LENGTH=${GPU_CHECK_MAX_LENGTH:-116}

# (a) the Python environment
if [[ -n ${GPU_CHECK_VENV:-} ]]; then
    if [[ ! -x $GPU_CHECK_VENV/bin/python ]]; then
        say "creating the venv $GPU_CHECK_VENV and installing the package (needs network; takes minutes)"
        python3 -m venv "$GPU_CHECK_VENV"
        "$GPU_CHECK_VENV/bin/python" -m pip install --quiet --upgrade pip
        "$GPU_CHECK_VENV/bin/python" -m pip install --quiet -e "$ROOT"
    fi
    PY=$GPU_CHECK_VENV/bin/python
elif [[ -n ${PYTHON:-} ]]; then
    PY=$PYTHON
elif [[ -x $ROOT/.venv/bin/python ]]; then
    PY=$ROOT/.venv/bin/python
else
    PY=$(command -v python3) || die "no python3 on PATH; set PYTHON=/path/to/python"
fi
say "python: $PY"

# `tweetbert` next to that Python when installed, else the same entry point as a module
if [[ -x $(dirname "$PY")/tweetbert ]]; then
    TWEETBERT=("$(dirname "$PY")/tweetbert")
else
    TWEETBERT=("$PY" -m tweetbert.cli)
fi

GPU_CHECK_TINY=$TINY "$PY" - <<'PYTHON' || exit 1
import os, sys
try:
    import torch, transformers, accelerate, tweetbert  # noqa: F401
except ImportError as error:
    sys.exit(f"[gpu_check] error: {error}. Install the package with its dependencies first: pip install -e . "
             "(with a CUDA build of torch)")
tiny = os.environ["GPU_CHECK_TINY"] == "1"
if torch.cuda.is_available():
    name = torch.cuda.get_device_name()
    bf16 = torch.cuda.is_bf16_supported()
    print(f"[gpu_check] torch {torch.__version__} (CUDA {torch.version.cuda}), {torch.cuda.device_count()} GPU(s), "
          f"using {name}; bf16 {'supported' if bf16 else 'NOT supported: pretrain() will run in float32'}",
          file=sys.stderr)
    if torch.cuda.device_count() > 1:
        print("[gpu_check] note: only the first GPU is used (CUDA_VISIBLE_DEVICES selects another)", file=sys.stderr)
elif tiny:
    print(f"[gpu_check] torch {torch.__version__}: no CUDA device; GPU_CHECK_TINY=1, so a tiny model on the CPU "
          "(numbers are not GPU numbers)", file=sys.stderr)
else:
    built = f"built with CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
    sys.exit(f"[gpu_check] error: torch {torch.__version__} ({built}) sees no CUDA device. This check needs one "
             "GPU. To exercise its logic on a CPU with a tiny model, run with GPU_CHECK_TINY=1.")
PYTHON

# work directory
if [[ -n ${GPU_CHECK_WORKDIR:-} ]]; then
    WORK=$GPU_CHECK_WORKDIR
    mkdir -p "$WORK"
else
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
    if [[ ${GPU_CHECK_KEEP:-0} != 1 ]]; then
        trap 'rm -rf "$WORK"' EXIT
    fi
fi
say "work directory: $WORK"

# (b) tweets, tokenizer, model
say "generating $TWEETS tweets, training the tokenizer, building the model (${MODEL_ARGS[*]}, vocabulary $VOCAB)"
"$PY" benchmarks/gpu_check.py prepare --workdir "$WORK" --tweets "$TWEETS" --vocab-size "$VOCAB" \
    --max-length "$MAX_LENGTH" "${MODEL_ARGS[@]}"

# (c) calibration, then pre-training
say "tweetbert calibrate-batch-size at $MAX_LENGTH tokens"
"${TWEETBERT[@]}" calibrate-batch-size --model "$WORK/model" --max-seq-length "$MAX_LENGTH" \
    --output "$WORK/calibration.json"
say "calibration: $(tr -d '\n ' < "$WORK/calibration.json")"

say "pre-training: $STEPS steps at the study's batch, $CALIBRATED_STEPS at the calibrated one, compile $COMPILE"
extra=()
if [[ $TINY == 1 ]]; then
    extra+=(--tiny)
    if [[ $COMPILE == off ]]; then
        say "tiny mode: no compile-on cells (inductor on a CPU takes 30-60 s a graph); GPU_CHECK_COMPILE=off,on runs them"
    fi
fi
if [[ -n ${OUT:-} ]]; then
    extra+=(--copy-to "$OUT/gpu_check.json")
fi
"$PY" benchmarks/gpu_check.py train --workdir "$WORK" --calibration "$WORK/calibration.json" \
    --output "$WORK/gpu_check.json" --steps "$STEPS" --calibrated-steps "$CALIBRATED_STEPS" --compile "$COMPILE" \
    --save-every-minutes "$SAVE_MINUTES" --max-length "$MAX_LENGTH" --threads "$THREADS" --progress \
    ${extra[@]+"${extra[@]}"}

elapsed=$(( SECONDS - started ))
say "done in ${elapsed} s"
if (( elapsed > 300 )) && [[ $TINY == 0 ]]; then
    say "note: over the 5-minute budget; the JSON says what each cell spent (warmup.extra_seconds: compiling)"
fi
