# Two commands: `make run` (a working portal with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint typecheck clean messages bench

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	mkdir -p var/broker/queue var/broker/processed
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} PORTAL_BASE_URL=$${PORTAL_BASE_URL:-http://127.0.0.1:$${PORT:-8000}} \
	  $(BIN)/python manage.py load_demo
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} PORTAL_BASE_URL=$${PORTAL_BASE_URL:-http://127.0.0.1:$${PORT:-8000}} \
	  PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start -f Procfile -p $${PORT:-8000}

test: install
	mkdir -p var test-artifacts
	@bash scripts/ensure_test_tools.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy accounts pooling payments statements portal

messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=var --ignore=tests --ignore=bench
	$(BIN)/python manage.py compilemessages --ignore=.venv

bench: install
	$(BIN)/python bench/settlement.py

clean:
	rm -rf var test-artifacts $(VENV)
