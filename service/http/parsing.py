"""Request parsing: JSON bodies and query strings into declared pydantic messages.

Each endpoint declares one :class:`Message` subclass. Values follow proto3 JSON: int64
may arrive as numbers or strings, doubles as numbers or ``"NaN"``/``"Infinity"``.
Anything malformed becomes ``INVALID_PARAMETER_VALUE`` with MLflow's wording, never a 500.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError
from starlette.requests import Request

from service.errors import InvalidParameterValue, RequestTooLarge
from service.store.entities import KeyValue

M = TypeVar("M", bound="Message")
T = TypeVar("T")

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    return value


def _int64(value: int) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("out of int64 range")
    return value


def _proto_double(value: Any) -> Any:
    """Proto3 JSON doubles: numbers, or strings such as "NaN", "Infinity", "1.5"."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError(f"Value was of type '{type(value).__name__}'") from None
    return value


def _as_list(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


Text = Annotated[str, AfterValidator(_no_nul)]
Int64 = Annotated[int, AfterValidator(_int64)]
Double = Annotated[float, BeforeValidator(_proto_double)]
# A repeated field that also accepts a single query-string value: ``Repeated[Text]``.
Repeated = Annotated[list[T], BeforeValidator(_as_list)]


class Message(BaseModel):
    """Base of request messages: unknown fields are ignored, as proto3 JSON parsers do."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class KeyValueMessage(Message):
    key: Text
    value: Text = ""

    def entity(self) -> KeyValue:
        return KeyValue(self.key, self.value)


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(
            f"Request body of {declared} bytes exceeds the limit of {limit} bytes"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"Request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> dict[str, Any]:
    """The JSON object in the body of a POST/PATCH/DELETE request (empty body: ``{}``)."""
    body = await read_body(request, request.app.state.settings.max_request_body_bytes)
    if not body.strip():
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidParameterValue(f"Malformed JSON request body: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidParameterValue("The request body must be a JSON object.")
    return data


async def parse_json(request: Request, message: type[M]) -> M:
    """Parse the JSON body of a POST/PATCH/DELETE request into ``message``."""
    return validate(message, await read_json(request))


def parse_query(request: Request, message: type[M]) -> M:
    """Parse a GET request's query string; repeated keys become lists."""
    data: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        if key in data:
            previous = data[key]
            data[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            data[key] = value
    return validate(message, data)


def validate(message: type[M], data: dict[str, Any]) -> M:
    try:
        return message.model_validate(data)
    except ValidationError as exc:
        raise InvalidParameterValue(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    if error["type"] == "missing" or ("input" in error and error["input"] is None):
        return f"Missing value for required parameter '{where}'."
    supplied = error.get("input")
    if isinstance(supplied, str | int | float) and not isinstance(supplied, bool):
        shown = (
            repr(supplied)[:200]
            if not isinstance(supplied, float) or math.isfinite(supplied)
            else supplied
        )
        return f"Invalid value {shown} for parameter '{where}' supplied: {error['msg']}"
    return f"Invalid value for parameter '{where}' supplied: {error['msg']}"
