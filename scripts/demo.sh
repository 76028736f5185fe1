#!/usr/bin/env bash
# The whole job on the embedded default, no cloud and no network: starts the local double of
# the v1 API on 127.0.0.1, extracts into $DATA_DIR/bucket + $DATA_DIR/epc.duckdb (DATA_DIR
# defaults to data/), builds and tests every dbt model on it, and prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
source scripts/env.sh
export DATA_DIR=${DATA_DIR:-data}
mkdir -p "$DATA_DIR"
url_file=$(mktemp)
python -m tests.doubles.odc_v1 --port 0 --url-file "$url_file" > "$DATA_DIR/double.log" 2>&1 &
double_pid=$!
trap 'kill "$double_pid" 2>/dev/null || true; rm -f "$url_file"' EXIT
for _ in $(seq 1 100); do [ -s "$url_file" ] && break; sleep 0.1; done
[ -s "$url_file" ] || { echo "error: the API double did not start (see $DATA_DIR/double.log)" >&2; exit 1; }

export EPC_API_BASE_URL=$(cat "$url_file")
export EPC_EMAIL=analyst@example.org EPC_API_KEY=double-api-key  # the double's test credentials
python -m extract --kinds domestic,non-domestic --start "${DEMO_START:-2024-01}" \
  --end "${DEMO_END:-2024-06}" --with-recs
dbt build --quiet
python - <<'PY'
import os, duckdb
path = os.environ.get("DUCKDB_PATH") or os.path.join(os.environ["DATA_DIR"], "epc.duckdb")
schema = os.environ.get("DBT_SCHEMA") or os.environ.get("BQ_DATASET") or "dame_epc"
with duckdb.connect(path, read_only=True) as con:
    marts = con.execute(
        "select table_name from information_schema.tables where table_schema = ? "
        "and table_name like 'enr_%' order by 1", [schema]).fetchall()
    print(f"dbt build passed; curated models in {path} (schema {schema}):")
    for (name,) in marts:
        print(f"  {name}: {con.execute(f'select count(*) from {schema}.{name}').fetchone()[0]} rows")
PY
