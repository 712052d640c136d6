# The two quick-start commands: `make demo` (set up, run the demo workflow, write report.html) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export HF_HUB_OFFLINE := 1

.PHONY: demo test setup clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements/cpu-constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint requirements/cpu-constraints.txt --editable '.[test,bench,focus,tensorboard,postgres]'
	touch $@

demo: setup
	$(BIN)/snakemake --cores 2
	$(BIN)/snakemake --cores 2 --report report.html
	@echo "report: $(CURDIR)/report.html"

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf results logs .snakemake report.html
