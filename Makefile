# One entry point for humans and CI. `make test` installs what it needs by itself.
SHELL := /bin/bash
CARGO ?= cargo
PYTHON ?= python3
VENV := .venv
FUZZ_SECONDS ?= 600
# Where cargo builds: CARGO_TARGET_DIR when set (cargo's own rule), else target/.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

.PHONY: test-api-node-ruby test-deps api-test-deps workspace-hack test-browser-django django-example test-browser-express express-example test-browser-rails rails-example rails-deps dist test-packages check-metadata metadata test-suites test-api test-ruby ruby-deps ruby-native ruby-gem bench-ruby cli-test-deps bench-cli bench-parse bench-callgrind all test test-rust python-env test-python test-node node-deps lint demo bench bench-rust bench-python bench-shards-python bench-invite bench-node fuzz fmt clean web-ui-deps web-ui chromium test-browser screenshots bench-web

all: test

# Every suite against PostgreSQL and Redis: the servers LBU_PG_URL / LBU_REDIS_URL name, or
# throwaway ones started for this run and stopped after it (scripts/with-services.sh).
test:
	bash scripts/with-services.sh $(MAKE) --no-print-directory test-suites

# The packages the suites install (PyPI, npm, Debian's when missing) are fetched while the
# Rust tests compile (test-deps, in the background: it waits on the network and the disk
# more than on the CPU); every suite still names what it needs, found there by then. Both
# logs are printed when both have ended, the build's last, so a failure's cause ends the output.
test-suites: check-metadata
	@mkdir -p target; $(MAKE) --no-print-directory test-deps > target/test-deps.log 2>&1 & deps=$$!; \
	  date +'== test-rust-build started at %T (test-deps alongside: target/test-deps.log)'; \
	  BULK_UPLOAD_TEST_PYTHON=$(CURDIR)/$(VENV)/bin/python BULK_UPLOAD_REQUIRE_SMTP=1 \
	    $(CARGO) test --workspace --lib --bins --tests --examples --no-run --quiet \
	    > target/test-build.log 2>&1; built=$$?; \
	  wait $$deps; fetched=$$?; cat target/test-deps.log target/test-build.log; \
	  [ $$fetched = 0 ] || echo "== test-deps failed (exit $$fetched): its log is above"; \
	  [ $$built = 0 ] || { echo "== the Rust test build failed (exit $$built): its output is above"; df -h target; }; \
	  [ $$built = 0 ] && [ $$fetched = 0 ]
	$(MAKE) --no-print-directory test-rust
	$(MAKE) --no-print-directory -j2 -k --output-sync=target test-python test-api-node-ruby
	$(MAKE) --no-print-directory test-packages test-browsers
	@date +'== every suite passed at %T'

# Two lanes after the Rust tests: Python's suite (one process, a core left idle most of the
# time) beside the web API's, Node's and Ruby's, one after the other; each lane's output is
# printed whole when it ends. Every suite has its own temporary folders, databases, schemas,
# queue names and ports (port 0), so they can share the machine and its servers.
test-api-node-ruby:
	$(MAKE) --no-print-directory test-api test-node test-ruby

test-deps: cli-test-deps python-env api-test-deps node-deps web-ui-deps ruby-deps rails-deps chromium

# Every package has the workspace's version (Cargo.toml) and carries the licence texts:
# checked here, written by `make metadata` (scripts/release-metadata.py).
check-metadata:
	$(PYTHON) scripts/release-metadata.py

metadata:
	$(PYTHON) scripts/release-metadata.py --write

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# After a dependency change: workspace-hack/ again gives the members that depend on it (all
# but the core, which stays free of it for embedders) the same features of the crates they
# share: one build of the core for the tests, the CLI and every binding (docs/DECISIONS.md).
workspace-hack:
	command -v cargo-hakari >/dev/null || $(CARGO) install --locked cargo-hakari
	$(CARGO) hakari generate

clean:
	$(CARGO) clean

# ---- Rust core (and CLI) ---------------------------------------------------------------
# Benches are not run here (they are `make bench`); examples are built.
test-rust: cli-test-deps
	@date +'== $@ started at %T'
	BULK_UPLOAD_TEST_PYTHON=$(CURDIR)/$(VENV)/bin/python BULK_UPLOAD_REQUIRE_SMTP=1 \
	  $(CARGO) test --workspace --lib --bins --tests --examples
	$(CARGO) test --workspace --doc

bench: bench-rust bench-python bench-shards-python bench-node bench-ruby bench-invite

