# `make run` and `make test` each build .venv from nothing on a fresh machine.
PYTHON ?= python3
TORCH_INDEX ?=
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
UNAME := $(shell uname -s)

.PHONY: run test test-fast lint bench gradcheck screenshots clean install-desktop

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
ifeq ($(UNAME),Linux)
	# torch first. On the project's build machines torch==2.13.0 is a CPU build kept on disk; on a
	# plain Linux machine PyPI's torch==2.13.0 is the multi-GB CUDA build: for the CPU build there,
	#   make run TORCH_INDEX=https://download.pytorch.org/whl/cpu
	$(PY) -m pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
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
	$(PY) bench/bench_class.py

gradcheck: $(STAMP)
	$(PY) main.py gradcheck

screenshots: $(STAMP)
	xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) bench/screenshots.py screenshots

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

# Linux desktop integration: the app in the menu, .pt/.pth files open with it (per user).
install-desktop: $(STAMP)
	mkdir -p $(HOME)/.local/share/applications $(HOME)/.local/share/mime/packages \
	    $(HOME)/.local/share/icons/hicolor/256x256/apps $(HOME)/.local/bin
	ln -sf $(abspath $(VENV))/bin/backprop-studio $(HOME)/.local/bin/backprop-studio
	ln -sf $(abspath $(VENV))/bin/backprop-studio-gui $(HOME)/.local/bin/backprop-studio-gui
	cp resources/backprop-studio.desktop $(HOME)/.local/share/applications/
	cp resources/backprop-studio.xml $(HOME)/.local/share/mime/packages/
	cp resources/backprop-studio.png $(HOME)/.local/share/icons/hicolor/256x256/apps/
	-update-mime-database $(HOME)/.local/share/mime
	-update-desktop-database $(HOME)/.local/share/applications
