#!/usr/bin/env bash
# The whole job on the embedded default, no cloud and no network: starts the local double of
# the v1 API on 127.0.0.1, extracts into data/bucket + data/epc.duckdb, and prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
source scripts/env.sh
mkdir -p data
url_file=$(mktemp)
python -m tests.doubles.odc_v1 --port 0 --url-file "$url_file" > data/double.log 2>&1 &
double_pid=$!
trap 'kill "$double_pid" 2>/dev/null || true; rm -f "$url_file"' EXIT
for _ in $(seq 1 100); do [ -s "$url_file" ] && break; sleep 0.1; done
[ -s "$url_file" ] || { echo "error: the API double did not start (see data/double.log)" >&2; exit 1; }

export EPC_API_BASE_URL=$(cat "$url_file")
export EPC_EMAIL=analyst@example.org EPC_API_KEY=double-api-key  # the double's test credentials
python -m extract --kinds domestic,non-domestic --start "${DEMO_START:-2024-01}" \
  --end "${DEMO_END:-2024-06}" --with-recs
