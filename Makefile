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

.PHONY: install system lab test release autograde bench lint clean

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
	$(BIN)/dlnotes-workspace chapters workspace
	@echo "JupyterLab on your working copy (workspace/); stop it with Ctrl-C."
	$(BIN)/jupyter lab --ip=127.0.0.1 --no-browser --notebook-dir=workspace \
		$(if $(filter 0,$(shell id -u)),--allow-root)

test: system $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -q

release: $(STAMP)
	$(BIN)/dlnotes-release

# e.g. make autograde CHAPTER=01_metrics SUBMISSIONS=exports/ GRADE_ARGS="--workers 8 --db postgresql://..."
autograde: $(STAMP)
	$(BIN)/dlnotes-grade $(CHAPTER) $(SUBMISSIONS) --out $(OUT) $(GRADE_ARGS)

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check src tests solutions benchmarks

clean:
	rm -rf build site autograder/course
