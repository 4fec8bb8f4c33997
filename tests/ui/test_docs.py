"""docs/ui.md shows each view with a screenshot the browser tests made: every picture it
links exists in docs/ui/ and is one the tests write there (conftest.DOC_SHOTS)."""

from __future__ import annotations

import re

from tests.support.server import REPO_ROOT
from tests.ui.conftest import DOC_SHOTS, DOC_SHOTS_DIR


def test_docs_show_the_screenshots_the_tests_make():
    text = (REPO_ROOT / "docs" / "ui.md").read_text()
    linked = set(re.findall(r"\]\(ui/([a-z0-9-]+)\.png\)", text))
    assert linked == DOC_SHOTS
    missing = [name for name in sorted(DOC_SHOTS) if not (DOC_SHOTS_DIR / f"{name}.png").exists()]
    assert missing == [], "run scripts/ui-doc-screenshots.sh"
