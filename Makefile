# The README's two commands. Everything else is CMake.
BUILD      ?= build
BUILD_SAN  ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
GENERATOR  := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all deps build check demo bench sanitize fuzz format clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Every test: unit, vectors, fuzz replays, the core lint.
check: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@# The next ctest run replaces LastTest.log: keep the whole run's for its ATTACK lines.
	@cp $(BUILD)/Testing/Temporary/LastTest.log $(BUILD)/Testing/Temporary/LastCheck.log
	@echo "Vector suites (passed/total, total = every vector in the file):"
	@cd $(BUILD) && ctest -L vectors -V 2>/dev/null | sed -n 's/^[0-9]*: \(VECTORS .*\)/  \1/p'
	@echo "The hostile host (the real image, a lying host: test_hostile_host, test_hostile_fetch,"
	@echo "test_enclave_chain), one line per attack:"
	@sed -n 's/^[0-9]*: *\(ATTACK .*\)/  \1/p; s/^\(ATTACK .*\)/  \1/p' \
	    $(BUILD)/Testing/Temporary/LastCheck.log
	@test $$(grep -c 'ATTACK' $(BUILD)/Testing/Temporary/LastCheck.log) -ge 15 || \
	    { echo "make check: the hostile-host suite printed fewer ATTACK lines than it has"; exit 1; }

# alight's current end-to-end story on embedded defaults.
demo: build
	$(BUILD)/bin/alight-demo
	scripts/demo $(BUILD)

# alight-bench with the services it measures started around it (scripts/bench).
bench: build
	scripts/bench $(BUILD)

# The same tests built with clang and -fsanitize=address,undefined.
sanitize: deps
	CC=clang cmake -S . -B $(BUILD_SAN) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DALIGHT_SANITIZE=ON
	cmake --build $(BUILD_SAN) -j $(JOBS)
	cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

# libFuzzer builds of every fuzz target, each run for a fixed number of iterations.
fuzz: deps
	CC=clang cmake -S . -B $(BUILD_FUZZ) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DALIGHT_FUZZ=ON
	cmake --build $(BUILD_FUZZ) -j $(JOBS)
	scripts/fuzz $(BUILD_FUZZ) $${FUZZ_RUNS:-20000}

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
