#!/usr/bin/env bash
# Set up .venv with the test extra and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
setup_venv "[test]"
exec .venv/bin/python -m pytest "$@"
