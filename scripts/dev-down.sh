#!/usr/bin/env bash
# Stop the Docker stack of compose.yaml. The database and the bucket are kept in named volumes
# for the next scripts/dev-up.sh, unless --volumes (or --purge) asks to delete them.
#
#   scripts/dev-down.sh              # stop, keep the data
#   scripts/dev-down.sh --volumes    # stop and delete the data
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

purge=false
for arg in "$@"; do
    case "$arg" in
        --volumes | --purge) purge=true ;;
        -h | --help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "dev-down: unknown option: $arg (try --help)" >&2; exit 2 ;;
    esac
done

# shellcheck source=scripts/_compose.sh
source "$root/scripts/_compose.sh"
require_compose dev-down

if [[ $purge == true ]]; then
    "${compose[@]}" down --volumes --remove-orphans
    echo "Stopped; the database and bucket volumes are deleted."
else
    "${compose[@]}" down --remove-orphans
    echo "Stopped; data kept in the stack's volumes (scripts/dev-down.sh --volumes deletes it)."
fi
