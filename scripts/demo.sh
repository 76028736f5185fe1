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
echo "dbt build passed"
python scripts/summary.py
echo "=== the documents for retrieval: their search index, and a search"
python -m extract.search --reindex
python -m extract.search "condensing boiler" --limit 3
