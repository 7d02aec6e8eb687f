#!/usr/bin/env bash
# Creates .venv (if missing) and installs zoo, its test tools and the plugin packages under plugins/.
# Idempotent: a second run only checks. Override the interpreter with PYTHON=..., the torch pins with
# ZOO_TORCH_SPEC="torch==X torchvision==Y" (the defaults are the builds this project is tested with).
set -euo pipefail
cd "$(dirname "$0")/.."
# pip's "No space left on device" names neither the folder nor the size needed: say both.
disk_hint() {
  if grep -q "No space left on device" "$1" 2>/dev/null; then
    echo "bootstrap: the disk holding $PWD/.venv is full ($(df -Ph . | awk 'NR==2 {print $4}') free);" \
      "torch's build needs about 6 GB there: free some space and run this again" >&2
  fi
}
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
if ! .venv/bin/python -c "import torch, torchvision" 2>/dev/null; then
  torch_log=.venv/torch-install.log
  # shellcheck disable=SC2086
  if ! .venv/bin/python -m pip install --quiet ${ZOO_TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1} \
      >"$torch_log" 2>&1; then
    cat "$torch_log" >&2
    disk_hint "$torch_log"
    echo "bootstrap: installing torch failed (log above, kept in $torch_log)" >&2
    exit 1
  fi
fi
plugins=()
for dir in plugins/*/; do [ -f "$dir/pyproject.toml" ] && plugins+=(-e "$dir"); done
# Skip the (editable, so code changes need none) install when no pyproject.toml changed since the last one:
# a second run then needs neither the network nor a build backend.
stamp=.venv/zoo-installed.stamp
if [ -f "$stamp" ] && [ -z "$(find pyproject.toml plugins/*/pyproject.toml -newer "$stamp" 2>/dev/null)" ]; then
  exit 0
fi
log=.venv/zoo-install.log
# zoo's distribution is zoo-platform ("zoo" on PyPI is an unrelated package). A distribution named zoo in the
# venv is this project under its old name, or that package: either one would shadow the zoo package.
if .venv/bin/python -m pip show zoo >/dev/null 2>&1; then
  .venv/bin/python -m pip uninstall --quiet --yes zoo
fi
if ! .venv/bin/python -m pip install --quiet -e '.[test,all]' "${plugins[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  disk_hint "$log"
  echo "bootstrap: installing zoo and its plugins failed (log above, kept in $log)" >&2
  exit 1
fi
.venv/bin/python -c "import zoo" >/dev/null
touch "$stamp"
