# Newsflow developer commands. `make help` lists them.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help install run test test-unit lint fmt bench lock

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# constraints.txt pins every third-party package to the versions CI tested (`make lock`).
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]' -c constraints.txt
	rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP) ## create .venv and install Newsflow with its dev tools

run: $(STAMP) ## process seeds/ on the embedded default (private Redis + SQLite index)
	$(VENV)/bin/newsflow run seeds/documents

test: lint ## lint, then every test, against a real Elasticsearch the tests install and start (see README)
	$(VENV)/bin/pytest -q

test-unit: $(STAMP) ## the quick loop: unit tests only
	$(VENV)/bin/pytest -q tests/unit

lint: $(STAMP) ## ruff check, ruff format --check, mypy
	$(VENV)/bin/ruff check pipeline workers config tests bench
	$(VENV)/bin/ruff format --check -q pipeline workers config tests bench
	$(VENV)/bin/mypy pipeline workers config

fmt: $(STAMP) ## ruff format
	$(VENV)/bin/ruff format pipeline workers config tests bench

bench: $(STAMP) ## run the benchmark scripts (needs ../shared/bench)
	for s in bench/*.py; do echo "== $$s"; $(PY) $$s || exit 1; done

lock: $(STAMP) ## pin the installed third-party versions into constraints.txt (after changing pyproject.toml)
	$(PY) -m pip freeze --exclude-editable --disable-pip-version-check > constraints.txt
