#!/usr/bin/env bash
# Regenerate the lock files (needs uv and access to PyPI):
#   runtime.txt  the service and its `gcp` extra, from pyproject.toml: what the image runs
#   build.txt    pip and hatchling, from build.in: what the builder stage uses to make the wheel
#   dev.txt      the `dev` extra (tests, infra, lint tools) and clients/stratus-auth: what
#                scripts/setup-dev.sh installs into .venv, for every Python from 3.11 and
#                every platform (--universal), so CI and every laptop test the same versions
# All carry a sha256 for every distribution, so `pip install --require-hashes` can trust them.
# Pins already in a lock file are kept; pass --upgrade (or --upgrade-package NAME) to move them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if command -v uv >/dev/null 2>&1; then
    uv=(uv)
elif [[ -x .venv/bin/uv ]]; then
    uv=(.venv/bin/uv)
else
    echo "uv is needed to compile the lock files: .venv/bin/pip install uv" >&2
    exit 1
fi

# The image's Python, read from the Dockerfile so the two cannot drift apart.
python_version="$(sed -n 's/^ARG PYTHON_VERSION=\([0-9.]*\)$/\1/p' Dockerfile)"
if [[ -z "$python_version" ]]; then
    echo "Dockerfile has no 'ARG PYTHON_VERSION=<x.y>' line" >&2
    exit 1
fi

common=(
    --generate-hashes
    --python-version "$python_version"
    --python-platform linux
    --custom-compile-command "requirements/compile.sh"
    --quiet
)
"${uv[@]}" pip compile pyproject.toml --extra gcp "${common[@]}" "$@" -o requirements/runtime.txt
"${uv[@]}" pip compile requirements/build.in "${common[@]}" "$@" -o requirements/build.txt
# The developer environment: any supported Python (the oldest decides what must resolve).
requires_python="$(sed -n 's/^requires-python = ">=\([0-9.]*\)"$/\1/p' pyproject.toml)"
"${uv[@]}" pip compile pyproject.toml clients/stratus-auth/pyproject.toml --extra dev \
    --universal --python-version "$requires_python" --generate-hashes \
    --custom-compile-command "requirements/compile.sh" --quiet "$@" -o requirements/dev.txt
echo "requirements/runtime.txt and build.txt are up to date (Python $python_version);" \
    "requirements/dev.txt too (Python $requires_python and newer, every platform)."
