"""The two ways the program refuses to deploy.

Both subclass ``pulumi.RunError``, so ``pulumi preview`` prints the message alone, without
a Python traceback, and stops before any resource is planned.
"""

from __future__ import annotations

import pulumi


class StackConfigError(pulumi.RunError):
    """A stack config value is missing, malformed or unsafe; the message names the key."""


class ConnectionBudgetError(pulumi.RunError):
    """Cloud Run could open more database connections than the Cloud SQL tier accepts."""
