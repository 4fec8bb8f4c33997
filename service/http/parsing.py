"""Request parsing: JSON bodies and query strings into declared pydantic messages.

Each endpoint declares one :class:`Message` subclass. Values follow proto3 JSON: int64
may arrive as numbers or strings, doubles as numbers or ``"NaN"``/``"Infinity"``.
Anything malformed becomes ``INVALID_PARAMETER_VALUE`` with MLflow's wording, never a 500.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError
from starlette.requests import Request

from service.errors import InvalidParameterValue, RequestTooLarge
from service.store.entities.common import KeyValue
from service.store.experiments import parse_experiment_id
from service.store.registry import parse_version
from service.store.validation import INT64_MAX, INT64_MIN

M = TypeVar("M", bound="Message")
T = TypeVar("T")

#: MLflow ends every validation message with this pointer.
SEE_DOCS = " See the API docs for more information about request parameters."
#: At most this much of a bad value is quoted back in an error message.
MAX_SHOWN = 200


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
        raise PydanticCustomError("float_type", "Input should be a valid number")
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise PydanticCustomError("float_parsing", "Input should be a valid number") from None
    return value


def _as_list(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


Text = Annotated[str, AfterValidator(_no_nul)]
#: Ids read once, here, for every endpoint: digits as a string or a number. Malformed or
#: outside int64 is a 400 ``INVALID_PARAMETER_VALUE`` (never the database's overflow 500).
ExperimentId = Annotated[int, BeforeValidator(parse_experiment_id)]
VersionNumber = Annotated[int, BeforeValidator(parse_version)]
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


def missing_value(name: str) -> str:
    """MLflow's wording for a required parameter that is absent (or null, or empty)."""
    return f"Missing value for required parameter '{name}'.{SEE_DOCS}"


def invalid_value(name: str, value: Any, reason: str | None = None) -> str:
    """MLflow's wording for a bad value: the value JSON-encoded, then why.

    Without a ``reason`` the hint names the JSON type received, as MLflow's type checks do.
    Values are cut at :data:`MAX_SHOWN` characters so an error never echoes a megabyte.
    """
    shown = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    if len(shown) > MAX_SHOWN:
        shown = shown[:MAX_SHOWN] + "..."
    why = reason or f" Hint: Value was of type '{type(value).__name__}'."
    return f"Invalid value {shown} for parameter '{name}' supplied: {why}{SEE_DOCS}"


def _describe(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    if error["type"] == "missing" or error.get("input", "") is None:
        return missing_value(where)
    if error["type"] == "value_error":  # one of this module's checks, which say why
        return invalid_value(where, error["input"], f"{error['ctx']['error']}.")
    return invalid_value(where, error.get("input"))
