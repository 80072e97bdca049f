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

# Until the HTTP server lands, say so instead of failing.
serve: build
	@if $(BUILD_DIR)/reftrack --help | grep -q "^  serve"; then \
	  exec $(BUILD_DIR)/reftrack serve; \
	else \
	  echo "reftrack is built ($(BUILD_DIR)/reftrack). The HTTP server is not in this version yet;"; \
	  echo "the command line is complete: see README.md, 'A tour of the command line'."; \
	fi

clean:
	rm -rf $(BUILD_DIR)
