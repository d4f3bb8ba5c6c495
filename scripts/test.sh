#!/usr/bin/env bash
# Set up .venv with the test and dask extras and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
setup_venv "[test,dask]"
exec .venv/bin/python -m pytest "$@"
