#!/usr/bin/env bash
# Regenerate the image's lock files (needs uv and access to PyPI):
#   runtime.txt  the service and its `gcp` extra, from pyproject.toml: what the image runs
#   build.txt    pip and hatchling, from build.in: what the builder stage uses to make the wheel
# Both carry a sha256 for every distribution, so `pip install --require-hashes` can trust them.
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
echo "requirements/runtime.txt and requirements/build.txt are up to date (Python $python_version)."
