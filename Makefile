# hvgdb: the two set-up commands of the README live here.
#   make demo   installs what is missing, builds, boots the SMP demo guest and
#               shows a real gdb session against it
#   make test   installs what is missing, builds, runs every test suite
# Also: make build, make bench, make fuzz, make clean.

BUILD      ?= build
SAN_BUILD  ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_OPTS ?=

.PHONY: all deps build build-asan test test-asan demo bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_OPTS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# The unit tests again under AddressSanitizer + UBSan, built with clang (which
# also keeps the tree warning-clean under clang 14, not just gcc 12).
build-asan: deps
	@cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	    -DHVGDB_SANITIZE=ON $(CMAKE_OPTS) >/dev/null
	@cmake --build $(SAN_BUILD) -j$(JOBS)

test-asan: build-asan
	@cd $(SAN_BUILD) && ctest -L unit --output-on-failure -j$(JOBS)

test: build test-asan
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

bench: build
	@if [ -x bench/run.sh ]; then bench/run.sh $(BUILD); else echo "bench: no benchmarks yet"; fi

fuzz: deps
	@if [ -x fuzz/run.sh ]; then fuzz/run.sh; else echo "fuzz: no fuzz targets yet"; fi

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
