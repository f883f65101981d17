# overcommit: build, run, test and document the simulator.
#
#   make run                      release build, then run the built-in default scenario
#   make run SCENARIO=Configs/thrashing.yaml ARGS="--out runs/thrash --force"
#   make test                     debug build + the whole test suite (what CI runs)
#   make docs / check-docs        regenerate / verify docs/config-reference.md
#   make format / lint            apply / check the .swift-format style (swift format, part of the toolchain)
#   make validate                 validate every scenario under Configs/
#   make check-configs            every Configs/ scenario (but the scale ladder) 2 s under `run --check` (~2 min after the release build)
#   make report-check             render a run's, a sweep's and a consolidation's HTML reports in headless Chromium and check their charts
#   make bench                    the benchmark package in Benchmarks/ (slow first build)
#   make bench-scale              the scale ladder Configs/scale/ (hours; DURATION=60s for a short pass)
#
# SCRATCH picks SwiftPM's build directory (default .build), so several checkouts or people
# can build side by side: `make test SCRATCH=.build-mine`.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

SWIFT ?= swift
SCRATCH ?= .build
SWIFTPM := --scratch-path $(SCRATCH)
RELEASE_BIN := $(SCRATCH)/release/overcommit
DEBUG_BIN := $(SCRATCH)/debug/overcommit

# `make run` arguments: a scenario file (empty = the built-in default) and extra flags.
SCENARIO ?=
ARGS ?=

CONFIG_REFERENCE := docs/config-reference.md

.PHONY: help setup build run test docs check-docs format lint validate check-configs report-check slurm-check bench bench-scale clean debug-bin

help:
	@echo "make run       build (release) and run the built-in default scenario"
	@echo "               make run SCENARIO=Configs/leak-oom.yaml ARGS='--out runs/leak --force'"
	@echo "make test      run the test suite (debug build)"
	@echo "make build     release build only"
	@echo "make format    apply .swift-format to the Swift sources; make lint checks it (CI)"
	@echo "make validate  validate every Configs/**/*.yaml"
	@echo "make check-configs  run every Configs/ scenario (not scale/) for 2 s under --check (release; ~2 min after the build)"
	@echo "make docs      regenerate $(CONFIG_REFERENCE); make check-docs verifies it"
	@echo "make report-check  report a short run, sweep and consolidation and check the pages in headless Chromium"
	@echo "make slurm-check  run docs/howto-sweeps.md's Slurm recipe on a one-node Slurm started here (root)"
	@echo "make bench     run the benchmarks in Benchmarks/"
	@echo "make bench-scale  run the scale ladder Configs/scale/ (CPU, wall, RSS per rung; DURATION=60s to shorten)"
	@echo "make setup     install the system packages (libxxhash-dev, liblz4-dev, libzstd-dev, pkg-config)"
	@echo "make clean     remove $(SCRATCH) and Benchmarks/.build"

## System packages: the C libraries behind the CXXHash and CLZ4 targets.
setup:
	@scripts/setup-deps.sh

## Release build of the overcommit binary ($(RELEASE_BIN)); the test-support target builds only with the tests.
build: setup
	$(SWIFT) build -c release $(SWIFTPM) --product overcommit

## Runs a scenario with the release binary: the built-in default unless SCENARIO is set.
run: build
	$(RELEASE_BIN) run $(SCENARIO) $(ARGS)

## The test suite in a debug build (the README's test command; CI runs exactly this).
test: setup
	$(SWIFT) test $(SWIFTPM)

## The debug binary, for the documentation and validation targets (cheap after `make test`).
debug-bin: setup
	$(SWIFT) build $(SWIFTPM) --product overcommit

## Regenerates the configuration reference from the parameter tables in the source.
docs: debug-bin
	$(DEBUG_BIN) config-reference > $(CONFIG_REFERENCE).tmp
	mv $(CONFIG_REFERENCE).tmp $(CONFIG_REFERENCE)
	@echo "wrote $(CONFIG_REFERENCE)"

## Fails when docs/config-reference.md differs from what the source generates.
check-docs: debug-bin
	@$(DEBUG_BIN) config-reference > $(SCRATCH)/config-reference.md
	@if ! diff -u $(CONFIG_REFERENCE) $(SCRATCH)/config-reference.md > $(SCRATCH)/config-reference.diff; then \
	  head -40 $(SCRATCH)/config-reference.diff; \
	  echo "check-docs: $(CONFIG_REFERENCE) is stale; run 'make docs' and commit it" >&2; \
	  exit 1; \
	fi
	@echo "check-docs: $(CONFIG_REFERENCE) is up to date"

## The Swift sources in the style of .swift-format (swift format ships with the toolchain).
SWIFT_SOURCES := Sources Tests Package.swift Benchmarks/Package.swift Benchmarks/Benchmarks
format:
	$(SWIFT) format format --in-place --parallel --recursive $(SWIFT_SOURCES)

## Fails on any difference from .swift-format's style, listing file:line:column.
lint:
	$(SWIFT) format lint --strict --parallel --recursive $(SWIFT_SOURCES)
	@echo "lint: the sources follow .swift-format"

## Validates every scenario under Configs/ (recursively).
validate: debug-bin
	@files=$$(find Configs -name '*.yaml' | LC_ALL=C sort); \
	$(DEBUG_BIN) validate $$files

## Runs every scenario under Configs/ (the scale ladder aside) for 2 simulated seconds under
## `run --check`: invariants after every tick, page contents at every sample. `make test`
## checks the same slices at every sample only (ConfigsTests); this is the thorough pass.
check-configs: build
	@set -e; out=$$(mktemp -d); trap 'rm -rf "$$out"' EXIT; \
	for f in $$(find Configs -name '*.yaml' -not -path 'Configs/scale/*' | LC_ALL=C sort); do \
	  printf '%-48s ' "$$f"; \
	  $(RELEASE_BIN) run "$$f" --duration 2s --check --no-progress --out "$$out/run" --force > "$$out/out" 2> "$$out/err" \
	    || { echo FAILED; cat "$$out/err" >&2; exit 1; }; \
	  grep '^check:' "$$out/out"; \
	done

## Renders an HTML report in headless Chromium (Debian's chromium package) and fails on a
## blank page or a broken chart; then checks that deliberately broken pages fail.
report-check: debug-bin
	OVERCOMMIT=$(DEBUG_BIN) scripts/check-report.sh

## Runs the Slurm job-array recipe of docs/howto-sweeps.md on a real one-node Slurm cluster
## started on this machine (Debian's slurm-wlm and munge; needs root), and checks that the
## merged shards equal the unsharded sweep byte for byte.
slurm-check: debug-bin
	OVERCOMMIT=$(DEBUG_BIN) scripts/slurm-check.sh

## Benchmarks (ordo-one/benchmark in a separate package; its first build takes minutes).
bench: setup
	@test -f Benchmarks/Package.swift || { echo "bench: Benchmarks/Package.swift does not exist" >&2; exit 1; }
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark

## The scale ladder (Configs/scale/): CPU s, wall s, peak RSS and simulated s per wall s per
## rung (docs/performance.md). Not part of `make test`: a full pass takes hours on 2 cores.
bench-scale: build
	DURATION=$${DURATION:-} THREADS="$${THREADS:-1 2}" scripts/bench-scale.sh $(RELEASE_BIN) $(RUNGS)

clean:
	rm -rf $(SCRATCH) Benchmarks/.build
