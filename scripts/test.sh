#!/usr/bin/env bash
# Run the test suite against SQLite, PostgreSQL and MariaDB.
# Starts the local PostgreSQL and MariaDB if they are down, then runs pytest from .venv.
# Extra arguments go to pytest, e.g. `scripts/test.sh tests/compat -k search`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x .venv/bin/pytest ]]; then
    echo "No .venv with the test tools yet: running scripts/setup-dev.sh first."
    scripts/setup-dev.sh
fi

backends="${STRATUS_TEST_BACKENDS:-sqlite,postgresql,mysql}"

wait_for() {  # wait_for NAME COMMAND...
    local name=$1; shift
    for _ in $(seq 1 60); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    echo "$name did not come up" >&2
    return 1
}

if [[ $backends == *postgresql* ]] && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "Starting PostgreSQL..."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432
fi

if [[ $backends == *mysql* ]] && ! mysqladmin ping -h 127.0.0.1 -uroot --silent 2>/dev/null; then
    echo "Starting MariaDB..."
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_for MariaDB mysqladmin ping -h 127.0.0.1 -uroot --silent
fi

exec .venv/bin/pytest "$@"
