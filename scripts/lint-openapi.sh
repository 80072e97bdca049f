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
"$root/scripts/npm-ci-if-stale.sh" "$tools"

# No telemetry and no update check: the lint must not need the network.
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true

exec "$redocly" lint src/http/openapi.json --config "$tools/redocly.yaml"
