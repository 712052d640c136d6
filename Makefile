# The two quick-start commands: `make demo` (set up, run the demo workflow, write report.html) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export HF_HUB_OFFLINE := 1
# A package index holding CPU-only PyTorch wheels, e.g. https://download.pytorch.org/whl/cpu, where pip's own
# configuration does not already find the CPU wheel that requirements/cpu.lock pins (torch==2.13.0+cpu).
TORCH_INDEX_URL ?=
# The extras `make setup` installs; requirements/lock.sh locks the same list.
EXTRAS := test,bench,focus,tensorboard,postgres,dashboard

.PHONY: demo test setup lock clean

setup: $(VENV)/.installed

# Every dependency comes from the lock, at its version and checked against its hashes; then the package itself,
# editable (pip cannot hash a source folder, so it is a second call that installs nothing else), and pip's check that
# the lock held everything the package needs.
$(VENV)/.installed: pyproject.toml requirements/cpu.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX_URL),--extra-index-url $(TORCH_INDEX_URL)) \
		--require-hashes --no-deps --requirement requirements/cpu.lock
	$(BIN)/python -m pip install --quiet --no-deps --editable '.[$(EXTRAS)]'
	$(BIN)/python -m pip check
	touch $@

# Refreshes requirements/cpu.lock and requirements/cuda.lock from pyproject.toml (after changing a dependency).
lock: setup
	requirements/lock.sh

demo: setup
	$(BIN)/snakemake --cores 2
	$(BIN)/snakemake --cores 2 --report report.html
	@echo "report: $(CURDIR)/report.html"

# Lint first (ruff, as configured in pyproject.toml): a finding fails the run before the tests start.
test: setup
	$(BIN)/ruff check
	$(BIN)/python -m pytest

clean:
	rm -rf results logs .snakemake report.html
