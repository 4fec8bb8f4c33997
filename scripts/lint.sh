#!/usr/bin/env bash
# The static checks CI runs before the tests (scripts/test.sh runs this first):
#   ruff check, ruff format --check   Python lint and format, the whole repository
#   mypy                              strict types on service/ and infra/ (pyproject [tool.mypy])
#   eslint, prettier --check          the web UI's JavaScript (service/ui/static/js)
# Every check runs even if one before it fails, so one run reports everything.
# scripts/setup-dev.sh installs the tools (.venv and node_modules, both locked).
#
#   scripts/lint.sh          # check
#   scripts/lint.sh --fix    # let ruff and prettier rewrite what they can, then check
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

fix=false
for arg in "$@"; do
    case "$arg" in
        --fix) fix=true ;;
        -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
    esac
done

# Node.js is needed for the JavaScript checks only: without it they are skipped on a laptop,
# and fail in CI (CI=true), where nothing may be skipped silently.
js=true
if ! command -v npm >/dev/null 2>&1; then
    js=false
fi
if [[ ! -x .venv/bin/ruff || ! -x .venv/bin/mypy ]] || { $js && [[ ! -x node_modules/.bin/eslint ]]; }; then
    echo "The lint tools are not installed yet: running scripts/setup-dev.sh first."
    scripts/setup-dev.sh || exit 1
fi

if $fix; then
    .venv/bin/ruff check --fix --quiet .
    .venv/bin/ruff format --quiet .
    if $js; then
        node_modules/.bin/prettier --write --log-level warn service/ui/static/js
    fi
fi

failed=()
check() {  # check NAME COMMAND...
    local name=$1
    shift
    printf '==> %s\n' "$name"
    if ! "$@"; then
        failed+=("$name")
    fi
}

check "ruff check" .venv/bin/ruff check .
check "ruff format --check" .venv/bin/ruff format --check .
check "mypy (strict: service, infra)" .venv/bin/mypy
if $js; then
    check "eslint" node_modules/.bin/eslint service/ui/static/js
    check "prettier --check" node_modules/.bin/prettier --check --log-level warn service/ui/static/js
elif [[ ${CI:-} == true ]]; then
    echo "==> eslint, prettier: Node.js (npm) is missing, and CI must run them" >&2
    failed+=("eslint, prettier (no Node.js)")
else
    echo "==> eslint, prettier: SKIPPED, no Node.js (npm) on this machine; CI runs them"
fi

if ((${#failed[@]} > 0)); then
    printf 'Lint failed:' >&2
    printf ' [%s]' "${failed[@]}" >&2
    printf '\n' >&2
    echo "scripts/lint.sh --fix rewrites what ruff and prettier can; mypy and eslint need you." >&2
    exit 1
fi
echo "Lint clean."
