# curator: `make demo` runs the main job offline; `make test` passes the tests from nothing.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench screenshots clean install

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/curator demo

lint: $(STAMP)
	$(VENV)/bin/ruff check curator tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint
	$(VENV)/bin/pytest -q --ignore=tests/bench

bench: $(STAMP)
	$(VENV)/bin/pytest -q -s tests/bench

screenshots: $(STAMP)
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
