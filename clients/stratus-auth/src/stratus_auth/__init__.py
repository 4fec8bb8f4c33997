"""Google identity for the mlflow client, when it talks to a Stratus server.

Installed, it gives every request mlflow sends to an ``http(s)`` tracking URI a fresh
Google ID token from Application Default Credentials (see README.md). Nothing to call:
mlflow finds the providers through its plugin entry points.
"""

from stratus_auth.credentials import IdTokens

__all__ = ["IdTokens"]
