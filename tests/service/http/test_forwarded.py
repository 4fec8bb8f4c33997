"""X-Forwarded-For/-Proto count only from the proxies in STRATUS_FORWARDED_ALLOW_IPS."""

from __future__ import annotations

import pydantic
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from service.config import Settings
from service.http.forwarded import ForwardedHeaders

PROXY_HEADERS = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


async def _whoami(request: Request) -> JSONResponse:
    client = request.client.host if request.client else None
    return JSONResponse({"client": client, "scheme": request.url.scheme})


def _seen(peer: str, trusted: tuple[str, ...], headers: dict[str, str]) -> dict[str, str]:
    app = Starlette(routes=[Route("/", _whoami)])
    app.add_middleware(ForwardedHeaders, trusted=trusted)
    with TestClient(app, client=(peer, 40000)) as http:
        body: dict[str, str] = http.get("/", headers=headers).json()
    return body


def test_the_default_trusts_a_proxy_on_loopback_only() -> None:
    trusted = Settings().forwarded_allow_ips
    assert _seen("127.0.0.1", trusted, PROXY_HEADERS) == {
        "client": "203.0.113.9",
        "scheme": "https",
    }
    assert _seen("::1", trusted, PROXY_HEADERS)["client"] == "203.0.113.9"


def test_headers_from_an_untrusted_peer_are_ignored() -> None:
    trusted = Settings().forwarded_allow_ips
    assert _seen("198.51.100.7", trusted, PROXY_HEADERS) == {
        "client": "198.51.100.7",
        "scheme": "http",
    }


def test_networks_and_star() -> None:
    assert _seen("10.1.2.3", ("10.0.0.0/8",), PROXY_HEADERS)["client"] == "203.0.113.9"
    assert _seen("169.254.8.1", ("*",), PROXY_HEADERS)["scheme"] == "https"


def test_the_client_is_the_right_most_untrusted_hop() -> None:
    """Entries left of the first untrusted address were written by the client itself."""
    headers = {"X-Forwarded-For": "6.6.6.6, 203.0.113.9, 10.0.0.5"}
    assert _seen("10.0.0.1", ("10.0.0.0/8",), headers)["client"] == "203.0.113.9"


def test_star_trusts_the_peer_but_not_what_the_client_wrote() -> None:
    """Behind Cloud Run (``*``), a client that sends its own X-Forwarded-For is still seen
    at the address the front end appended, never at the one it made up."""
    spoofed = {"X-Forwarded-For": "6.6.6.6, 203.0.113.9", "X-Forwarded-Proto": "https"}
    assert _seen("169.254.8.1", ("*",), spoofed) == {"client": "203.0.113.9", "scheme": "https"}


def test_an_unknown_scheme_is_not_taken() -> None:
    headers = {"X-Forwarded-Proto": "gopher", "X-Forwarded-For": "203.0.113.9"}
    assert _seen("127.0.0.1", ("127.0.0.1",), headers)["scheme"] == "http"


def test_the_setting_reads_a_comma_list_and_refuses_garbage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRATUS_FORWARDED_ALLOW_IPS", "10.0.0.0/8, 127.0.0.1")
    assert Settings().forwarded_allow_ips == ("10.0.0.0/8", "127.0.0.1")
    monkeypatch.setenv("STRATUS_FORWARDED_ALLOW_IPS", "*")
    assert Settings().forwarded_allow_ips == ("*",)
    monkeypatch.setenv("STRATUS_FORWARDED_ALLOW_IPS", "proxy.example")
    with pytest.raises(pydantic.ValidationError, match=r"proxy\.example"):
        Settings()
