#!/usr/bin/env bash
# Every test: lint, then pytest (the API double over real HTTP, real DuckDB files, real dbt).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
source scripts/env.sh
ruff check .
ruff format --check .
pytest "$@"
