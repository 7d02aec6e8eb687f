#!/usr/bin/env bash
# Installs zoo and its plugins, then runs the flagship video question-answering example offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python examples/video_qa.py "$@"