bench-rust: bench-parse
	@echo "(rust benchmarks: see core/benches)"
	$(MAKE) --no-print-directory bench-cli
	$(CARGO) bench -p lms-bulk-upload --bench plan_execute
	$(CARGO) bench -p lms-bulk-upload --bench plan_execute_mimalloc
	$(CARGO) bench -p lms-bulk-upload --bench plan_heap

# Parse + validate against the raw csv crate, on 1 thread and on every core, best of 3
# (generates bench-data/users-1m.csv, 1,000,000 rows, ~85 MB, if absent), the hostile files
# of issue 10 beside clean files of the same size (time and peak heap per MB), then the peak
# memory of parsing that file on 1 thread and on every core (docs/PERFORMANCE.md).
bench-parse:
	$(CARGO) bench -p lms-bulk-upload --bench parse
	$(CARGO) bench -p lms-bulk-upload --bench parse_hostile
	$(CARGO) build --release -p lms-bulk-upload --example parse_file
	for threads in 1 0; do \
	  THREADS=$$threads /usr/bin/time -v $(TARGET_DIR)/release/examples/parse_file bench-data/users-1m.csv \
	    2> bench-data/parse_file.time >/dev/null; \
	  awk -v size=$$(stat -c %s bench-data/users-1m.csv) -v threads=$$threads '/Maximum resident set size/ { \
	    printf "peak RSS of parse_file (threads %s): %.1f MB for a %.1f MB file = %.2f x the file size (goal <= 1.5x)\n", \
	    threads == 0 ? "0: every core" : threads, $$6 * 1024 / 1e6, size / 1e6, $$6 * 1024 / size }' bench-data/parse_file.time; \
	done

# Instructions per row of parse (1 and 2 threads) and of plan, counted by callgrind: the same
# to a few instructions on a busy machine, so a regression shows in a review. valgrind comes
# from Debian (installed here when missing). CALLGRIND_ROWS rows (scripts/bench-callgrind.sh).
CALLGRIND_ROWS ?= 100000
bench-callgrind:
	command -v valgrind >/dev/null || { $$(command -v sudo) apt-get update -qq && \
	  $$(command -v sudo) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind; }
	$(CARGO) build --release -p lms-bulk-upload --example count_instructions
	ROWS=$(CALLGRIND_ROWS) BIN=$(TARGET_DIR)/release/examples/count_instructions bash scripts/bench-callgrind.sh

# Every fuzz target (fuzz/, its own workspace, nightly), FUZZ_SECONDS each: `parse` on
# arbitrary bytes and options, `whole_path` (parse -> settings -> plan -> JSON -> execute),
# `plan_json` (untrusted plans). New inputs go to fuzz/target/corpus/<target>; crashes to
# fuzz/artifacts/<target> (replayed by make test).
# Per input: FUZZ_TIMEOUT seconds (a slow unit is a crash), FUZZ_MALLOC_MB for one
# allocation and FUZZ_RSS_MB for the whole process (libFuzzer's own corpus included);
# the parse target also holds each input to `heap_bound` (core/tests/harness/parse.rs).
FUZZ_TARGETS ?= parse whole_path plan_json
FUZZ_TIMEOUT ?= 5
FUZZ_MALLOC_MB ?= 64
FUZZ_RSS_MB ?= 1024
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/target/corpus/$$t && \
	  (cd fuzz && $(CARGO) +nightly fuzz run $$t target/corpus/$$t corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=$(FUZZ_TIMEOUT) \
	    -malloc_limit_mb=$(FUZZ_MALLOC_MB) -rss_limit_mb=$(FUZZ_RSS_MB)) || exit 1; \
	done

# ---- Reference host (cli/) -------------------------------------------------------------
# The SMTP test runs a real SMTP server: aiosmtpd from PyPI, in the repo's venv.
cli-test-deps:
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -c "import aiosmtpd" 2>/dev/null || $(VENV)/bin/python -m pip install -q aiosmtpd

# The web API against its OpenAPI document: schemathesis (PyPI, in the repo's venv) on a
# running `bulk-upload serve` with a signed-in session, MAX_EXAMPLES per operation (a few
# seconds); any 5xx fails.
test-api: cli-test-deps api-test-deps
	@date +'== $@ started at %T'
	$(CARGO) build -p lms-bulk-upload-cli
	BIN=$(TARGET_DIR)/debug/bulk-upload bash web/scripts/test-api.sh

