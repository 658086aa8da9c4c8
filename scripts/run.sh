#!/usr/bin/env bash
# Sets up (if needed), starts the embedded AFAS simulator and runs the pipeline against it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
exec afas-pipeline demo "$@"
