#!/usr/bin/env bash
# Builds the web page (web/: TypeScript checked by tsc, bundled by Vite) into the
# folder $1, which `reftrack serve` serves (web/ beside the executable by default).
set -euo pipefail

root="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mkdir -p "$1" && cd -P "$1" && pwd)"
"$root/scripts/npm-ci-if-stale.sh" "$root/web"
cd "$root/web"
npm run --silent build -- --outDir "$out" --emptyOutDir --logLevel warn
