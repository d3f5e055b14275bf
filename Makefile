# projinv: `make run` serves the portal with demo data; `make test` runs the whole suite.
# Needs only Python 3.11 on the machine: everything else is installed into .venv (and Chromium
# from Debian's packages for the browser tests).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: run test bench install chromium check messages clean

run: $(RUNTIME_STAMP)
	@scripts/run.sh

test: $(DEV_STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2  # two workers, each with its own test databases

bench: $(RUNTIME_STAMP)
	$(BIN)/python manage.py bench

check: $(DEV_STAMP)
	DJANGO_DEBUG=0 $(BIN)/python manage.py check --deploy --fail-level WARNING

install: $(DEV_STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt $(RUNTIME_STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Refresh the message catalogues of the portal's languages (needs gettext: apt-get install gettext).
messages: $(RUNTIME_STAMP)
	for lang in id sv sr eu tr; do $(BIN)/python manage.py makemessages -l $$lang --ignore=.venv --ignore=var \
		--ignore="projinv/bench/*"; done

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
