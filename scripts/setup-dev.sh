#!/usr/bin/env bash
# One-command developer setup, from a fresh clone to green tests:
#   1. .venv with Python 3.11+: the locked dev environment (requirements/dev.txt, every
#      file checked by hash), then the project and clients/stratus-auth installed editable;
#   2. node_modules with the web UI's lint tools (ESLint, Prettier), if Node.js is here;
#   3. the pre-commit hooks (ruff from .venv, so they work offline);
#   4. a report of the optional tools (docker, pulumi, gcloud, PostgreSQL, MariaDB).
# Safe to run again: an existing .venv is reused and only refreshed when pyproject.toml or
# requirements/dev.txt changed. After changing dependencies: requirements/compile.sh.
#
#   scripts/setup-dev.sh              # PYTHON=/path/to/python3.12 picks the interpreter
#   scripts/setup-dev.sh --reinstall  # install the dependencies even if nothing changed
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv=.venv
stamp="$venv/.stratus-setup"
reinstall=false
for arg in "$@"; do
    case "$arg" in
        --reinstall) reinstall=true ;;
        -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
    esac
done

say() { printf '==> %s\n' "$*"; }

supported() {  # supported PYTHON: true if it runs and is 3.11 or newer
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
        if [[ -n "$candidate" ]] && supported "$candidate"; then
            command -v "$candidate" || printf '%s\n' "$candidate"
            return 0
        fi
    done
    return 1
}

# 1. The virtualenv ----------------------------------------------------------------------
if [[ -x "$venv/bin/python" ]] && supported "$venv/bin/python"; then
    say "Reusing $venv ($("$venv/bin/python" --version))"
else
    if ! python="$(find_python)"; then
        echo "Stratus needs Python 3.11 or newer: none found (tried \$PYTHON, python3," \
            "python3.13, python3.12, python3.11). Install one, or set PYTHON=/path/to/python." >&2
        exit 1
    fi
    if [[ -e "$venv" ]]; then
        say "$venv exists but has no usable Python 3.11+: recreating it"
        rm -rf "$venv"
    fi
    say "Creating $venv with $python ($("$python" --version))"
    "$python" -m venv "$venv"
    rm -f "$stamp"
fi

# 2. The locked dev environment, then the project ------------------------------------------
wanted="$("$venv/bin/python" -c '
import hashlib, sys
print(hashlib.sha256(b"".join(open(p, "rb").read() for p in sys.argv[1:])).hexdigest())
' pyproject.toml requirements/dev.txt)"
if [[ $reinstall == false && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]] \
    && "$venv/bin/python" -m pip check >/dev/null 2>&1; then
    say "Dependencies are up to date (pyproject.toml and requirements/dev.txt unchanged)"
else
    say "Installing the locked dev environment (mlflow makes the first run take minutes)"
    pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
    "${pip[@]}" --require-hashes -r requirements/dev.txt
    # The client plugin (clients/stratus-auth) is its own package; its tests need it installed.
    "${pip[@]}" --no-deps -e . -e clients/stratus-auth
    # Fails if the lock misses a dependency of pyproject.toml: run requirements/compile.sh.
    "$venv/bin/python" -m pip check
    printf '%s\n' "$wanted" >"$stamp"
fi

# 3. The web UI's JavaScript lint tools (ESLint, Prettier: package-lock.json) ------------
if command -v npm >/dev/null 2>&1; then
    js_wanted="$("$venv/bin/python" -c \
        'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' \
        package-lock.json)"
    js_stamp=node_modules/.stratus-setup
    if [[ $reinstall == false && -f "$js_stamp" && "$(cat "$js_stamp")" == "$js_wanted" ]]; then
        say "JavaScript lint tools are up to date (package-lock.json unchanged)"
    else
        say "Installing the JavaScript lint tools from package-lock.json (npm ci)"
        npm ci --no-audit --no-fund --loglevel=error
        printf '%s\n' "$js_wanted" >"$js_stamp"
    fi
else
    echo "warning: no Node.js (npm): scripts/lint.sh skips ESLint and Prettier here;" \
        "CI runs them (install Node.js 20.19+ to run them locally)" >&2
fi

# 4. Pre-commit hooks ---------------------------------------------------------------------
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    if "$venv/bin/pre-commit" install --install-hooks >/dev/null; then
        say "pre-commit hooks installed (ruff check and ruff format --check on commit)"
    else
        echo "warning: could not install the pre-commit hooks (see above);" \
            "run .venv/bin/pre-commit run --all-files by hand before pushing" >&2
    fi
else
    say "Not a git checkout: skipping the pre-commit hooks"
fi

# 5. Optional tools -------------------------------------------------------------------------
missing=0
check_tool() {  # check_tool LABEL PURPOSE COMMAND...
    local label=$1 purpose=$2
    shift 2
    if "$@" >/dev/null 2>&1; then
        printf '    %-14s ok       %s\n' "$label" "$purpose"
    else
        printf '    %-14s MISSING  %s\n' "$label" "$purpose"
        missing=$((missing + 1))
    fi
}
say "Optional tools (each is needed only for what is listed next to it):"
check_tool docker "scripts/dev-up.sh (compose.yaml) and building the image for 'pulumi up'" \
    docker --version
check_tool "docker engine" "running containers: the docker client alone is not enough" \
    docker info
compose_v2() { docker compose version || docker-compose version; }
check_tool compose "Docker Compose v2, used by scripts/dev-up.sh and dev-down.sh" compose_v2
check_tool pulumi "deploying to Google Cloud (infra/, docs/deploy.md)" pulumi version
check_tool gcloud "authenticating to Google Cloud, Cloud Build, scripts/gcp-bootstrap.sh" \
    gcloud --version
check_tool postgresql "the PostgreSQL tests and scripts/local-stack.sh (pg_isready, psql)" \
    pg_isready --version
check_tool mariadb "the MariaDB tests (mysqladmin)" mysqladmin --version
image_version="$(sed -n 's/^ARG PYTHON_VERSION=\([0-9.]*\)$/\1/p' Dockerfile)"
image_python() {  # the image's Python on PATH, or one that pyenv installed
    local candidate
    for candidate in "python$image_version" "$HOME"/.pyenv/versions/"$image_version".*/bin/python3; do
        "$candidate" -c "import sys; assert '%d.%d' % sys.version_info[:2] == '$image_version'" \
            && return 0
    done
    return 1
}
check_tool "python$image_version" "the image's Python: tests/local replays the image build with it" \
    image_python
if ((missing > 0)); then
    say "$missing optional tool(s) missing: only the features listed next to them need them"
fi

cat <<EOF
==> Ready. Next:
    .venv/bin/stratus serve          # a server on http://127.0.0.1:5000 (SQLite in ./stratus-data)
    scripts/test.sh                  # the test suite (STRATUS_TEST_BACKENDS=sqlite to narrow it)
    scripts/local-stack.sh           # PostgreSQL + GCS emulator + server, like Cloud Run
EOF
