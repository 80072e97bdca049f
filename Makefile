# Two commands set everything up on a fresh Debian 12 machine:
#   make serve   installs what is missing, builds, starts the server (SQLite store)
#   make test    installs what is missing, builds, runs every test
BUILD_DIR ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build test test-sanitize fuzz bench kill-run serve clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Every test, against SQLite and a throwaway PostgreSQL server.
test: build
	@./scripts/with-postgres.sh sh -c 'cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)'

# The whole suite again with AddressSanitizer + UndefinedBehaviorSanitizer, in its own
# build folder (.ci/run runs it after `make test`).
SANITIZE_DIR ?= build-sanitize
SANITIZERS = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1 \
             UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
test-sanitize: deps
	@cmake -S . -B $(SANITIZE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DREFTRACK_SANITIZE=ON >/dev/null
	@cmake --build $(SANITIZE_DIR) -j $(JOBS)
	@$(SANITIZERS) ./scripts/with-postgres.sh sh -c 'cd $(SANITIZE_DIR) && ctest --output-on-failure -j $(JOBS)'

# libFuzzer (clang-16) on each fuzz target for FUZZ_SECONDS (fuzz/, build-fuzz/).
FUZZ_SECONDS ?= 30
fuzz: deps
	@./scripts/fuzz.sh $(FUZZ_SECONDS)

bench: build
	@./bench/run.sh $(BUILD_DIR)

# The long kill test of docs/RELIABILITY.md (1M rows, 20 random kills per operation
# and store; REFTRACK_KILL_ROWS, REFTRACK_KILL_TRIALS, REFTRACK_KILL_SEED change it).
kill-run: build
	@./scripts/kill-run.sh $(BUILD_DIR)

# The HTTP API on the embedded SQLite store (DB=... and LISTEN=... to change them).
# On a database with no API key yet, it makes an admin key and prints it once.
DB ?= reftrack.db
LISTEN ?= 127.0.0.1:8080
serve: build
	@exec $(BUILD_DIR)/reftrack --db $(DB) serve --listen $(LISTEN)

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR)
