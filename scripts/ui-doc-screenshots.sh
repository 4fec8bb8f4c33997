#!/usr/bin/env bash
# Regenerate the screenshots docs/ui.md shows (docs/ui/*.png) by running the browser tests
# that take them (tests/ui/conftest.py: DOC_SHOTS), on SQLite, in Debian's Chromium.
#
#   scripts/ui-doc-screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
STRATUS_UI_DOC_SHOTS=1 STRATUS_TEST_BACKENDS=sqlite nice .venv/bin/pytest -q -p no:cacheprovider \
    tests/ui/test_pages.py tests/ui/test_selection_links.py tests/ui/test_sweep.py \
    tests/ui/test_editing.py tests/ui/test_tokens.py tests/ui/test_auth.py \
    tests/ui/test_traces.py "$@"
ls -l docs/ui/*.png
