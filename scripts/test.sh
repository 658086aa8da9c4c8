#!/usr/bin/env bash
# Sets up (if needed) and runs the test suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
mypy  # afas_pipeline/, configured in pyproject.toml
# Two workers (TEST_WORKERS to change it), a test module per worker at a time so that each
# module's fixtures are built once; modules in collection order (tests/conftest.py puts the
# longest first) rather than xdist's default of the most tests first.
exec pytest -n "${TEST_WORKERS:-2}" --dist loadscope --no-loadscope-reorder "$@"
