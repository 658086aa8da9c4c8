#!/usr/bin/env bash
# Creates .venv with the pinned stack and prepares the dbt manifest. Safe to run again.
# Needs only Python 3.11+ and pip; uv (from PyPI) makes the install several times faster.
# Installs the DuckDB CLI too (.venv/bin/duckdb), which analysts open the marts with.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
  .venv/bin/python -m pip install --quiet uv || true
fi
if [ -x .venv/bin/uv ]; then
  .venv/bin/uv pip install --quiet --python .venv/bin/python -e '.[analysts,dev]'
else
  .venv/bin/python -m pip install --quiet -e '.[analysts,dev]'
fi
# dbt and dagster are run from the venv; dagster-dbt needs `dbt` on PATH.
export PATH="$PWD/.venv/bin:$PATH"
if [ -f dbt_project/dbt_project.yml ]; then
  .venv/bin/afas-pipeline prepare
fi
