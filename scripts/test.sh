#!/usr/bin/env bash
# Sets up (if needed) and runs the test suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
mypy  # afas_pipeline/, configured in pyproject.toml
exec pytest "$@"
