# `make run` and `make test` each build .venv from nothing on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
UNAME := $(shell uname -s)

.PHONY: run test test-fast lint bench gradcheck screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
ifeq ($(UNAME),Linux)
	# The CPU build of torch; an unpinned torch pulls a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
endif
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) main.py

lint: $(STAMP)
	$(VENV)/bin/ruff check engine gui tests bench main.py
	$(VENV)/bin/ruff format --check engine gui tests bench main.py
	$(VENV)/bin/lint-imports

# Everything, slow real training runs included (what CI runs).
test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

# For iteration: skips the `slow` marker.
test-fast: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not slow"

bench: $(STAMP)
	$(PY) bench/bench_engine.py
	$(PY) bench/bench_gui.py
	$(PY) bench/bench_sweep.py
	$(PY) bench/bench_userfn.py
	$(PY) bench/bench_internals.py

gradcheck: $(STAMP)
	$(PY) main.py gradcheck

screenshots: $(STAMP)
	xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) bench/screenshots.py screenshots

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
