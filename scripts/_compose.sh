# shellcheck shell=bash
# Sourced by dev-up.sh and dev-down.sh: find Docker Compose, or explain what is missing.
# require_compose sets the array `compose` (`docker compose`, or the standalone
# `docker-compose`) for the caller; `probe URL` checks a URL from this host.

# shellcheck disable=SC2034  # `compose` is the caller's
require_compose() {  # require_compose SCRIPT_NAME
    local name=$1
    if ! command -v docker >/dev/null 2>&1; then
        echo "$name: Docker is not installed (no 'docker' command)." \
            "Install Docker Engine or Docker Desktop, or run the same stack without Docker:" \
            "scripts/local-stack.sh" >&2
        exit 1
    fi
    if ! docker info >/dev/null 2>&1; then
        echo "$name: the Docker engine is not reachable ('docker info' failed): start Docker," \
            "or run the same stack without it: scripts/local-stack.sh" >&2
        exit 1
    fi
    if docker compose version >/dev/null 2>&1; then
        compose=(docker compose)
    elif command -v docker-compose >/dev/null 2>&1; then
        compose=(docker-compose)
    else
        echo "$name: Docker Compose v2 is missing ('docker compose version' failed):" \
            "install the compose plugin" >&2
        exit 1
    fi
}

probe() {  # probe URL: true when URL answers 2xx
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null --max-time 3 "$1"
    else
        python3 -c 'import sys, urllib.request as u; u.urlopen(sys.argv[1], timeout=3)' "$1" \
            >/dev/null 2>&1
    fi
}
