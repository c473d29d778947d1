#!/usr/bin/env bash
# Sets up, builds and runs every test suite; ctest prints the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 900
