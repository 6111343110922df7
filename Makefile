# One entry point for humans and CI. `make test` installs what it needs by itself.
SHELL := /bin/bash
CARGO ?= cargo
PYTHON ?= python3
VENV := .venv
FUZZ_SECONDS ?= 600

.PHONY: all test test-rust test-python test-node lint demo bench bench-rust bench-python bench-node fuzz fmt clean

all: test

test: test-rust test-python test-node

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean

# ---- Rust core (and CLI) ---------------------------------------------------------------
# Benches are not run here (they are `make bench`); examples are built.
test-rust:
	$(CARGO) test --workspace --lib --bins --tests --examples
	$(CARGO) test --workspace --doc

bench: bench-rust bench-python bench-node

bench-rust:
	@echo "(rust benchmarks: see core/benches)"

fuzz:
	@echo "(fuzz: see fuzz/)"

# ---- Reference host (cli/) -------------------------------------------------------------
demo:
	@echo "(demo: see cli/)"

# ---- Python binding (bindings-python/) -------------------------------------------------
test-python:
	@echo "(python binding: not yet)"

bench-python:
	@echo "(python bench: not yet)"

# ---- Node binding (bindings-node/) -----------------------------------------------------
test-node:
	@echo "(node binding: not yet)"

bench-node:
	@echo "(node bench: not yet)"
