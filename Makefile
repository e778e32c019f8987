# Two commands matter: `make run` and `make test`. Both set everything up from nothing.
SHELL := /bin/bash
PYTHON_VERSION ?= 3.11
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
CHROMIUM ?= /usr/bin/chromium
# `make test` runs the date-sensitive tests again with the clock moved to these instants (tests/clock.py)
TEST_CLOCKS ?= 2026-12-31T23:30:00+08:00 2028-02-29T12:00:00+08:00
DATE_TESTS := tests/points tests/tasks tests/campaigns tests/lottery tests/mall tests/referrals tests/levels tests/partners tests/test_seed_demo.py

.PHONY: run test test-faults redis-server bench bench-http bench-leaderboard wrk setup deps services browsers messages lint typecheck pytest migrate seed clean

## make run: install, migrate, seed the demo campaign, start web + worker + beat on http://127.0.0.1:8000
run: setup migrate seed
	@echo "Portal: http://127.0.0.1:8000   Admin: http://127.0.0.1:8000/admin/   API docs: http://127.0.0.1:8000/api/docs/"
	$(VENV)/bin/honcho start -f Procfile

## make test: install everything (deps, Chromium, databases) and run every gate and test
test: setup browsers lint typecheck
	DJANGO_SETTINGS_MODULE=config.settings.test $(MANAGE) makemigrations --check --dry-run
	$(PY) -m pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)
	@set -e; for clock in $(TEST_CLOCKS); do echo "== date-sensitive tests at PM_TEST_CLOCK=$$clock"; \
		PM_TEST_CLOCK=$$clock $(PY) -m pytest $(DATE_TESTS) -m "not browser and not slow and not celery" -q -p no:cacheprovider; \
	done

## make test-faults: kill -9 of the Celery worker, a Redis outage and terminated database connections, against real
## processes it starts on 127.0.0.1 (own Redis, gunicorn, worker, beat, a fresh database): tests/faults/run_faults.py
test-faults: setup redis-server
	$(PY) tests/faults/run_faults.py

redis-server:
	@command -v redis-server >/dev/null || (echo "Installing redis-server from Debian for the fault tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server)

## make bench: every bench/ script; each prints a `RESULT name key=value ...` line
bench: setup migrate wrk
	@set -e; for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script; done

## make bench-http: bench/api_http.py alone (the API's hot paths under gunicorn and wrk; BENCH_HTTP_SECONDS per endpoint)
bench-http: setup migrate wrk
	$(PY) bench/api_http.py

## make bench-leaderboard: bench/leaderboard.py alone (the invite leaderboard API with 1,000,000 members; BENCH_LB_SIZE, BENCH_LB_SECONDS)
bench-leaderboard: setup migrate wrk
	$(PY) bench/leaderboard.py

wrk:
	@command -v wrk >/dev/null || (echo "Installing wrk from Debian for bench/api_http.py"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)

setup: deps services messages

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv

deps: $(UV)
	$(UV) sync --frozen --python $(PYTHON_VERSION)

services: deps
	$(PY) -m config.check_services

messages: deps
	@if command -v msgfmt >/dev/null; then $(MANAGE) compilemessages --ignore=.venv --ignore=.tools -v 0; \
	else echo "msgfmt not found: using the committed .mo files (apt-get install gettext to rebuild them)"; fi

browsers:
	@missing=""; [ -x $(CHROMIUM) ] || missing="chromium"; \
	[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing="$$missing fonts-noto-cjk"; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	if [ -n "$$missing" ]; then \
		echo "Installing from Debian for browser and translation tests:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

lint: deps
	$(PY) -m ruff check .

typecheck: deps
	$(PY) -m mypy .

migrate: deps services
	$(MANAGE) migrate --noinput

seed: migrate
	$(MANAGE) seed_demo

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache staticfiles
