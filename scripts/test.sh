#!/usr/bin/env bash
# Every test: lint, pytest on two workers (tests/unit: pure functions and the project's files;
# tests/integration: the API doubles over real HTTP, real DuckDB files, real dbt builds;
# tests/emulators: GCS + BigQuery on local emulators) with sqlfluff beside it, the demo end to end
# in a fresh folder, and the BigQuery target parsed and compiled offline.
#   bash scripts/test.sh            everything (what CI runs)
#   bash scripts/test.sh --unit     lint and the unit layer only (seconds)
#   bash scripts/test.sh ARGS       pytest ARGS, then the rest
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
source scripts/env.sh
ruff check .
ruff format --check .
if [ "${1:-}" = "--unit" ]; then
  exec pytest tests/unit
fi
scratch=$(mktemp -d)
lint=
trap '[ -n "$lint" ] && kill "$lint" 2>/dev/null; rm -rf "$scratch"' EXIT
# Debian's chromium for the docs screenshot, installed beside the tests where it is missing
browser=
if ! command -v chromium > /dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
    > "$scratch/apt.log" 2>&1 &
  browser=$!
fi
# sqlfluff beside the tests (it templates with dbt while the tests wait on doubles and emulators)
mkdir -p "$scratch/lint"
DATA_DIR="$scratch/lint" DBT_TARGET_PATH="$scratch/lint-target" \
  sqlfluff lint --processes 2 dbt_project/models > "$scratch/lint.log" 2>&1 &
lint=$!
# two workers: much of a test's time is spent waiting on a double, a subprocess or an emulator
pytest -n "${PYTEST_WORKERS:-2}" --dist loadscope "$@"  # by module (tests/conftest.py)
echo "--- the demo, end to end, into a fresh folder"
DATA_DIR="$scratch/demo" DBT_TARGET_PATH="$scratch/target" bash scripts/demo.sh > "$scratch/demo.log" \
  || { tail -40 "$scratch/demo.log"; exit 1; }
tail -12 "$scratch/demo.log"

echo "--- the README's queries on the demo's warehouse"
python scripts/readme_queries.py "$scratch/demo/epc.duckdb"

echo "--- live rows as complete as v1 rows (every gap above 10 points documented)"
python scripts/null_shares.py "$scratch/demo/epc.duckdb" | tail -1

echo "--- dbt docs generate over the demo's warehouse"
DATA_DIR="$scratch/demo" dbt docs generate --quiet --target-path "$scratch/docs"
test -s "$scratch/docs/catalog.json" && test -s "$scratch/docs/index.html"

echo "--- the docs site in headless Chromium: the project's overview and a model's page"
if [ -n "$browser" ]; then
  wait "$browser" || { tail -20 "$scratch/apt.log"; echo "error: chromium could not be installed"; exit 1; }
fi
python scripts/docs_screenshot.py "$scratch/docs" "${DOCS_SHOTS:-$scratch/shots}"

echo "--- sqlfluff (ran beside the tests)"
wait "$lint" || { cat "$scratch/lint.log"; exit 1; }
lint=
tail -1 "$scratch/lint.log"

echo "--- dbt parse and compile for the bigquery target, offline (incremental models need a live relation;"
echo "    epc_check_sources: false skips the look-up of raw tables, which needs one too)"
BQ_METHOD=oauth-secrets BQ_TOKEN=offline-token PROJECT_ID=offline-project DBT_TARGET=bigquery \
  DBT_TARGET_PATH="$scratch/bq-target" bash -c \
  'dbt parse --quiet && dbt compile --quiet --no-populate-cache --exclude config.materialized:incremental \
     --vars "{epc_check_sources: false}"'
echo "all checks passed"
