# Candlewise — two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON_SYS := $(shell scripts/find-python.sh)
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi:server
HOST ?= 127.0.0.1
PORT ?= 8050
export PYTHONPATH := $(CURDIR)

.PHONY: help venv deps dev-deps migrate seed run serve worker cron stream test test-unit test-fuzz test-integration test-browser test-faults bench clean

help:
	@echo "make run    - set up .venv, migrate, seed demo data, serve http://$(HOST):$(PORT) (+ workers and the stream when REDIS_URL is set)"
	@echo "make test   - set up .venv with test tools and run the whole suite"
	@echo "make serve  - only the web process (gunicorn) on http://$(HOST):$(PORT)"
	@echo "make worker - start one RQ worker on every queue, at lower priority (needs REDIS_URL)"
	@echo "make cron   - start RQ's cron scheduler for the ingest schedule (needs REDIS_URL)"
	@echo "make stream - only the WebSocket stream on ws://127.0.0.1:8060/stream/v1 (needs REDIS_URL; make run starts it)"
	@echo "make test-faults - kill and restart workers, Redis and PostgreSQL under load (tests/faults; part of make test)"
	@echo "make bench  - run every benchmark in bench/"

$(VENV)/.created:
	@test -n "$(PYTHON_SYS)" || { echo "No Python >= 3.12 found (see scripts/find-python.sh)"; exit 1; }
	$(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.deps: requirements.txt $(VENV)/.created
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements-dev.txt requirements.txt $(VENV)/.deps
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

migrate: deps
	@mkdir -p var
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) demo seed

# Process commands live in workers/run.py (compose runs the same subcommands).
run: seed
	$(PY) -m workers.run all --host $(HOST) --port $(PORT)

serve: migrate
	GUNICORN_BIND=$(HOST):$(PORT) $(PY) -m workers.run web

worker: deps
	$(PY) -m workers.run worker

cron: deps
	$(PY) -m workers.run cron

stream: deps
	$(PY) -m workers.run stream

test: dev-deps
	$(PY) -m pytest $(PYTEST_ARGS)

test-faults: dev-deps
	$(PY) -m pytest tests/faults -m faults $(PYTEST_ARGS)

test-unit: dev-deps
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# property-based input fuzzing (bounded; CW_FUZZ_PROFILE=fuzz-deep for a longer hunt)
test-fuzz: dev-deps
	$(PY) -m pytest tests/fuzz $(PYTEST_ARGS)

bench: dev-deps
	@set -e; for b in bench/*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf $(VENV) var .pytest_cache
