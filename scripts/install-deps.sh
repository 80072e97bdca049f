#!/usr/bin/env bash
# Installs the Debian packages reftrack needs to build, test and benchmark.
# Idempotent: asks apt only for what is missing, and does nothing when all is there.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libsqlite3-dev sqlite3
  libpq-dev postgresql postgresql-client
  nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev libsodium-dev libabsl-dev
  libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  time wrk curl python3
  chromium fonts-dejavu-core
  clang-16 libclang-rt-16-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
