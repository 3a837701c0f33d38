"""HTTP route templates in the host's (ASP.NET) syntax, reduced to what Functions apps commonly use.

Supported per segment: a literal (matched case-insensitively), `{name}`, `{name:constraint}` with int, long,
alpha, bool or guid, an optional trailing `{name?}`, and a final catch-all `{*name}`. Anything else (defaults,
regex constraints, several parameters in one segment) is rejected at start-up rather than matched wrongly.
When several templates match a path, the most specific wins: literal, then constrained, then plain, then
optional parameters, then catch-all, segment by segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from urllib.parse import unquote

_PARAMETER = re.compile(r"^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+))?(\?)?\}$")
_CONSTRAINTS = {
    "int": re.compile(r"-?\d{1,10}"),
    "long": re.compile(r"-?\d{1,19}"),
    "alpha": re.compile(r"[A-Za-z]+"),
    "bool": re.compile(r"(?i:true|false)"),
    "guid": re.compile(r"\{?[0-9A-Fa-f]{8}-?(?:[0-9A-Fa-f]{4}-?){3}[0-9A-Fa-f]{12}\}?"),
}


class RouteError(ValueError):
    """A route template the local host cannot serve faithfully."""


class Kind(IntEnum):
    """Segment kinds in matching precedence order (lower is more specific)."""

    LITERAL = 0
    CONSTRAINED = 1
    PARAMETER = 2
    OPTIONAL = 3
    CATCH_ALL = 4


@dataclass(frozen=True)
class Segment:
    kind: Kind
    text: str  # the literal, or the parameter name
    constraint: re.Pattern[str] | None = None

    def accepts(self, value: str) -> bool:
        if self.kind is Kind.LITERAL:
            return value.casefold() == self.text.casefold()
        return self.constraint is None or self.constraint.fullmatch(value) is not None


def split_path(path: str) -> list[str]:
    """URL path to decoded segments; empty segments (double or trailing slashes) are dropped."""
    return [unquote(part) for part in path.split("/") if part]


def _segment(text: str, template: str) -> Segment:
    if "{" not in text and "}" not in text:
        return Segment(Kind.LITERAL, text)
    match = _PARAMETER.match(text)
    if not match:
        raise RouteError(
            f"route {template!r}: segment {text!r} is not supported (one {{parameter}} per segment)"
        )
    catch_all, name, constraint_name, optional = match.groups()
    if catch_all:
        return Segment(Kind.CATCH_ALL, name)
    constraint = None
    if constraint_name is not None:
        constraint = _CONSTRAINTS.get(constraint_name.lower())
        if constraint is None:
            raise RouteError(f"route {template!r}: constraint {constraint_name!r} is not supported")
    if optional:
        return Segment(Kind.OPTIONAL, name, constraint)
    return Segment(Kind.CONSTRAINED if constraint else Kind.PARAMETER, name, constraint)


@dataclass(frozen=True)
class RouteTemplate:
    template: str
    segments: tuple[Segment, ...]

    @property
    def precedence(self) -> tuple[int, ...]:
        return tuple(segment.kind for segment in self.segments)

    def match(self, path: list[str]) -> dict[str, str] | None:
        """Route parameter values if `path` (from split_path) matches; omitted optionals are absent."""
        values: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.kind is Kind.CATCH_ALL:
                values[segment.text] = "/".join(path[index:])
                return values
            if index >= len(path):
                return values if segment.kind is Kind.OPTIONAL else None
            if not segment.accepts(path[index]):
                return None
            if segment.kind is not Kind.LITERAL:
                values[segment.text] = path[index]
        return values if len(path) == len(self.segments) else None


def parse_route(route_prefix: str, route: str) -> RouteTemplate:
    """Compile `<routePrefix>/<route>` into a template, validating it the way the host would refuse it."""
    template = "/".join(part.strip("/") for part in (route_prefix, route) if part.strip("/"))
    segments = tuple(_segment(text, template) for text in template.split("/") if text)
    names = [segment.text for segment in segments if segment.kind is not Kind.LITERAL]
    if len(names) != len(set(names)):
        raise RouteError(f"route {template!r}: a parameter name is used twice")
    for index, segment in enumerate(segments):
        rest = segments[index + 1 :]
        if segment.kind is Kind.CATCH_ALL and rest:
            raise RouteError(f"route {template!r}: a catch-all parameter must be the last segment")
        if segment.kind is Kind.OPTIONAL and any(s.kind is not Kind.OPTIONAL for s in rest):
            raise RouteError(f"route {template!r}: only trailing parameters can be optional")
    return RouteTemplate(template=template, segments=segments)
