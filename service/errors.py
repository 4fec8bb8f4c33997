"""The errors Stratus raises, and the one table that maps them to HTTP.

Every error that reaches a client is a :class:`StratusError` subclass, and each subclass
fixes its MLflow ``error_code``. There is deliberately no catch-all code: an unexpected
exception is a bug and becomes ``INTERNAL_ERROR`` only in the outermost handler.

Hierarchy::

    StratusError
    ├── InvalidParameterValue   INVALID_PARAMETER_VALUE   400
    ├── BadRequest              BAD_REQUEST               400
    ├── ResourceAlreadyExists   RESOURCE_ALREADY_EXISTS   400
    ├── ResourceDoesNotExist    RESOURCE_DOES_NOT_EXIST   404
    ├── Unauthenticated         UNAUTHENTICATED           401
    ├── PermissionDenied        PERMISSION_DENIED         403
    ├── RequestTooLarge         RESOURCE_LIMIT_EXCEEDED   413
    └── TooManyRequests         REQUEST_LIMIT_EXCEEDED    429 (with Retry-After)
"""

from __future__ import annotations

from typing import ClassVar

#: MLflow error code -> HTTP status. The only place this mapping lives.
HTTP_STATUS: dict[str, int] = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_LIMIT_EXCEEDED": 413,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "TEMPORARILY_UNAVAILABLE": 503,
    "INTERNAL_ERROR": 500,
}


class StratusError(Exception):
    """Base of every error shown to a client. Subclasses set ``error_code``."""

    error_code: ClassVar[str]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.error_code]


class InvalidParameterValue(StratusError):
    error_code = "INVALID_PARAMETER_VALUE"


class BadRequest(StratusError):
    error_code = "BAD_REQUEST"


class ResourceAlreadyExists(StratusError):
    error_code = "RESOURCE_ALREADY_EXISTS"


class ResourceDoesNotExist(StratusError):
    error_code = "RESOURCE_DOES_NOT_EXIST"


class Unauthenticated(StratusError):
    error_code = "UNAUTHENTICATED"


class PermissionDenied(StratusError):
    error_code = "PERMISSION_DENIED"


class RequestTooLarge(StratusError):
    error_code = "RESOURCE_LIMIT_EXCEEDED"


class TooManyRequests(StratusError):
    """Work shed before it starts (password checks); the client may retry later."""

    error_code = "REQUEST_LIMIT_EXCEEDED"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class TemporarilyUnavailable(StratusError):
    """A backing service (database, bucket, Google) is unreachable or overloaded.

    A 503 with ``Retry-After``: the mlflow client retries 5xx by itself.
    """

    error_code = "TEMPORARILY_UNAVAILABLE"

    def __init__(self, message: str, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
