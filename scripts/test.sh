#!/usr/bin/env bash
# Installs what the tests need, then runs the whole suite (core, built-in plugins and plugins/ packages).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/python -m ruff check zoo plugins examples benchmarks tests
exec .venv/bin/python -m pytest -n 2 "$@"
