#!/usr/bin/env bash
# Run the static checks (scripts/lint.sh), then the test suite against SQLite, PostgreSQL
# and MariaDB. Starts the local PostgreSQL and MariaDB if they are down, then runs pytest
# from .venv. Extra arguments go to pytest, e.g. `scripts/test.sh tests/compat -k search`.
#
# The default run (not CI) runs pytest on several workers (pytest-xdist, `-n`): one more
# than the cores, at most 4. tests/support/scheduling.py says how the tests are shared out;
# the timing tests (`xdist_group("serial")`) run last, alone. CI (CI=true) runs one worker:
# everything, slow tests included, in pytest's own order. `-n 0` among the arguments runs
# a default run serially too.
#   STRATUS_TEST_BACKENDS=sqlite   SQLite only: PostgreSQL and MariaDB are neither needed nor started
#   STRATUS_LINT=false             skip scripts/lint.sh (a quick loop on one test; CI always lints)
#   STRATUS_TEST_SLOW=true         also run the tests marked slow (subprocesses, browsers, big
#                                  data), as CI (CI=true) always does; by default they are left out
#   STRATUS_TEST_WORKERS=N         the number of pytest workers (0: one process, no xdist)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x .venv/bin/pytest ]]; then
    echo "No .venv with the test tools yet: running scripts/setup-dev.sh first."
    scripts/setup-dev.sh
fi

if [[ ${STRATUS_LINT:-true} != false || ${CI:-} == true ]]; then
    scripts/lint.sh
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
    versions=(/etc/postgresql/*)
    pg_ctlcluster --skip-systemctl-redirect "$(basename "${versions[0]}")" main start
    wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432
fi

if [[ $backends == *mysql* ]] && ! mysqladmin ping -h 127.0.0.1 -uroot --silent 2>/dev/null; then
    echo "Starting MariaDB..."
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_for MariaDB mysqladmin ping -h 127.0.0.1 -uroot --silent
fi

if [[ ${CI:-} == true ]]; then
    workers=${STRATUS_TEST_WORKERS:-0}
else
    cores=$(nproc 2>/dev/null || echo 1)
    workers=${STRATUS_TEST_WORKERS:-$((cores + 1 < 4 ? cores + 1 : 4))}
fi
if [[ ${CI:-} == true || ${STRATUS_TEST_SLOW:-false} == true ]]; then
    exec .venv/bin/pytest -n "$workers" "$@"
fi
exec .venv/bin/pytest -n "$workers" -m "not slow" "$@"
