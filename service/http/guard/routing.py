"""Matching a request to its route's rule, before the router runs.

The table is built once from the app's own routes, so it covers exactly what the app
serves. Routes without parameters (nearly all of the REST API) are one dict lookup; the
few with parameters (logged models, artifacts, static files) are matched by regex.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.convertors import Convertor
from starlette.routing import BaseRoute, Mount, Route, compile_path

from service.http.guard.rules import ADMIN, Rule, canonical


@dataclass(frozen=True)
class RouteSpec:
    """One (method, path template) the app serves."""

    method: str
    template: str

    @property
    def key(self) -> tuple[str, str]:
        return self.method, canonical(self.template)


def served(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[RouteSpec]:
    """Every (method, template) of ``routes``; HEAD is left out (it follows GET)."""
    for route in routes:
        if isinstance(route, Mount):
            if route.routes:
                yield from served(route.routes, prefix + route.path)
            else:  # a mounted app (static files): GET anything under the prefix
                yield RouteSpec("GET", f"{prefix}{route.path}/{{path:path}}")
        elif isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield RouteSpec(method, prefix + route.path)


@dataclass(frozen=True)
class Match:
    rule: Rule
    path_params: dict[str, Any]


@dataclass(frozen=True)
class _Pattern:
    method: str
    regex: re.Pattern[str]
    convertors: dict[str, Convertor[Any]]
    rule: Rule


class RouteTable:
    """Finds the rule of the route Starlette's router will pick: the first full match."""

    def __init__(self, routes: Sequence[BaseRoute], rules: Mapping[tuple[str, str], Rule]):
        self._exact: dict[tuple[str, str], Match] = {}
        self._patterns: list[_Pattern] = []
        self.unruled: list[RouteSpec] = []
        for spec in served(routes):
            rule = rules.get(spec.key)
            if rule is None:
                self.unruled.append(spec)
                rule = ADMIN  # fail closed
            regex, _, convertors = compile_path(spec.template)
            if convertors:
                self._patterns.append(_Pattern(spec.method, regex, convertors, rule))
            elif (spec.method, spec.template) not in self._exact:
                # An earlier parameterised route of the same method may shadow this path.
                earlier = self._match_patterns(spec.method, spec.template)
                self._exact[spec.method, spec.template] = earlier or Match(rule, {})

    def match(self, method: str, path: str) -> Match | None:
        """The rule for this request, or None when no route serves it (a 404 or 405)."""
        if method == "HEAD":
            method = "GET"
        return self._exact.get((method, path)) or self._match_patterns(method, path)

    def _match_patterns(self, method: str, path: str) -> Match | None:
        for pattern in self._patterns:
            if pattern.method != method:
                continue
            found = pattern.regex.match(path)
            if found:
                params = {
                    name: pattern.convertors[name].convert(value)
                    for name, value in found.groupdict().items()
                }
                return Match(pattern.rule, params)
        return None
