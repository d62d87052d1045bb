# montool: monitoring-as-code compiler. `make help` lists the targets.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.montool-installed
SPEC   ?= spec
OUTPUT ?= output
APT_PACKAGES := prometheus prometheus-alertmanager

.DEFAULT_GOAL := help
.PHONY: help setup tools build test check update-golden bench example-envs clean

help: ## Show this help
	@echo "Targets:"
	@awk -F ':.*## ' '/^[a-z][a-z-]*:.*## / { printf "  %-14s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

tools: ## Install promtool, amtool, prometheus and alertmanager (Debian packages) if missing
	@missing=""; \
	for t in promtool amtool prometheus; do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	command -v alertmanager >/dev/null 2>&1 || command -v prometheus-alertmanager >/dev/null 2>&1 || missing="$$missing alertmanager"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing$$missing from Debian packages: $(APT_PACKAGES)"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(APT_PACKAGES); \
	  else \
	    echo "missing:$$missing" >&2; \
	    echo "install them as root with: apt-get update && apt-get install --no-install-recommends $(APT_PACKAGES)" >&2; \
	    exit 1; \
	  fi; \
	fi

setup: $(STAMP) tools ## Create .venv, install montool into it, and make sure the tools are there

build: setup ## Compile $(SPEC) into $(OUTPUT)/ and validate it
	$(BIN)/montool build $(SPEC) -o $(OUTPUT)

test: setup ## Run the whole test suite
	$(BIN)/pytest -q

check: setup ## Fail if $(OUTPUT)/ is not what $(SPEC) compiles to
	$(BIN)/montool build --check $(SPEC) -o $(OUTPUT)

update-golden: setup ## Refresh the expected trees of the golden test cases
	$(BIN)/pytest -q --update-golden tests/test_golden.py

example-envs: setup ## Build the Jsonnet example spec for staging and production into build/envs/
	for env in staging production; do $(BIN)/montool build tests/specs/jsonnet-envs --ext-str env=$$env -o build/envs/$$env || exit 1; done

bench: setup ## Benchmark N = 10, 100, 1000 services and the rules' evaluation cost (figures in bench/results/)
	$(BIN)/python bench/run.py

clean: ## Remove caches (keeps .venv and output/)
	rm -rf .pytest_cache build
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +
