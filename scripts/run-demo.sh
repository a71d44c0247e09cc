#!/usr/bin/env bash
# psqlpy's main command: set up, start a throwaway PostgreSQL, run the API
# tour in scripts/demo.py against it, stop the server again.
# With PSQLPY_TEST_DSN set, that server is used instead of a throwaway one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

bash scripts/setup.sh
trap cluster_stop EXIT
trap 'exit 130' INT TERM
cluster_start
.venv/bin/python scripts/demo.py "$PSQLPY_TEST_DSN"
