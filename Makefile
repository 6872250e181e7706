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

.PHONY: install system lab test release autograde bench lint clean html screenshots

install: system $(STAMP)

# Debian packages behind the grading sandbox and the real-server tests:
# bubblewrap (sandbox), postgresql (gradebook test server), chromium (browser tests).
# Installed with apt-get when missing and run as root; otherwise say what to install.
system:
	@missing=""; \
	command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "apt-get install$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "dlnotes: install the Debian packages$$missing (as root: apt-get install$$missing)"; \
	  fi; \
	fi

# torch is pinned to the CPU build (torch==2.13.0): an unpinned torch pulls a
# multi-GB CUDA build. constraints.txt holds the versions the suite passed with.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,cluster]'
	touch $(STAMP)

chapters/%.ipynb: solutions/%.py | $(STAMP)
	$(BIN)/dlnotes-release $*

lab: $(STAMP) $(patsubst solutions/%.py,chapters/%.ipynb,$(wildcard solutions/[0-9]*.py))
	@# syncs workspace/, switches off nbgrader's instructor parts for readers,
	@# says so if a JupyterLab already serves workspace/, else prints URL and starts one
	$(BIN)/python -m dlnotes_course.lab

test: system $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -q

release: $(STAMP)
	$(BIN)/dlnotes-release

# static reading copy in site/ (executed chapters cached in build/site-cache/)
html: $(STAMP)
	$(BIN)/python -m dlnotes_course.site

# browser tests, also refreshing the screenshot per chapter in docs/screenshots/
screenshots: $(STAMP)
	DLNOTES_DOC_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/test_browser.py -q

# e.g. make autograde CHAPTER=01_metrics SUBMISSIONS=exports/ GRADE_ARGS="--workers 8 --db postgresql://..."
autograde: $(STAMP)
	$(BIN)/dlnotes-grade $(CHAPTER) $(SUBMISSIONS) --out $(OUT) $(GRADE_ARGS)

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check src tests solutions benchmarks

clean:
	rm -rf build site autograder/course
