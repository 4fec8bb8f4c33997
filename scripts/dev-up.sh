#!/usr/bin/env bash
# Start the Docker stack of compose.yaml: build the server image, start PostgreSQL, the GCS
# emulator and the server, wait until every service is healthy, print the tracking URI.
# Data lives in named volumes and survives scripts/dev-down.sh (unless --volumes).
#
#   scripts/dev-up.sh                         # the server on http://localhost:5000
#   STRATUS_LOCAL_PORT=5001 scripts/dev-up.sh # another host port
# Without Docker, scripts/local-stack.sh runs the same topology from PyPI packages.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/_compose.sh
source "$root/scripts/_compose.sh"
require_compose dev-up

if ! "${compose[@]}" up --detach --build --wait --wait-timeout 300; then
    echo "dev-up: the stack did not become healthy; status and recent server logs:" >&2
    "${compose[@]}" ps --all >&2 || true
    "${compose[@]}" logs --tail 40 stratus >&2 || true
    exit 1
fi

published="$("${compose[@]}" port stratus 8080)"
port="${published##*:}"
url="http://localhost:${port}"
for _ in $(seq 1 30); do
    if probe "$url/health"; then
        echo "Stratus is up on $url (PostgreSQL 16 and a GCS emulator; scripts/dev-down.sh stops it)."
        echo "export MLFLOW_TRACKING_URI=$url"
        exit 0
    fi
    sleep 1
done
echo "dev-up: the containers are healthy but $url/health does not answer from this host" >&2
exit 1
