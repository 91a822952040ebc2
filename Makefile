# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP_VERSION := 26.3
SETUPTOOLS_VERSION := 80.9.0
UV_VERSION  := 0.13.8
export FLASK_APP := wsgi
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install lock run worker test lint test-sqlite test-postgres bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# Every package, direct or not, at the version and with the hashes of requirements.lock;
# the project itself on top, without letting pip choose anything else.
$(STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet pip==$(PIP_VERSION) setuptools==$(SETUPTOOLS_VERSION)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# After changing a pin in pyproject.toml: write requirements.lock again (every transitive
# package pinned, with hashes), then `make install`.
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes --universal \
		--python-version 3.11 --quiet -o requirements.lock

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed --if-empty
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# The job queue's worker, with Celery beat inside it (licenses daily, profile counts every minute).
# Needs REDIS_URL, the same as the web process's; without REDIS_URL, `make run` does the jobs itself.
worker: install
	@test -n "$$REDIS_URL" || { echo "make worker needs REDIS_URL, e.g. REDIS_URL=redis://127.0.0.1:6379/0 make worker" >&2; exit 2; }
	$(BIN)/celery -A worker:celery worker --beat --loglevel=INFO

# ruff (lint and format), mypy on the package, and the import contract (rooms import only downward).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Lint first, then the whole suite on SQLite, then again on PostgreSQL when a server answers.
test: lint
	$(BIN)/python -m pytest
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)'.replace('+psycopg',''), connect_timeout=3).close()" 2>/dev/null; then \
		echo "== the whole suite again on PostgreSQL ($(PG_TEST_URL)) =="; \
		TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest; \
	else \
		echo "SKIPPED: the PostgreSQL run of the suite: no server answered at $(PG_TEST_URL)"; \
	fi

# Every benchmark (bench/run.py): SIZE=quick (about ten minutes), SIZE=national (400,000 therapists) or smoke;
# ONLY=search,http picks some; BENCH_DATABASE_URL names the database each one's own extends. The tables
# print as they run; all the figures go to bench/results/summary.json. Not part of `make test`.
SIZE ?= quick
bench: install
	$(BIN)/python bench/run.py --size $(SIZE) $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf $(VENV) .pytest_cache
