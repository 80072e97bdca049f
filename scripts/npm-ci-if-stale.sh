#!/usr/bin/env bash
# npm ci in the folder $1 when its node_modules is missing or older than its
# package-lock.json (npm ci writes node_modules/.package-lock.json; a newer lock file
# means the pins moved). Once installed, nothing here needs the network.
set -euo pipefail

dir="$1"
installed="$dir/node_modules/.package-lock.json"
if [[ -e "$installed" && ! "$dir/package-lock.json" -nt "$installed" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "npm is missing: Node.js 20.19+ with npm is needed for $dir" >&2
  exit 1
fi
echo "installing $dir (npm ci)" >&2
npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >&2