api-test-deps: cli-test-deps
	$(VENV)/bin/python -c "import schemathesis" 2>/dev/null || $(VENV)/bin/python -m pip install -q schemathesis

# A debug build is plenty for 50 rows (and shares the test build).
demo:
	$(CARGO) build -p lms-bulk-upload-cli
	BIN=$(TARGET_DIR)/debug/bulk-upload bash cli/scripts/demo.sh

# `bulk-upload apply` of 100,000 new users with a default password into a fresh database.
bench-cli:
	$(CARGO) build --release -p lms-bulk-upload-cli
	BIN=$(TARGET_DIR)/release/bulk-upload bash cli/scripts/bench.sh

# New users' credentials side by side (issue 22): personal sign-in links against generated
# passwords, through the CLI on SQLite with an outbox (100,000 and 1,000,000 users;
# passwords extrapolated from 10,000), then the Python binding with a Python store on SQLite.
bench-invite: python-env
	$(CARGO) build --release -p lms-bulk-upload-cli
	BIN=$(TARGET_DIR)/release/bulk-upload bash cli/scripts/bench-invite.sh
	$(MATURIN) develop -q --release -m bindings-python/Cargo.toml
	$(PY) bindings-python/bench/bench_invite.py

# ---- Python binding (bindings-python/) -------------------------------------------------
# The venv is shared (the CLI's tests use it too): created once, never deleted here.
PY := $(VENV)/bin/python
MATURIN := VIRTUAL_ENV=$(CURDIR)/$(VENV) $(VENV)/bin/maturin

python-env:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q maturin pytest mypy "celery[redis]" "psycopg[binary]" argon2-cffi "django>=4.2"

test-python: python-env
	@date +'== $@ started at %T'
	$(MATURIN) develop -q -m bindings-python/Cargo.toml
	$(PY) -m pytest bindings-python/tests -q
	# The Django example's store on PostgreSQL (its sign-in links): Django's runner, a test database of its own.
	cd examples/python/django_lms && DATABASE_URL=$(DJANGO_DB)_test_$$$$ $(CURDIR)/$(PY) manage.py test lms -v 1
	$(PY) -m mypy.stubtest lms_bulk_upload --allowlist bindings-python/stubtest-allowlist.txt
	cd bindings-python && MYPYPATH=../examples/python ../$(PY) -m mypy --strict tests bench python/lms_bulk_upload ../examples/python

# The binding beside the core in Rust, pure Python, and polars' and pandas' bare reads (from
# PyPI, installed here into the venv: `make test` does not need them).
bench-python: python-env
	$(PY) -m pip install -q polars pandas
	$(MATURIN) develop -q --release -m bindings-python/Cargo.toml
	$(PY) bindings-python/bench/bench_parse.py

# The Celery example (real PostgreSQL and Redis): 4,000 generated passwords, 1 vs 2 workers.
bench-shards-python: python-env
	$(MATURIN) develop -q --release -m bindings-python/Cargo.toml
	$(PY) bindings-python/bench/bench_shards.py

# ---- Node binding (bindings-node/) -----------------------------------------------------
NODE_DIR := bindings-node

# npm ci from the committed lock (npm install if there is none), a debug build of the addon
# (scripts/node-addon.sh: plain cargo, sharing the tests' build of the core), every test
# under bindings-node/test, two files at a time (node's default on 2 cores is one; each file
# has its own temporary folders, stores and ports), the TypeScript declarations
# checked. The index.d.ts / index.js napi generates are compared with the committed ones by
# test-packages (scripts/dist/node.sh).
test-node: node-deps
	@date +'== $@ started at %T'
	bash scripts/node-addon.sh
	cd $(NODE_DIR) && node --test --test-concurrency=2 test/
	cd $(NODE_DIR) && npx tsc -p test/types
	# Against the real PostgreSQL and Redis (LBU_PG_URL, LBU_REDIS_URL): fails, never skips, without them.
	cd examples/node/bullmq-shards && node --test test/
	cd examples/node/express_lms && node --test test/
	# The examples run as their headers say (the binding resolved through examples/node/package.json).
	node examples/node/quickstart.js > /dev/null

