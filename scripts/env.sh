# Sourced by the scripts: keeps every Google library and tool on loopback and quiet.
export NO_GCE_CHECK=true
export GCE_METADATA_HOST=127.0.0.1:9
export GCE_METADATA_IP=127.0.0.1:9
export RUNTIME__DLT_TELEMETRY=false
export DBT_SEND_ANONYMOUS_USAGE_STATS=false
export DO_NOT_TRACK=1
export PATH="$PWD/.venv/bin:$PATH"
