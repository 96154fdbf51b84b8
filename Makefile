# Two commands: `make run` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test demo init-db bench browser office screenshots clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  rm -rf $(VENV); \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "python3 -m venv needs Debian's python3-venv; installing it"; \
	    apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); \
	  else \
	    echo "python3 -m venv failed: install python3-venv (sudo apt-get install python3-venv) and retry"; exit 1; \
	  fi; }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

init-db: $(VENV)/.runtime-installed
	$(BIN)/python -c "from database import init_db; init_db()"
	$(BIN)/python manage.py ensure-admin-key

run: init-db
	@if [ "$(HOST)" = 0.0.0.0 ]; then where="http://$$(hostname):$(PORT)"; else where="http://$(HOST):$(PORT)"; fi; \
	  echo "The office page: $$where/ui/   (API docs: $$where/docs; Ctrl+C stops the service)"
	$(BIN)/python serve.py --host $(HOST) --port $(PORT)

# The browser tests drive Debian's Chromium; without it (and without root to install it) they skip.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	      || echo "could not install chromium: the browser tests will be skipped"; \
	  else echo "chromium is not installed (sudo apt-get install chromium): the browser tests will be skipped"; fi; }

# The OD workbook is rendered by LibreOffice in a test (tests/test_od_files_render.py); without it
# (and without root to install it) that test skips.
office:
	@command -v soffice >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's libreoffice-calc-nogui and poppler-utils for the workbook rendering test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      libreoffice-calc-nogui poppler-utils >/dev/null \
	      || echo "could not install LibreOffice: the rendering test will be skipped"; \
	  else echo "LibreOffice is not installed (sudo apt-get install libreoffice-calc-nogui poppler-utils): the rendering test will be skipped"; fi; }

test: $(VENV)/.dev-installed browser office
	$(BIN)/python -m pytest $(PYTEST_ARGS)

screenshots: $(VENV)/.dev-installed browser
	SAVE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/test_ui.py

demo: $(VENV)/.dev-installed
	$(BIN)/python devtools/demo.py

bench: $(VENV)/.dev-installed
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_prices.py
	$(BIN)/python bench/bench_report.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/bench_hostile_workbooks.py
	$(BIN)/python bench/bench_credit.py

clean:
	rm -rf $(VENV) .pytest_cache
