# Two commands for a newcomer: `make run` and `make test`. Both start with `make install`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HTMX := static/vendor/htmx.min.js

.PHONY: install run test lint format bench clean translations screenshots

CATALOGS := huddle/translations
MO_FILES := $(patsubst %.po,%.mo,$(wildcard $(CATALOGS)/*/LC_MESSAGES/messages.po))

install: $(BIN)/.installed $(HTMX) $(MO_FILES)
	@mkdir -p instance
	$(FLASK) db upgrade

# The Dutch and English catalogs, compiled for the app (the .mo files are not in git).
$(CATALOGS)/%/LC_MESSAGES/messages.mo: $(CATALOGS)/%/LC_MESSAGES/messages.po $(BIN)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

# After changing texts: take new and changed messages into the catalogs, then translate them.
translations: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-output -o $(CATALOGS)/messages.pot .
	$(BIN)/pybabel update -i $(CATALOGS)/messages.pot -d $(CATALOGS) --no-fuzzy-matching --ignore-obsolete

# Reinstall only when a requirements file changes.
$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# htmx comes from the npm registry at the version pinned in package-lock.json.
$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

run: install
	$(FLASK) demo-data --if-empty
	$(FLASK) dev

# The README's pictures, taken in Chromium by the browser tests (docs/screenshots/*.png).
screenshots: install
	HUDDLE_SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest -q tests/browser/test_screenshots.py tests/browser/test_browser_layout.py

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python bench/users_list_bench.py

clean:
	rm -rf $(VENV) node_modules static/vendor
