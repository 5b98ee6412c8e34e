# The two commands of the README: `make demo` and `make test`. Both set up what they need.
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install install-demo browser redis-tools lint

## What the demo runs on: livesupport and its own dependencies, nothing of the tests.
$(VENV)/.installed-demo: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

## The test tools on top (pytest, Playwright, ruff, mypy...).
$(VENV)/.installed-test: $(VENV)/.installed-demo pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install-demo: $(VENV)/.installed-demo
install: $(VENV)/.installed-test

## Start livesupport with demo data on its embedded defaults (SQLite file in ./data, in-process broker).
## Another address: make demo HOST=0.0.0.0 PORT=9000
demo: install-demo
	$(VENV)/bin/livesupport demo --host $(HOST) --port $(PORT)

## Debian's Chromium for the browser tests (Playwright's own download is not used), and Debian's Dovecot for the
## IMAP tests (started by the tests themselves from a temporary configuration, never as a system service).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-dejavu-core; }
	@test -x /usr/sbin/dovecot || command -v dovecot >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq dovecot-imapd; }

## Debian's redis-server and redis-cli (7 or newer: sharded pub/sub) for the Redis Cluster and Sentinel tests, which
## start their own servers on free loopback ports (never 6379, which the tests reach as TEST_REDIS).
redis-tools:
	@redis-server --version 2>/dev/null | grep -Eq 'v=([7-9]|[1-9][0-9])\.' && command -v redis-cli >/dev/null 2>&1 || { \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server redis-tools; \
		redis-server --version | grep -Eq 'v=([7-9]|[1-9][0-9])\.' || { echo "redis-server 7+ is needed"; exit 1; }; }

lint: install
	$(VENV)/bin/ruff check livesupport tests
	$(VENV)/bin/mypy livesupport

## Install everything the tests need, then run all of them (set CI=true to fail, not skip, on a missing service).
test: install browser redis-tools lint
	$(VENV)/bin/pytest -q -rs
