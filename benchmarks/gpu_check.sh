#!/usr/bin/env bash
# One-GPU check of the pre-training stage, in under 5 minutes on an H100/H200:
#   1. generate tweets with the demo generator, train a WordPiece tokenizer on them and save a randomly initialised
#      BERT-base-sized model (hidden 768, 12 layers, 12 heads, 32768-row embedding) with it;
#   2. `tweetbert calibrate-batch-size` on that model at the study's max length (116);
#   3. pre-train it with the calibrated batch for a few hundred steps through tweetbert's Python API (`pretrain`,
#      which `tweetbert pretrain-candidate` calls; bf16 autocast on the GPU);
#   4. print tokens/s, MFU, peak GPU memory and the calibrated batch size; write gpu_check.json to the work
#      directory and, when $OUT is set, to $OUT/gpu_check.json.
#
# Needs: the package and its dependencies installed with a CUDA build of torch, e.g. `python -m venv .venv &&
# .venv/bin/pip install -e .` (the Linux x86-64 torch wheels on PyPI are CUDA builds). Run from anywhere:
#     bash benchmarks/gpu_check.sh
# Python: $PYTHON, else .venv/bin/python of the repository, else python3. With GPU_CHECK_VENV=DIR a venv is created
# there first (if missing) with `pip install -e .`: that needs network access and takes minutes (not counted in
# the 5). Without a CUDA device the script refuses, unless GPU_CHECK_TINY=1, which runs every step on the CPU with
# a tiny model (hidden 64, 2 layers) and few tweets, so the logic can be exercised anywhere (~1 min).
#
# Settings (environment):
#   GPU_PEAK_FLOPS        the GPU's peak bf16 FLOP/s for MFU (default 989e12: H100/H200 SXM, dense, no sparsity;
#                         e.g. 312e12 for an A100)
#   GPU_CHECK_STEPS       optimizer steps (default 300; tiny 20)
#   GPU_CHECK_TWEETS      tweets generated (default 200000; tiny 3000)
#   GPU_CHECK_MAX_LENGTH  max sequence length, calibration and truncation (default 116)
#   GPU_CHECK_VOCAB       embedding rows (default 32768; tiny 0 = the tokenizer's size)
#   GPU_CHECK_THREADS     torch CPU threads and tokeniser workers (default min(8, cores); tiny 1)
#   GPU_CHECK_WORKDIR     work directory (default a new temporary one, removed at the end unless GPU_CHECK_KEEP=1)
#   OUT                   if set, gpu_check.json is copied there
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
    STEPS=${GPU_CHECK_STEPS:-20}
    TWEETS=${GPU_CHECK_TWEETS:-3000}
    VOCAB=${GPU_CHECK_VOCAB:-0}
    THREADS=${GPU_CHECK_THREADS:-1}
    MODEL_ARGS=(--hidden-size 64 --layers 2 --heads 2 --intermediate-size 256)
else
    STEPS=${GPU_CHECK_STEPS:-300}
    TWEETS=${GPU_CHECK_TWEETS:-200000}
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

say "pre-training for $STEPS steps"
tiny_flag=()
if [[ $TINY == 1 ]]; then
    tiny_flag=(--tiny)
fi
"$PY" benchmarks/gpu_check.py train --workdir "$WORK" --calibration "$WORK/calibration.json" \
    --output "$WORK/gpu_check.json" --steps "$STEPS" --max-length "$MAX_LENGTH" --threads "$THREADS" \
    --progress ${tiny_flag[@]+"${tiny_flag[@]}"}

# (d) results
if [[ -n ${OUT:-} ]]; then
    mkdir -p "$OUT"
    cp "$WORK/gpu_check.json" "$OUT/gpu_check.json"
    say "wrote $OUT/gpu_check.json"
fi
elapsed=$(( SECONDS - started ))
say "done in ${elapsed} s"
if (( elapsed > 300 )); then
    say "note: over the 5-minute budget; lower GPU_CHECK_STEPS or GPU_CHECK_TWEETS"
fi
