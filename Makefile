# The two commands of the README: `make demo` and `make test`. Both set up what they need.
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install browser lint

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

## Start livesupport with demo data on its embedded defaults (SQLite file in ./data, in-process broker).
demo: install
	$(VENV)/bin/livesupport demo --host $(HOST) --port $(PORT)

## Debian's Chromium for the browser tests (Playwright's own download is not used).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-dejavu-core; }

lint: install
	$(VENV)/bin/ruff check livesupport tests
	$(VENV)/bin/mypy livesupport

## Install everything the tests need, then run all of them (set CI=true to fail, not skip, on a missing service).
test: install browser lint
	$(VENV)/bin/pytest -q
