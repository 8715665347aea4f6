# Wallbreaker: `make run` serves the app with demo data; `make test` runs everything CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
DEV_ENV := DEBUG=1

.PHONY: run test lint bench mutate serve worker backup restore clean

$(VENV)/.installed: pyproject.toml constraints.txt
	@if [[ ! -x $(PY) ]]; then python=$$(.ci/find-python); echo "Creating $(VENV) with $$python"; "$$python" -m venv $(VENV); fi
	@$(PY) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["dev"]))' > $(VENV)/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(VENV)/requirements.txt -c constraints.txt
	@touch $@

run: $(VENV)/.installed
	$(DEV_ENV) $(PY) manage.py migrate --no-input
	$(DEV_ENV) $(PY) manage.py seed_demo --if-empty
	@echo "Wallbreaker runs on http://127.0.0.1:$(PORT)/ — log in as demo / demo"
	@# The outbox worker (chat messages, outgoing webhooks) runs beside the server and stops with it.
	$(DEV_ENV) $(PY) manage.py deliver_outbox & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	  $(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

test: $(VENV)/.installed lint
	@.ci/apt-ensure /usr/bin/chromium chromium fonts-liberation
	$(DEV_ENV) DATABASE_URL=sqlite:///$$(mktemp -d)/demo.sqlite3 bash -c '$(PY) manage.py migrate --no-input -v0 && $(PY) manage.py seed_demo && $(PY) manage.py makemigrations --check --dry-run'
	$(DEV_ENV) .ci/with-postgres $(VENV)/bin/pytest -q $(PYTEST_ARGS)

bench: $(VENV)/.installed
	.ci/with-postgres $(PY) bench/run.py $(BENCH_ARGS)

# Mutation testing of the core modules (slow, not part of `make test`): writes bench/mutation.json.
# MUTATE_ARGS="retros.rotation" runs one module; "--report-only" scores the last run again.
mutate: $(VENV)/.installed
	.ci/with-postgres $(PY) bench/mutate.py $(MUTATE_ARGS)

# The web processes only: run the outbox worker (`make worker`) beside them as its own service.
serve: $(VENV)/.installed
	@echo "Also run the outbox worker (make worker: manage.py deliver_outbox) under your process manager."
	$(PY) manage.py collectstatic --no-input -v0
	$(VENV)/bin/gunicorn config.wsgi --bind 0.0.0.0:$(PORT) --workers $${WEB_CONCURRENCY:-2} --access-logfile -

# The outbox worker: sends chat messages and outgoing webhooks, retrying with backoff. Run one
# or more (they never take the same message); SIGTERM finishes the message in flight.
worker: $(VENV)/.installed
	$(PY) manage.py deliver_outbox

# Backups: pg_dump/pg_restore for PostgreSQL, dumpdata/loaddata for SQLite (DATABASE_URL decides;
# FORMAT=json makes a portable dumpdata backup of any database).
DUMP_EXCLUDES := --exclude contenttypes --exclude auth.permission --exclude sessions \
	--exclude admin.logentry --exclude axes
STAMP = $(shell date +%Y%m%d-%H%M%S)
backup: $(VENV)/.installed
	@case "$(or $(FORMAT),$(DATABASE_URL),sqlite)" in \
	  postgres*) file="$(or $(BACKUP),wallbreaker-$(STAMP).dump)"; \
	    pg_dump --format=custom --no-owner --no-privileges --dbname="$(DATABASE_URL)" --file="$$file";; \
	  *) file="$(or $(BACKUP),wallbreaker-$(STAMP).json)"; \
	    $(PY) manage.py dumpdata --natural-foreign $(DUMP_EXCLUDES) --output "$$file";; \
	esac; echo "Backup written to $$file"

restore: $(VENV)/.installed
	@test -n "$(FILE)" || { echo "Say which backup: make restore FILE=path"; exit 2; }
	@case "$(or $(DATABASE_URL),sqlite)" in \
	  postgres*) pg_restore --no-owner --no-privileges --clean --if-exists --exit-on-error \
	    --dbname="$(DATABASE_URL)" "$(FILE)";; \
	  *) $(PY) manage.py migrate --no-input -v0 && $(PY) manage.py flush --no-input \
	    && $(PY) manage.py loaddata "$(FILE)";; \
	esac; echo "Restored $(FILE)"

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
