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

# The course hub's environment (make hub, tests/test_hub.py): a venv every user
# of the machine can read, from Debian's python3, with JupyterHub's proxy from npm.
HUB_PREFIX ?= /opt/dlnotes-hub
HUB_PYTHON ?= /usr/bin/python3
HUB_STAMP  := $(HUB_PREFIX)/.installed
IS_ROOT    := $(filter 0,$(shell id -u))

.PHONY: install system lab test release autograde bench lint clean html screenshots hub hub-env

install: system $(STAMP)

# Debian packages behind the grading sandbox and the real-server tests:
# bubblewrap (sandbox), postgresql (gradebook test server), chromium (browser tests),
# python3-venv and npm (the course hub's environment and proxy).
# Installed with apt-get when missing and run as root; otherwise say what to install.
system:
	@missing=""; \
	command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	$(HUB_PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
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
	$(BIN)/python -m dlnotes_course.lab --install-settings
	touch $(STAMP)

# A chapter's release is built only when it is missing: git gives a fresh clone's
# files checkout times, so a rule on the source's time would re-release them all.
# After editing a source, `make release` (the chapter tests fail while a release
# is out of sync with its source).
CHAPTER_RELEASES := $(patsubst solutions/%.py,chapters/%.ipynb,$(wildcard solutions/[0-9]*.py))
chapters/%.ipynb: | $(STAMP)
	$(BIN)/dlnotes-release $*

lab: $(STAMP) | $(CHAPTER_RELEASES)
	@# syncs workspace/, switches off nbgrader's instructor parts for readers,
	@# says so if a JupyterLab already serves workspace/, else prints URL and starts one
	$(BIN)/python -m dlnotes_course.lab

# Debian's python3, not .venv's: other users (the hub's students) must be able to run it.
# dlnotes is installed as a copy (not editable), refreshed when src/ changes.
hub-env: $(HUB_STAMP)
$(HUB_STAMP): pyproject.toml hub/constraints.txt hub/package.json hub/package-lock.json \
		$(shell find src -name '*.py')
	@test -n "$(IS_ROOT)" || { echo "make hub-env: writes $(HUB_PREFIX); run it as root"; exit 1; }
	test -x $(HUB_PREFIX)/bin/python || $(HUB_PYTHON) -m venv $(HUB_PREFIX)
	$(HUB_PREFIX)/bin/python -m pip install --quiet --upgrade pip
	$(HUB_PREFIX)/bin/python -m pip install --quiet -c hub/constraints.txt torch==2.13.0
	$(HUB_PREFIX)/bin/python -m pip install --quiet -c hub/constraints.txt '.[hub]'
	mkdir -p $(HUB_PREFIX)/proxy
	cp hub/package.json hub/package-lock.json $(HUB_PREFIX)/proxy/
	cd $(HUB_PREFIX)/proxy && npm ci --quiet --no-audit --no-fund
	$(HUB_PREFIX)/bin/python -m dlnotes_course.lab --install-settings
	chmod -R a+rX $(HUB_PREFIX)
	touch $(HUB_STAMP)

# a demo course hub on 127.0.0.1 (one instructor, two students), as root; Ctrl-C stops it
hub: $(STAMP) hub-env
	$(BIN)/python -m dlnotes_course.hub

test: system $(STAMP) $(if $(IS_ROOT),hub-env)
	$(BIN)/ruff check src tests solutions benchmarks
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -q

release: $(STAMP)
	$(BIN)/dlnotes-release

# static reading copy in site/ (executed chapters cached in build/site-cache/)
html: $(STAMP)
	$(BIN)/python -m dlnotes_course.site

# browser tests, also refreshing the screenshot per chapter in docs/screenshots/
screenshots: $(STAMP)
	DLNOTES_DOC_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/test_browser.py tests/test_hub.py -q

# e.g. make autograde CHAPTER=01_metrics SUBMISSIONS=exports/ GRADE_ARGS="--workers 8 --db postgresql://..."
autograde: $(STAMP)
	$(BIN)/dlnotes-grade $(CHAPTER) $(SUBMISSIONS) --out $(OUT) $(GRADE_ARGS)

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check src tests solutions benchmarks

clean:
	rm -rf build site autograder/course
