#!/usr/bin/env bash
# The whole job on the embedded default, no cloud and no network: starts the local doubles of the
# live MHCLG service (certificates registered over the last three months, up to yesterday) and of
# the retired v1 API on 127.0.0.1, loads the v1 archive, then runs the daily job
# (`python -m extract.job`: extract the live service, dbt build, dbt source freshness, one audit
# record) into $DATA_DIR/bucket + $DATA_DIR/epc.duckdb (DATA_DIR defaults to data/), and prints a
# summary. Run it again: the live source fetches only what is new.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
source scripts/env.sh
export DATA_DIR=${DATA_DIR:-data}
mkdir -p "$DATA_DIR"
# the live double's data: from the first day of the month two months ago to yesterday (London)
read -r live_first live_month yesterday < <(python - <<'PY'
from datetime import timedelta
from extract.months import Month, register_today
today = register_today()
first = Month.current(today)
for _ in range(2):
    first = Month(first.year - 1, 12) if first.month == 1 else Month(first.year, first.month - 1)
print(first.first_day, first, today - timedelta(days=1))
PY
)
live_url=$(mktemp) v1_url=$(mktemp)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -f "$live_url" "$v1_url"' EXIT
python -m tests.doubles.mhclg --port 0 --token demo-token --start "$live_first" --end "$yesterday" \
  --late-share 0.05 --url-file "$live_url" > "$DATA_DIR/mhclg-double.log" 2>&1 &
pids+=($!)
python -m tests.doubles.odc_v1 --port 0 --url-file "$v1_url" > "$DATA_DIR/double.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$live_url" ] && [ -s "$v1_url" ] && break; sleep 0.1; done
[ -s "$live_url" ] && [ -s "$v1_url" ] || { echo "error: an API double did not start (see $DATA_DIR/*.log)" >&2; exit 1; }

echo "=== the retired v1 API (archives and mirrors): certificates and recommendations"
# the double's test credentials
EPC_EMAIL=analyst@example.org EPC_API_KEY=double-api-key EPC_API_BASE_URL=$(cat "$v1_url") \
  python -m extract --source odc --kinds domestic,non-domestic --start "${DEMO_START:-2024-01}" \
  --end "${DEMO_END:-2024-06}" --with-recs
echo "=== the daily job on the live service (the default source): extract, dbt build, freshness"
EPC_API_TOKEN=demo-token EPC_API_BASE_URL=$(cat "$live_url") \
  python -m extract.job --kinds domestic,non-domestic,display --start "${DEMO_LIVE_START:-$live_month}"
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
        by_source = dict(con.execute(f"select source_system, count(*) from {schema}.{name} group by 1").fetchall())
        total = sum(by_source.values())
        print(f"  {name}: {total} rows (live service {by_source.get('mhclg', 0)}, v1 {by_source.get('odc', 0)})")
    run = con.execute(
        f"select run_id, status, certificates_new, requests_sent, dbt_status, freshness_status "
        f"from {schema}.pipeline_runs order by started_at desc limit 1").fetchone()
    print("last run (pipeline_runs): run_id {} {}, {} new certificates, {} requests, dbt {}, freshness {}".format(*run))
PY
