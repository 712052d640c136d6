#!/usr/bin/env bash
# Writes the hash-pinned locks from pyproject.toml with uv (the `test` extra installs it):
#   requirements/cpu.lock   what `make` and CI install: every extra `make setup` uses, PyTorch's CPU wheel
#                           (torch==2.13.0+cpu, from requirements/cpu-constraints.txt and a CPU wheel index)
#   requirements/cuda.lock  what the GPU rules' conda env installs: the package and its `postgres` extra, with
#                           PyPI's CUDA build of the same torch
# and, from each, the same pins without hashes (cpu.pins, cuda.pins) for the rules' conda environments: conda runs
# one pip call that also installs the package editable, which pip's hash checking forbids.
# Both for CPython 3.11 on x86_64 Linux (manylinux_2_28), the CI machines' and the cluster's platform. Versions
# already in a lock are kept unless pyproject.toml needs others (uv reads the existing file as preferences).
#   requirements/lock.sh            refresh both locks
#   requirements/lock.sh --check    exit 1, showing the difference, when a lock is stale
# TORCH_FIND_LINKS / TORCH_INDEX_URL: where the CPU torch wheel is found (default: /opt/wheels if it exists,
# otherwise https://download.pytorch.org/whl/cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=(test bench focus tensorboard postgres dashboard)  # keep equal to the Makefile's EXTRAS
PLATFORM=(--python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes --no-header --quiet)
if [ -n "${TORCH_FIND_LINKS:-}" ] || { [ -z "${TORCH_INDEX_URL:-}" ] && [ -d /opt/wheels ]; }; then
    torch_source=(--find-links "${TORCH_FIND_LINKS:-/opt/wheels}")
else
    torch_source=(--extra-index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}" --index-strategy unsafe-best-match)
fi

pins() {  # pins <lock>: the lock's requirement lines, without hashes and comments
    sed -e 's/ \\$//' -e '/^ *--hash=/d' -e '/^ *#/d' "$1"
}

compile() {  # compile <lock> <output> <uv args...>
    local lock=$1 output=$2
    shift 2
    [ "$lock" = "$output" ] || cp "$lock" "$output"
    uv pip compile pyproject.toml "${PLATFORM[@]}" --constraint requirements/cpu-constraints.txt -o "$output" "$@"
}

cpu_args=("${EXTRAS[@]/#/--extra=}" "${torch_source[@]}")
cuda_args=(--extra=postgres)
if [ "${1:-}" = "--check" ]; then
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    compile requirements/cpu.lock "$scratch/cpu.lock" "${cpu_args[@]}"
    compile requirements/cuda.lock "$scratch/cuda.lock" "${cuda_args[@]}"
    stale=0
    for name in cpu cuda; do
        pins "$scratch/$name.lock" >"$scratch/$name.pins"
        for file in "$name.lock" "$name.pins"; do
            if ! diff -u "requirements/$file" "$scratch/$file"; then
                echo "requirements/$file disagrees with pyproject.toml: run requirements/lock.sh (make lock)" >&2
                stale=1
            fi
        done
    done
    exit "$stale"
fi
compile requirements/cpu.lock requirements/cpu.lock "${cpu_args[@]}"
compile requirements/cuda.lock requirements/cuda.lock "${cuda_args[@]}"
for name in cpu cuda; do
    pins "requirements/$name.lock" >"requirements/$name.pins"
done
