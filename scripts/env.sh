# Sourced by the scripts: the project's tools on PATH, every Google library and tool kept on
# loopback and quiet, and dbt pointed at profiles.example.yml unless a profiles.yml is set up.
export NO_GCE_CHECK=true
export GCE_METADATA_HOST=127.0.0.1:9
export GCE_METADATA_IP=127.0.0.1:9
export RUNTIME__DLTHUB_TELEMETRY=false
export DBT_SEND_ANONYMOUS_USAGE_STATS=false
export DO_NOT_TRACK=1
export PATH="$PWD/.venv/bin:$PATH"
if [ -z "${DBT_PROFILES_DIR:-}" ] && [ ! -f profiles.yml ]; then
  export DBT_PROFILES_DIR="$PWD/.venv/dbt-profiles"
  mkdir -p "$DBT_PROFILES_DIR"
  cp profiles.example.yml "$DBT_PROFILES_DIR/profiles.yml"
fi
