# hvgdb: the two set-up commands of the README live here.
#   make demo   installs what is missing, builds, boots the SMP demo guest and
#               shows a real gdb session against it
#   make test   installs what is missing, builds, runs every test suite
#   make demo-linux  installs what is missing, builds, and boots Debian's own
#               kernel to an interactive busybox shell on this terminal with
#               the debug server listening (DEMO_CPUS vCPUs, default 2;
#               DEMO_GDB, default 127.0.0.1:1234)
# Also: make build, make bench, make fuzz, make clean.
#
# make test runs three builds' suites, all of them even after a failure, and
# ends with a CTest summary over the three results:
#   $(BUILD)       gcc: every suite (unit, cli, integration, e2e)
#   $(TSAN_BUILD)  clang + ThreadSanitizer: the unit tests that drive hvgdb's
#                  code from real threads (CTest label tsan): the lock
#                  checker, the debug server's vCPU event machine and server,
#                  the VM layer's scheduler and vCPU threads on Unicorn
#   $(SAN_BUILD)   clang + AddressSanitizer + UBSan: unit and e2e suites (real
#                  gdb against an instrumented hvgdb; Unicorn itself is not
#                  instrumented), and the libFuzzer targets: their seed corpus
#                  as a regression set plus CI_FUZZ_SECONDS of fresh fuzzing
#                  each (CTest label fuzz)
# make fuzz builds the fuzz targets and runs each for FUZZ_SECONDS (default
# 300), all at once; what they find is kept under $(SAN_BUILD)/fuzz/.

SHELL := /bin/bash

BUILD      ?= build
SAN_BUILD  ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS       ?= $(shell nproc)
CMAKE_OPTS ?=
FUZZ_SECONDS    ?= 300
# make demo-linux: the vCPUs Debian's kernel boots on, and where the debug
# server listens.
DEMO_CPUS ?= 2
DEMO_GDB  ?= 127.0.0.1:1234
CI_FUZZ_SECONDS ?= 60

# Sanitizer run-time settings for the test runs. Every finding fails its test.
SANITIZER_DIR := $(CURDIR)/tests/sanitizers
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1 \
	LSAN_OPTIONS=suppressions=$(SANITIZER_DIR)/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
TSAN_ENV = TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

.PHONY: all deps build build-asan build-tsan test test-main test-asan \
	test-tsan demo demo-linux bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_OPTS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# Everything under AddressSanitizer + UBSan, built with clang (which also
# keeps the tree warning-clean under clang 14, not just gcc 12), plus the
# fuzz targets.
# Debug keeps assertions; -O1 is the usual sanitizer optimisation level (at
# -O0 the instrumented hvgdb is needlessly slow for the e2e suite).
SAN_CONFIG = -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" \
	-DCMAKE_C_COMPILER=clang

build-asan: deps
	@cmake -S . -B $(SAN_BUILD) $(SAN_CONFIG) -DHVGDB_SANITIZE=ON \
	    -DHVGDB_FUZZ_SECONDS=$(CI_FUZZ_SECONDS) $(CMAKE_OPTS) >/dev/null
	@cmake --build $(SAN_BUILD) -j$(JOBS)

# Only the threaded unit tests (label tsan, tests/CMakeLists.txt) and what
# they need under TSan.
TSAN_TEST_DIRS = tests/unit/sync tests/unit/gdbstub tests/unit/vmm
build-tsan: deps
	@cmake -S . -B $(TSAN_BUILD) $(SAN_CONFIG) -DHVGDB_TSAN=ON $(CMAKE_OPTS) >/dev/null
	@for d in $(TSAN_TEST_DIRS); do \
	    $(MAKE) --no-print-directory -C $(TSAN_BUILD)/$$d -j$(JOBS) || exit 1; \
	done

RUN_MAIN = cd $(BUILD) && ctest --output-on-failure -j$(JOBS)
RUN_TSAN = cd $(TSAN_BUILD) && \
	$(TSAN_ENV) ctest -L tsan --output-on-failure -j$(JOBS)
RUN_ASAN = cd $(SAN_BUILD) && \
	$(ASAN_ENV) ctest -L 'unit|e2e|fuzz' --output-on-failure -j$(JOBS)

test-main: build
	@$(RUN_MAIN)

test-tsan: build-tsan
	@$(RUN_TSAN)

test-asan: build-asan
	@$(RUN_ASAN)

# Every build first, then every suite (a failure does not hide the later
# suites' results), then one last CTest run whose tests are the suites' own
# results: the final summary covers everything that ran, and its "N% tests
# passed, F tests failed out of T" line is printed last (CI reads it).
# Every suite runs even after another failed; the last line sums them all
# ("N passed, N failed"), each suite's own CTest summary stands above it.
SUITE_LOGS = $(BUILD)/suite-logs
test: build build-tsan build-asan
	@mkdir -p $(SUITE_LOGS); status=0; \
	( $(RUN_TSAN) ) 2>&1 | tee $(SUITE_LOGS)/tsan.log; [ $${PIPESTATUS[0]} -eq 0 ] || status=1; \
	( $(RUN_ASAN) ) 2>&1 | tee $(SUITE_LOGS)/asan.log; [ $${PIPESTATUS[0]} -eq 0 ] || status=1; \
	( $(RUN_MAIN) ) 2>&1 | tee $(SUITE_LOGS)/main.log; [ $${PIPESTATUS[0]} -eq 0 ] || status=1; \
	echo; echo "make test: TSan threaded unit, ASan+UBSan unit/e2e/fuzz, gcc all suites:"; \
	grep -h '% tests passed' $(SUITE_LOGS)/tsan.log $(SUITE_LOGS)/asan.log $(SUITE_LOGS)/main.log; \
	scripts/sum-ctest.sh $(SUITE_LOGS)/tsan.log $(SUITE_LOGS)/asan.log $(SUITE_LOGS)/main.log; \
	exit $$status

demo: build
	@scripts/demo.sh $(BUILD)

demo-linux: build
	@scripts/demo-linux.sh $(BUILD) $(DEMO_CPUS) $(DEMO_GDB)

bench: build
	@if [ -x bench/run.sh ]; then bench/run.sh $(BUILD); else echo "bench: no benchmarks yet"; fi

fuzz: deps
	@cmake -S . -B $(SAN_BUILD) $(SAN_CONFIG) -DHVGDB_SANITIZE=ON $(CMAKE_OPTS) >/dev/null
	@cmake --build $(SAN_BUILD) --target fuzz_rsp_dispatch fuzz_elf_loader -j$(JOBS)
	@fuzz/run.sh $(SAN_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(TSAN_BUILD)
