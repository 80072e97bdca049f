# Two commands set everything up on a fresh Debian 12 machine:
#   make serve   installs what is missing, builds, starts the server (SQLite store)
#   make test    installs what is missing, builds, runs every test
BUILD_DIR ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build test bench serve clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Every test, against SQLite and a throwaway PostgreSQL server.
test: build
	@./scripts/with-postgres.sh sh -c 'cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)'

bench: build
	@./bench/run.sh $(BUILD_DIR)

# The HTTP API on the embedded SQLite store (DB=... and LISTEN=... to change them).
# On a database with no API key yet, it makes an admin key and prints it once.
DB ?= reftrack.db
LISTEN ?= 127.0.0.1:8080
serve: build
	@exec $(BUILD_DIR)/reftrack --db $(DB) serve --listen $(LISTEN)

clean:
	rm -rf $(BUILD_DIR)
