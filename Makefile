# dlnotes — every entry point a reader or an instructor needs.
# On a bare machine these create .venv and install everything first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHAPTER ?= 01_metrics
SUBMISSIONS ?= autograder/course/submitted
OUT ?= build/grades/$(CHAPTER)
# pytest workers: the chapter tests share one worker per file (loadfile).
JOBS ?= 2

.PHONY: install lab test release autograde bench lint clean

install: $(STAMP)

# torch is pinned to the CPU build (torch==2.13.0): an unpinned torch pulls a
# multi-GB CUDA build. constraints.txt holds the versions the suite passed with.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

chapters/%.ipynb: solutions/%.py | $(STAMP)
	$(BIN)/dlnotes-release $*

lab: $(STAMP) $(patsubst solutions/%.py,chapters/%.ipynb,$(wildcard solutions/[0-9]*.py))
	$(BIN)/dlnotes-workspace chapters workspace
	@echo "JupyterLab on your working copy (workspace/); stop it with Ctrl-C."
	$(BIN)/jupyter lab --ip=127.0.0.1 --no-browser --notebook-dir=workspace \
		$(if $(filter 0,$(shell id -u)),--allow-root)

test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -q

release: $(STAMP)
	$(BIN)/dlnotes-release

autograde: $(STAMP)
	$(BIN)/dlnotes-grade $(CHAPTER) $(SUBMISSIONS) --out $(OUT)

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check src tests solutions benchmarks

clean:
	rm -rf build site autograder/course
