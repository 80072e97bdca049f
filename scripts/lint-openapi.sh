#!/usr/bin/env bash
# Lints the OpenAPI document of the HTTP API (src/http/openapi.json) with @redocly/cli,
# pinned in tools/openapi/package-lock.json, under the rules of tools/openapi/redocly.yaml.
# Installs the npm packages first when they are missing or older than the lock file; once
# installed it runs offline. Exits with redocly's status.
set -euo pipefail

root="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

tools=tools/openapi
redocly="$tools/node_modules/.bin/redocly"
# npm ci writes node_modules/.package-lock.json; a lock file newer than it means the pin moved.
installed="$tools/node_modules/.package-lock.json"

if [[ ! -x "$redocly" || ! -e "$installed" || "$tools/package-lock.json" -nt "$installed" ]]; then
  if ! command -v npm >/dev/null; then
    echo "lint-openapi: npm is missing (Node.js 20.19+ with npm is needed to lint the OpenAPI document)" >&2
    exit 1
  fi
  echo "lint-openapi: installing $tools (npm ci)" >&2
  npm ci --prefix "$tools" --no-audit --no-fund >&2
fi

# No telemetry and no update check: the lint must not need the network.
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true

exec "$redocly" lint src/http/openapi.json --config "$tools/redocly.yaml"
