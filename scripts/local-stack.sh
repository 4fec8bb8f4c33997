#!/usr/bin/env bash
# The Cloud Run topology without Docker: a local PostgreSQL (database stratus_local, created
# if missing), the fake-gcs-server emulator from PyPI with the artifact bucket, and
# `stratus serve` configured exactly as compose.yaml configures the image.
#
#   scripts/local-stack.sh            # run in the foreground; Ctrl-C stops everything
#   scripts/local-stack.sh start      # in the background; then `stop` and `status`
#
# Settings: STRATUS_LOCAL_DATABASE_URL, STRATUS_LOCAL_PORT, STRATUS_LOCAL_GCS_PORT and
# STRATUS_LOCAL_STATE_DIR (see `scripts/local-stack.sh --help`). Needs scripts/setup-dev.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="$root/.venv/bin/python"
if [[ ! -x "$python" ]]; then
    echo "local-stack: no .venv yet: run scripts/setup-dev.sh first" >&2
    exit 1
fi
exec "$python" "$root/scripts/local_stack.py" "$@"