# npm ci in a folder unless its node_modules was installed after its package.json and lock
# were last changed (npm writes node_modules/.package-lock.json as it ends).
NPM_CI = if [ -f package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ] && \
  [ node_modules/.package-lock.json -nt package.json ]; then :; \
  elif [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

node-deps:
	cd $(NODE_DIR) && $(NPM_CI)
	cd examples/node/bullmq-shards && $(NPM_CI)
	cd examples/node && $(NPM_CI)
	cd examples/node/express_lms && $(NPM_CI)

# Parse + validate of bench-data/users-1m.csv: the core in Rust and the binding, each on 1 thread
# and on every core, beside csv-parse + a regex + a Set (node --expose-gc: a full GC before each run).
bench-node: node-deps
	cd $(NODE_DIR) && npx napi build --platform --release
	cd $(NODE_DIR) && node --expose-gc bench/parse.js

# ---- Ruby binding (bindings-ruby/, uniffi) ----------------------------------------------
RUBY_DIR := bindings-ruby
RUBY_LIB := $(RUBY_DIR)/lib/lms_bulk_upload
RUBY_SO := liblms_bulk_upload_ruby.$(if $(filter Darwin,$(shell uname -s)),dylib,so)
RUBY_GENERATED := $(RUBY_LIB)/lms_bulk_upload_native.rb

# Debian's ruby, ruby-ffi, ruby-minitest, ruby-activerecord, ruby-sqlite3 (installed when
# missing and apt is usable; otherwise it says what to install).
ruby-deps:
	bash $(RUBY_DIR)/scripts/deps.sh

# A debug build of the native library, copied next to the generated module (its debug info
# left out where `strip -S` is there: GNU's and macOS's both take it), which is regenerated
# from it by the uniffi-bindgen of this workspace.
ruby-native:
	$(CARGO) build -p lms-bulk-upload-ruby --features bindgen --lib --bin uniffi-bindgen
	cp $(TARGET_DIR)/debug/$(RUBY_SO) $(RUBY_LIB)/$(RUBY_SO)
	strip -S $(RUBY_LIB)/$(RUBY_SO) 2>/dev/null || true
	$(TARGET_DIR)/debug/uniffi-bindgen generate $(TARGET_DIR)/debug/$(RUBY_SO) --language ruby --no-format --out-dir $(RUBY_LIB)

# Every test under bindings-ruby/test (scenarios, host objects, journal, ActiveRecord example,
# README quickstart, the gem built and installed), after the generated Ruby is compared with
# the committed one.
test-ruby: ruby-deps ruby-native
	@date +'== $@ started at %T'
	git diff --exit-code -- $(RUBY_GENERATED)
	cd $(RUBY_DIR) && ruby -Itest -e 'Dir.glob("test/test_*.rb").sort.each { |f| require File.expand_path(f) }'

# A release gem for this machine: bindings-ruby/lms_bulk_upload-<version>-<platform>.gem (the
# release profile leaves debug info out). Every gem, checked: `make dist`.
ruby-gem: ruby-deps
	$(CARGO) build --release -p lms-bulk-upload-ruby --lib
	cp $(TARGET_DIR)/release/$(RUBY_SO) $(RUBY_LIB)/$(RUBY_SO)
	cd $(RUBY_DIR) && gem build lms_bulk_upload.gemspec

# LmsBulkUpload.parse of bench-data/users-1m.csv, on 1 thread and on every core, against the
# core's own parse (timed inside Rust) and Ruby's CSV + a regex + a Set.
bench-ruby: ruby-deps
	test -f bench-data/users-1m.csv || $(CARGO) bench -p lms-bulk-upload --bench parse
	$(CARGO) build --release -p lms-bulk-upload-ruby --lib
	cp $(TARGET_DIR)/release/$(RUBY_SO) $(RUBY_LIB)/$(RUBY_SO)
	ruby $(RUBY_DIR)/bench/parse.rb bench-data/users-1m.csv

# ---- Packages (scripts/dist/) -----------------------------------------------------------
# Every artifact that can be built here, each checked (dist/python, dist/node, dist/ruby):
# abi3 wheels for manylinux and musllinux, x86_64 and aarch64, and the sdist (auditwheel
# show); the npm platform packages for linux x64/arm64 gnu/musl and the main package; the
# platform gems for the same four and the source gem (compiled by cargo when installed).
# Cross builds (zig from PyPI, cargo-zigbuild from crates.io): long. macOS and Windows:
# .github/workflows/release.yml, run elsewhere. DIST_TARGETS="x86_64-unknown-linux-gnu ..."
# builds some of the Linux targets only.
dist: python-env node-deps ruby-deps
	$(PY) -m pip install -q ziglang auditwheel
	bash scripts/dist/python.sh all
	bash scripts/dist/node.sh all
	bash scripts/dist/ruby.sh all

# This machine's wheel, npm packages and gem only, each installed in a clean environment (a
# venv, an empty npm project, an empty GEM_HOME) running its README quickstart, and the
# index.d.ts / index.js napi generates compared with the committed ones. They are packed from
# the tests' own debug build (target/debug, shared by the three through workspace-hack/:
# nothing but the Node binding is compiled again), since what is tested is the packaging; the
# wheel is tagged `linux` (`make dist` builds the release packages, the manylinux wheels with
# zig, and audits them: neither zig nor auditwheel is needed here).
test-packages: python-env node-deps ruby-deps
	@date +'== $@ started at %T'
	bash scripts/dist/python.sh host
	bash scripts/dist/node.sh host
	bash scripts/dist/ruby.sh host

# ---- The administrator's screens (web/ui/, served by `bulk-upload serve`) -------------
UI_DIR := web/ui

web-ui-deps:
	cd $(UI_DIR) && $(NPM_CI)

# Type-checks and builds the bundle (esbuild, deterministic) and fails when it differs from
# the committed web/ui/dist (the binary serves the committed files).
web-ui: web-ui-deps
	! grep -rnE 'innerHTML|outerHTML|insertAdjacentHTML|document\.write' $(UI_DIR)/src || { echo "web/ui/src: values become text nodes or attributes, never markup"; exit 1; }
	cd $(UI_DIR) && npm run build
	git diff --exit-code -- $(UI_DIR)/dist || { echo "web/ui/dist differs from the committed bundle: commit the rebuilt files"; exit 1; }

# The browser suite against the reference server and the three framework examples, two
# suites at a time (each mostly waits on its browser and its server): everything they need
# is built first, one thing at a time; each suite's output is printed whole when it ends.
# The longest first (on 2 cores: Django ~230 s, Rails ~160, Express ~150, the reference
# server ~100), so that the two lanes end together.
test-browsers: chromium web-ui python-env node-deps rails-deps ruby-native
	@date +'== $@ started at %T'
	$(CARGO) build -p lms-bulk-upload-cli
	$(MATURIN) develop -q -m bindings-python/Cargo.toml
	bash scripts/node-addon.sh
	cd examples/ruby/rails_lms && ruby test/test_rails_lms.rb
	$(MAKE) --no-print-directory -j2 -k --output-sync=target browser-suite-django browser-suite-rails browser-suite-express browser-suite-server

browser-suite-server:
	cd $(UI_DIR) && BULK_UPLOAD_BIN=$(abspath $(TARGET_DIR))/debug/bulk-upload node --test --test-concurrency=1 test/*.test.mjs
browser-suite-django:
	cd $(UI_DIR) && BULK_UPLOAD_BIN=$(abspath $(TARGET_DIR))/debug/bulk-upload BULK_UPLOAD_TARGET=django BULK_UPLOAD_PYTHON=$(CURDIR)/$(PY) node --test --test-concurrency=1 test/*.test.mjs
browser-suite-express:
	cd $(UI_DIR) && BULK_UPLOAD_BIN=$(abspath $(TARGET_DIR))/debug/bulk-upload BULK_UPLOAD_TARGET=express node --test --test-concurrency=1 test/*.test.mjs
browser-suite-rails:
	cd $(UI_DIR) && BULK_UPLOAD_BIN=$(abspath $(TARGET_DIR))/debug/bulk-upload BULK_UPLOAD_TARGET=rails node --test --test-concurrency=1 test/*.test.mjs

# Debian's Chromium, installed when missing (never a browser download by npm/playwright).
chromium:
	test -x /usr/bin/chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; }

# Every screen in a real browser against the real `bulk-upload serve` on a temp SQLite
# database and outbox (web/ui/test/*.test.mjs); its screenshots go to a temporary folder,
# so a run leaves the work tree clean.
test-browser: chromium web-ui
	$(CARGO) build -p lms-bulk-upload-cli
	$(MAKE) --no-print-directory browser-suite-server

# The same suite against the example Django LMS (examples/python/django_lms: the screens
# mounted at /admin/bulk-upload/ by lms_bulk_upload.contrib.django), a fresh PostgreSQL
# database per test file (LBU_PG_URL), runs on a Celery worker when LBU_REDIS_URL is set.
test-browser-django: chromium web-ui python-env
	$(MATURIN) develop -q -m bindings-python/Cargo.toml
	$(MAKE) --no-print-directory browser-suite-django

# The example Django LMS on the local PostgreSQL (DATABASE_URL, or the database django_lms),
# seeded, served at http://127.0.0.1:8000/admin/bulk-upload/ (runs on a thread; set
# CELERY_BROKER_URL, and start `celery -A django_lms worker` beside it, for Celery).
DJANGO_DB ?= postgresql://postgres@127.0.0.1:5432/django_lms
django-example: python-env
	$(MATURIN) develop -q -m bindings-python/Cargo.toml
	psql "$(DJANGO_DB:/django_lms=/postgres)" -qc "CREATE DATABASE django_lms" 2>/dev/null || true
	cd examples/python/django_lms && DATABASE_URL=$${DATABASE_URL:-$(DJANGO_DB)} $(CURDIR)/$(PY) manage.py migrate -v 0
	cd examples/python/django_lms && DATABASE_URL=$${DATABASE_URL:-$(DJANGO_DB)} $(CURDIR)/$(PY) manage.py seed_demo
	cd examples/python/django_lms && DATABASE_URL=$${DATABASE_URL:-$(DJANGO_DB)} $(CURDIR)/$(PY) manage.py runserver 127.0.0.1:8000

# The same suite against the example Express LMS (examples/node/express_lms:
# `lms-bulk-upload/express` mounted at /admin/bulk-upload/), a fresh PostgreSQL database per
# test file (LBU_PG_URL), runs on BullMQ when LBU_REDIS_URL is set.
test-browser-express: chromium web-ui node-deps
	bash scripts/node-addon.sh
	$(MAKE) --no-print-directory browser-suite-express

# The example Express LMS on the local PostgreSQL (DATABASE_URL, or the database
# express_lms), seeded, served at http://127.0.0.1:3000/admin/bulk-upload/ (runs on BullMQ
# with REDIS_URL).
EXPRESS_DB ?= postgresql://postgres@127.0.0.1:5432/express_lms
express-example: node-deps
	bash scripts/node-addon.sh
	psql "$(EXPRESS_DB:/express_lms=/postgres)" -qc "CREATE DATABASE express_lms" 2>/dev/null || true
	cd examples/node/express_lms && DATABASE_URL=$${DATABASE_URL:-$(EXPRESS_DB)} node seed.js
	cd examples/node/express_lms && DATABASE_URL=$${DATABASE_URL:-$(EXPRESS_DB)} node app.js

# The example Rails LMS's own test (its whole stack through Rack requests on a temporary
# SQLite file, the run on ActiveJob's async adapter), then the same browser suite against it
# (examples/ruby/rails_lms: `LmsBulkUpload::Web` mounted at /admin/bulk-upload/ in its
# routes, served by Puma), a fresh PostgreSQL database per test file (LBU_PG_URL), runs as
# ActiveJob jobs on a Sidekiq worker when LBU_REDIS_URL is set (the async adapter otherwise).
test-browser-rails: chromium web-ui rails-deps ruby-native
	cd examples/ruby/rails_lms && ruby test/test_rails_lms.rb
	$(MAKE) --no-print-directory browser-suite-rails

# Debian's ruby-rails (6.1), ruby-sidekiq, puma, ruby-pg and ruby-redis besides ruby-deps'.
rails-deps:
	bash $(RUBY_DIR)/scripts/deps.sh rails

# The example Rails LMS on SQLite (examples/ruby/rails_lms/db/lms.sqlite3; DATABASE_URL for
# PostgreSQL), seeded, served by Puma at http://127.0.0.1:3000/admin/bulk-upload/ (runs on
# ActiveJob's async adapter; REDIS_URL, and `sidekiq -r .` beside it, for Sidekiq).
rails-example: rails-deps ruby-native
	cd examples/ruby/rails_lms && ruby bin/seed
	cd examples/ruby/rails_lms && ruby -S puma -C config/puma.rb

# The same suite, writing its screenshots into docs/screenshots/ (the README's pictures):
# run it when a screen changed, and commit the pictures.
screenshots: chromium web-ui
	$(CARGO) build -p lms-bulk-upload-cli
	cd $(UI_DIR) && SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots node --test --test-concurrency=1 test/*.test.mjs

# Report on screen for 1,000,000 and 100,000 rows, the preview of 100,000, the server's peak
# memory per MB of file: printed, not asserted.
bench-web: chromium web-ui
	test -f bench-data/users-1m.csv || $(CARGO) bench -p lms-bulk-upload --bench parse
	$(CARGO) build --release -p lms-bulk-upload-cli
	cd $(UI_DIR) && BULK_UPLOAD_BIN=$(abspath $(TARGET_DIR))/release/bulk-upload node bench/bench-web.mjs
