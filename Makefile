# The README's two commands: `make run` and `make test`. Only Python 3.11+ (with venv) and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint messages bench load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

# Issue 10's benchmarks on PostgreSQL: builds a province-sized year once with seed_scale
# (SCALE=county for a quick one), then prints one `bench NAME ours= floor= ratio= …` line per job.
# REPEAT=1 for a single timed run; BENCH_DB names the database (created when missing).
SCALE ?= province
REPEAT ?= 5
BENCH_DB ?= scale_$(SCALE)
BENCH_URL := postgres://postgres@127.0.0.1:5432/$(BENCH_DB)
BENCH_SMALL := $(if $(filter county,$(SCALE)),yes,)

bench: $(STAMP)
	psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$(BENCH_DB)'" \
	  | grep -q 1 || psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE "$(BENCH_DB)"'
	DATABASE_URL=$(BENCH_URL) $(BIN)/python manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_URL) $(BIN)/python manage.py seed_scale --scale $(SCALE)
	DATABASE_URL=$(BENCH_URL) $(BIN)/python benchmarks/scale.py --repeat $(REPEAT)
	DATABASE_URL=$(BENCH_URL) $(BIN)/python benchmarks/scoring.py --repeat $(REPEAT) $(if $(BENCH_SMALL),--towns 100)
	DATABASE_URL=$(BENCH_URL) $(BIN)/python benchmarks/reviews.py --repeat $(REPEAT) \
	  $(if $(BENCH_SMALL),--ballots 20000 --casts 50)
	# Imports and exports build their own tree of organizations, in a database of their own so
	# that the whole-database numbers above stay those of seed_scale.
	psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$(BENCH_DB)_sheets'" \
	  | grep -q 1 || psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE "$(BENCH_DB)_sheets"'
	DATABASE_URL=$(BENCH_URL)_sheets $(BIN)/python benchmarks/spreadsheets.py --repeat $(REPEAT) \
	  $(if $(BENCH_SMALL),--import-rows 2000 --export-rows 5000)

# Issue 13's load run (benchmarks/load.py): gunicorn + Celery on loopback against its own
# PostgreSQL database (created, migrated and seeded when missing), two phases of DURATION s.
LOAD_DB ?= jobs_load
LOAD_URL := postgres://postgres@127.0.0.1:5432/$(LOAD_DB)
LOAD_BROKER ?= redis://127.0.0.1:6379/12
DURATION ?= 150

load: $(STAMP)
	psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$(LOAD_DB)'" \
	  | grep -q 1 || psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE "$(LOAD_DB)"'
	DATABASE_URL=$(LOAD_URL) $(BIN)/python manage.py migrate --noinput -v0
	DATABASE_URL=$(LOAD_URL) $(BIN)/python manage.py seed_demo > /dev/null
	DATABASE_URL=$(LOAD_URL) CELERY_BROKER_URL=$(LOAD_BROKER) $(BIN)/python benchmarks/load.py --duration $(DURATION)

# Extract strings into locale/zh_Hans (needs GNU gettext) and compile them in pure Python.
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --add-location file
	$(BIN)/python manage.py compilemessages_py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
