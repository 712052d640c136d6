# The two quick-start commands: `make demo` (set up, run the demo workflow, write report.html) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export HF_HUB_OFFLINE := 1
# A package index holding CPU-only PyTorch wheels, e.g. https://download.pytorch.org/whl/cpu. Empty: torch comes from
# the default index, which on Linux serves the CUDA build of the pinned version (several GB).
TORCH_INDEX_URL ?=

.PHONY: demo test setup clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements/cpu-constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX_URL),--extra-index-url $(TORCH_INDEX_URL)) \
		--constraint requirements/cpu-constraints.txt --editable '.[test,bench,focus,tensorboard,postgres,dashboard]'
	touch $@

demo: setup
	$(BIN)/snakemake --cores 2
	$(BIN)/snakemake --cores 2 --report report.html
	@echo "report: $(CURDIR)/report.html"

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf results logs .snakemake report.html
