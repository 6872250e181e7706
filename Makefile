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

.PHONY: install lab test release autograde bench lint clean html screenshots

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
	@# syncs workspace/, switches off nbgrader's instructor parts for readers,
	@# says so if a JupyterLab already serves workspace/, else prints URL and starts one
	$(BIN)/python -m dlnotes_course.lab

test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -q

release: $(STAMP)
	$(BIN)/dlnotes-release

# static reading copy in site/ (executed chapters cached in build/site-cache/)
html: $(STAMP)
	$(BIN)/python -m dlnotes_course.site

# browser tests, also refreshing the screenshot per chapter in docs/screenshots/
screenshots: $(STAMP)
	DLNOTES_DOC_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/test_browser.py -q

autograde: $(STAMP)
	$(BIN)/dlnotes-grade $(CHAPTER) $(SUBMISSIONS) --out $(OUT)

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check src tests solutions benchmarks

clean:
	rm -rf build site autograder/course
