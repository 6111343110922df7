# One entry point for humans and CI. `make test` installs what it needs by itself.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: all test test-rust lint demo bench fuzz fmt clean

all: test

test: test-rust

test-rust:
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
