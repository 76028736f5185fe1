#!/usr/bin/env bash
# GCS and BigQuery emulators on 127.0.0.1 for the production-target tests.
#   bash .ci/emulators.sh up     install (once, own venvs under .emu/) and start both, plus a
#                                loopback token endpoint; writes .emu/env to source
#   bash .ci/emulators.sh down   stop them by process id
# Ports: GCS 9023, BigQuery REST 9050 / gRPC 9060, token stub 9099 (EMU_*_PORT to change).
set -euo pipefail
cd "$(dirname "$0")/.."
EMU=${EMU_DIR:-$PWD/.emu}
GCS_PORT=${EMU_GCS_PORT:-9023}
BQ_PORT=${EMU_BQ_PORT:-9050}
BQ_GRPC_PORT=${EMU_BQ_GRPC_PORT:-9060}
TOKEN_PORT=${EMU_TOKEN_PORT:-9099}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}

install() {  # $1 venv name, $2 requirements file
  local venv="$EMU/$1" stamp
  stamp="$venv/.installed-$(sha1sum "$2" | cut -c1-12)"
  [ -f "$stamp" ] && return
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet -r "$2" > "$EMU/$1-install.log" 2>&1 \
    || { tail -20 "$EMU/$1-install.log" >&2; exit 1; }
  touch "$stamp"
}

wait_for() {  # $1 url, $2 name: any HTTP answer counts as up
  "$PYTHON" - "$1" <<'PY' || { echo "error: the $2 did not start; see $EMU/$2.log" >&2; exit 1; }
import sys, time, urllib.error, urllib.request
for _ in range(240):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1)
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except OSError:
        time.sleep(0.25)
sys.exit(1)
PY
}

up() {
  mkdir -p "$EMU/gcs" "$EMU/home"
  install venv-gcs .ci/requirements-gcs-emulator.txt
  install venv-bq .ci/requirements-bq-emulator.txt
  down quiet
  # bqemulator loads `spatial` at start: put the packaged extensions where DuckDB looks
  HOME="$EMU/home" "$EMU/venv-bq/bin/python" -c \
    "from duckdb_extensions import import_extension as i; [i(e) for e in ('spatial', 'avro')]"
  STORAGE_BASE="$EMU/gcs" "$EMU/venv-gcs/bin/gcp-storage-emulator" start --host 127.0.0.1 \
    --port "$GCS_PORT" -q > "$EMU/gcs-emulator.log" 2>&1 &
  echo $! > "$EMU/gcs.pid"
  # the BigQuery emulator reads gs:// load sources straight from the GCS emulator's disk store
  HOME="$EMU/home" BQEMU_GCS_LOCAL_ROOT="$EMU/gcs/.cloudstorage" "$EMU/venv-bq/bin/bqemulator" start \
    --rest-host 127.0.0.1 --rest-port "$BQ_PORT" --grpc-host 127.0.0.1 --grpc-port "$BQ_GRPC_PORT" \
    --project test-project --log-format console --log-level warning > "$EMU/bq-emulator.log" 2>&1 &
  echo $! > "$EMU/bq.pid"
  "$PYTHON" .ci/token_stub.py "$TOKEN_PORT" > "$EMU/token-stub.log" 2>&1 &
  echo $! > "$EMU/token.pid"
  # a throwaway service account whose token_uri is the loopback stub (a fresh key, never a real one)
  .venv/bin/python - "$EMU" "$TOKEN_PORT" <<'PY'
import json, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
emu, port = sys.argv[1], sys.argv[2]
key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
json.dump({
    "type": "service_account", "project_id": "test-project", "private_key_id": "emulator",
    "private_key": key, "client_email": "ci@test-project.iam.gserviceaccount.com",
    "client_id": "1", "token_uri": f"http://127.0.0.1:{port}/token",
}, open(f"{emu}/fake-service-account.json", "w"))
PY
  wait_for "http://127.0.0.1:$GCS_PORT/" gcs-emulator
  wait_for "http://127.0.0.1:$BQ_PORT/healthz" bq-emulator
  wait_for "http://127.0.0.1:$TOKEN_PORT/" token-stub
  cat > "$EMU/env" <<EOF
export NO_GCE_CHECK=true GCE_METADATA_HOST=127.0.0.1:9 GCE_METADATA_IP=127.0.0.1:9
export STORAGE_EMULATOR_HOST=http://127.0.0.1:$GCS_PORT
export BIGQUERY_EMULATOR_HOST=http://127.0.0.1:$BQ_PORT
export BQ_API_ENDPOINT=http://127.0.0.1:$BQ_PORT
export GOOGLE_APPLICATION_CREDENTIALS=$EMU/fake-service-account.json
export PROJECT_ID=test-project
EOF
  echo "emulators up: GCS 127.0.0.1:$GCS_PORT, BigQuery 127.0.0.1:$BQ_PORT (source $EMU/env)"
}

down() {
  for name in gcs bq token; do
    if [ -f "$EMU/$name.pid" ]; then
      kill "$(cat "$EMU/$name.pid")" 2>/dev/null || true
      rm -f "$EMU/$name.pid"
    fi
  done
  [ "${1:-}" = quiet ] || echo "emulators stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
