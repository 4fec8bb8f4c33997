"""The ``stratus`` command as a test runs it: a child process against one database."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support.server import REPO_ROOT


def stratus(database_url: str, *args: str) -> str:
    """Run ``stratus <args> --backend-store-uri <database_url>``; its standard output."""
    result = subprocess.run(
        [sys.executable, "-m", "service", *args, "--backend-store-uri", database_url],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    return result.stdout


def create_token(database_url: str, user: str, name: str = "test") -> str:
    """A new personal access token for ``user``, as ``stratus token create`` prints it."""
    output = stratus(database_url, "token", "create", "--user", user, "--name", name)
    match = re.search(r"stratus_pat_\S+", output)
    assert match, output
    return match.group(0)
