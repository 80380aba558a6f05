# `make run` and `make test` each build .venv from nothing on a fresh machine.
PYTHON ?= python3
TORCH_INDEX ?=
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
UNAME := $(shell uname -s)

.PHONY: run test test-fast lint bench gradcheck screenshots clean install-desktop translations

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

# The window's translations: Qt Linguist sources (.ts, kept in git) compiled to .qm. The app
# compiles a missing or stale one itself on first use (pip installs), this only does it ahead.
TS := $(wildcard gui/translations/*.ts)
QM := $(TS:.ts=.qm)
gui/translations/%.qm: gui/translations/%.ts $(STAMP)
	$(VENV)/bin/pyside6-lrelease -silent $< -qm $@

# After changing strings in gui/: update the sources (new strings come in unfinished; translate
# them with pyside6-linguist), then `make test` checks that none is left unfinished.
# The engine's messages (the check's diagnoses): GNU gettext .po sources, their .mo kept in git.
translations: $(STAMP)
	$(VENV)/bin/pyside6-lupdate $$(git ls-files 'gui/*.py') -ts $(TS) -no-obsolete -locations none
	pot=$$(mktemp --suffix=.pot) && \
	xgettext -L Python --keyword=_ --keyword=N_ --from-code=UTF-8 --no-location --sort-output -o $$pot $$(git ls-files 'engine/*.py') && \
	for po in engine/locale/*/LC_MESSAGES/*.po; do \
	    msgmerge --quiet --update --backup=none --no-fuzzy-matching --no-location --sort-output $$po $$pot && \
	    msgfmt --check -o $${po%.po}.mo $$po || exit 1; \
	done; rm -f $$pot

run: $(STAMP) $(QM)
	$(PY) main.py

lint: $(STAMP)
	$(VENV)/bin/ruff check engine gui tests bench main.py
	$(VENV)/bin/ruff format --check engine gui tests bench main.py
	$(VENV)/bin/lint-imports

# Everything, slow real training runs included (what CI runs).
test: lint $(QM)
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
