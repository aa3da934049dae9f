# Archlens: `make run` to try it, `make test` to check it. See README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: install run serve test lint format bench bench-upgrade bench-api bench-workshop bench-access bench-reports clean load faults

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Archlens needs Python 3.11 ($(PYTHON) not found; set PYTHON=/path/to/python3.11)."; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "Archlens needs Python 3.11; $(PYTHON) is $$($(PYTHON) --version)."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(BIN)/python -c 'import weasyprint' 2>/dev/null || { echo "WeasyPrint cannot load its system libraries (Pango, HarfBuzz)."; echo "On Debian/Ubuntu: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core"; exit 1; }
	touch $(STAMP)

run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_builtin_lens
	$(BIN)/python manage.py load_builtin_profiles
	@echo "Archlens on http://127.0.0.1:$(PORT)/ with a background worker (Ctrl-C stops both)"
	@$(BIN)/celery -A config worker --loglevel=WARNING --concurrency=1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Production-style start on one machine without Docker (README "Running without Docker"):
# DEBUG=0, static files collected, migrations, the built-in lens, then gunicorn (its settings in
# gunicorn.conf.py), one Celery worker and Celery beat. Needs SECRET_KEY (or SECRET_KEY_FILE) and
# ALLOWED_HOSTS in the environment.
BIND ?= 127.0.0.1:$(PORT)
serve: export DEBUG = 0
serve: install
	@test -n "$$SECRET_KEY$$SECRET_KEY_FILE" || { echo "make serve needs SECRET_KEY (or SECRET_KEY_FILE) and ALLOWED_HOSTS; see README.md, Running without Docker."; exit 1; }
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_builtin_lens
	$(BIN)/python manage.py load_builtin_profiles
	@echo "Archlens (DEBUG=0) on http://$(BIND)/ with a worker and beat (Ctrl-C stops all)"
	@$(BIN)/celery -A config worker --loglevel=WARNING & worker=$$!; \
	$(BIN)/celery -A config beat --loglevel=WARNING --schedule "$${ARCHLENS_VAR_DIR:-var}/celerybeat-schedule" & beat=$$!; \
	trap 'kill $$worker $$beat 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --bind $(BIND)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Page benchmark on PostgreSQL: fills BENCH_DATABASE_URL (created when missing) with 1,000
# reviewed workloads, then prints median, p95 and query count of the busiest pages.
# BENCH_ARGS="--workloads 50000" for a large portfolio (bench/README.md, "The busiest pages").
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/archlens_bench
bench: install
	DATABASE_URL="$(BENCH_DATABASE_URL)" $(BIN)/python bench/bench_pages.py $(BENCH_ARGS)

# Upgrading fully answered reviews to a new lens version (bench/bench_upgrade.py); it drops and
# re-creates BENCH_UPGRADE_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/archlens_upgrade_bench).
bench-upgrade: install
	$(BIN)/python bench/bench_upgrade.py $(BENCH_ARGS)

# The API in-process (bench/bench_api.py): UpdateAnswer, a 50-answer ListAnswers page and the
# PDF report; it drops and re-creates BENCH_API_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/archlens_api_bench).
bench-api: install
	$(BIN)/python bench/bench_api.py $(BENCH_ARGS)

# The workshop screen's tick and poll in-process (bench/bench_workshop.py); it drops and re-creates
# BENCH_WORKSHOP_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/archlens_workshop_bench).
bench-workshop: install
	$(BIN)/python bench/bench_workshop.py $(BENCH_ARGS)

# What every page pays before its own work (bench/bench_access.py): access check, session,
# request log; it drops and re-creates BENCH_ACCESS_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/archlens_access_bench).
bench-access: install
	$(BIN)/python bench/bench_access.py $(BENCH_ARGS)

# The PDF reports (bench/report_bench.py): a fully answered lens review, 500 workloads side by side.
bench-reports: install
	$(BIN)/python bench/report_bench.py $(BENCH_ARGS)

# Load test of the workshop screen on PostgreSQL (bench/README.md); not part of `make test`.
# It drops and re-creates LOAD_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/archlens_load).
load: install
	$(BIN)/python bench/load_workshop.py $(LOAD_ARGS)

# Fault tests (bench/README.md): PostgreSQL crashing under load, Redis stopping, a report worker
# killed. They start a PostgreSQL cluster and a Redis server of their own on free loopback ports.
faults: install
	$(BIN)/python bench/faults.py $(FAULT_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis *.egg-info
