# kdsharp developer entry points. Each target sets up what it needs, so on a
# fresh machine `make demo` and `make test` are all it takes (see README.md).

PYTHON311 ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
VS_PY := .venv-vs/bin/python
SAMPLE := samples/pier-soft.jpg

.PHONY: venv venv-dev venv-vs gimp-root demo test test-main test-vs bench clean

# Runtime only (core + CLI): what the demo needs.
$(VENV)/.runtime: setup.cfg pyproject.toml
	$(PYTHON311) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

# Everything for development and tests: trainer (torch 2.13.0 CPU), video, webcam, bench.
$(VENV)/.dev: $(VENV)/.runtime
	$(PY) -m pip install -q -e ".[train,video,cam,bench,dev]"
	touch $@

venv: $(VENV)/.runtime
venv-dev: $(VENV)/.dev

# VapourSynth needs Python >= 3.12: a second venv.
venv-vs:
	bash scripts/setup_vs_venv.sh

# Debian 13 root with real GIMP 3 (cached in ~/.cache/kdsharp).
gimp-root:
	bash scripts/build_gimp_root.sh

demo: $(VENV)/.runtime
	$(VENV)/bin/kdsharp sharpen $(SAMPLE) -o out/ --side-by-side
	@echo "wrote out/ (sharpened photo and an input | output comparison)"

test-main: $(VENV)/.dev gimp-root
	bash scripts/setup_cam_test_deps.sh $(PY)
	$(PY) -m pytest -m "not vapoursynth"

test-vs: venv-vs
	$(VS_PY) -m pytest -m vapoursynth tests/plugins/vapoursynth tests/bench

test: test-main test-vs

bench: $(VENV)/.dev
	$(VENV)/bin/kdsharp bench

clean:
	rm -rf $(VENV) .venv-vs out .pytest_cache
