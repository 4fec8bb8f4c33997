"""Logging: plain lines for humans, or one JSON object per line for Cloud Logging."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

#: Python level name -> Cloud Logging severity.
SEVERITY = {
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "WARNING": "WARNING",
    "ERROR": "ERROR",
    "CRITICAL": "CRITICAL",
}


class CloudLoggingFormatter(logging.Formatter):
    """Structured JSON as Cloud Run's log agent parses it (``severity``, ``message``, ``time``)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "severity": SEVERITY.get(record.levelname, "DEFAULT"),
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        if record.exc_info:
            entry["stack_trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(CloudLoggingFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The pool logs a traceback each time it cannot roll back a connection the database
    # dropped; the store logs the outage itself, once (service.store.db.Outage).
    logging.getLogger("sqlalchemy.pool").setLevel(logging.CRITICAL)
    # gcsfs logs a traceback when it runs out of retries; the artifact store reports the
    # same failure in one line of its own (service.artifacts.errors), so keep gcsfs's line
    # without its traceback.
    logging.getLogger("gcsfs").addFilter(_without_traceback)


def _without_traceback(record: logging.LogRecord) -> bool:
    record.exc_info = None
    record.exc_text = None
    return True
