"""The `filter` query parameter: a small OData-like language, tokenised and parsed by recursive descent.

Grammar (keywords and property names are matched without regard to case):

    expression := term ("or" term)*
    term       := factor ("and" factor)*
    factor     := "not" factor | "(" expression ")" | comparison
    comparison := PROPERTY OPERATOR literal
    literal    := 'quoted string' ('' escapes a quote) | unquoted ISO date-time

String properties allow eq/ne; date-time properties allow eq/ne/gt/ge/lt/le and accept the date-time quoted
or not. Anything else is a FilterError naming the problem and its position, which the API reports as
InvalidRequest/UnsupportedFilter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

from local.speech_emulator.isotime import parse_timestamp


class FilterError(ValueError):
    """The filter text is not something the service understands."""


class Kind(Enum):
    STRING = "string"
    DATETIME = "date-time"


TRANSCRIPTION_FIELDS: Mapping[str, Kind] = {
    "displayName": Kind.STRING,
    "description": Kind.STRING,
    "status": Kind.STRING,
    "locale": Kind.STRING,
    "createdDateTime": Kind.DATETIME,
    "lastActionDateTime": Kind.DATETIME,
}
FILE_FIELDS: Mapping[str, Kind] = {"name": Kind.STRING, "kind": Kind.STRING, "createdDateTime": Kind.DATETIME}

Value = str | datetime | None
Record = Mapping[str, Value]

_EQUALITY = frozenset({"eq", "ne"})
_ORDERING = frozenset({"gt", "ge", "lt", "le"})
_KEYWORDS = frozenset({"and", "or", "not"}) | _EQUALITY | _ORDERING
_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<paren>[()])
      | (?P<string>'(?:[^']|'')*')
      | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # paren, string, datetime, word, keyword, end
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            if text[position] == "'":
                raise FilterError(f"Unterminated string literal at position {position}.")
            raise FilterError(f"Unexpected character '{text[position]}' at position {position}.")
        kind = match.lastgroup or ""
        value = match.group()
        if kind == "word" and value.lower() in _KEYWORDS:
            tokens.append(Token("keyword", value.lower(), position))
        elif kind == "string":
            tokens.append(Token(kind, value[1:-1].replace("''", "'"), position))
        elif kind != "space":
            tokens.append(Token(kind, value, position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class Predicate(Protocol):
    def matches(self, record: Record) -> bool: ...


@dataclass(frozen=True)
class Comparison:
    field: str
    operator: str
    value: str | datetime

    def matches(self, record: Record) -> bool:
        actual = record.get(self.field)
        if self.operator == "eq":
            return actual == self.value
        if self.operator == "ne":
            return actual != self.value
        if not isinstance(actual, datetime) or not isinstance(self.value, datetime):
            return False
        return {
            "gt": actual > self.value,
            "ge": actual >= self.value,
            "lt": actual < self.value,
            "le": actual <= self.value,
        }[self.operator]


@dataclass(frozen=True)
class And:
    left: Predicate
    right: Predicate

    def matches(self, record: Record) -> bool:
        return self.left.matches(record) and self.right.matches(record)


@dataclass(frozen=True)
class Or:
    left: Predicate
    right: Predicate

    def matches(self, record: Record) -> bool:
        return self.left.matches(record) or self.right.matches(record)


@dataclass(frozen=True)
class Not:
    inner: Predicate

    def matches(self, record: Record) -> bool:
        return not self.inner.matches(record)


class _Parser:
    def __init__(self, text: str, fields: Mapping[str, Kind]) -> None:
        self._tokens = tokenize(text)
        self._index = 0
        self._fields = {name.lower(): name for name in fields}
        self._kinds = fields

    def _peek(self) -> Token:
        return self._tokens[self._index]

    def _take(self) -> Token:
        token = self._tokens[self._index]
        self._index += 1
        return token

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token.kind == "keyword" and token.text == word:
            self._index += 1
            return True
        return False

    def parse(self) -> Predicate:
        if self._peek().kind == "end":
            raise FilterError("The filter is empty.")
        expression = self._expression()
        token = self._peek()
        if token.kind != "end":
            raise FilterError(f"Unexpected '{token.text}' at position {token.position}.")
        return expression

    def _expression(self) -> Predicate:
        left = self._term()
        while self._keyword("or"):
            left = Or(left, self._term())
        return left

    def _term(self) -> Predicate:
        left = self._factor()
        while self._keyword("and"):
            left = And(left, self._factor())
        return left

    def _factor(self) -> Predicate:
        if self._keyword("not"):
            return Not(self._factor())
        token = self._peek()
        if token.kind == "paren" and token.text == "(":
            self._take()
            inner = self._expression()
            closing = self._take()
            if closing.kind != "paren" or closing.text != ")":
                raise FilterError(f"Expected ')' at position {closing.position}.")
            return inner
        return self._comparison()

    def _comparison(self) -> Comparison:
        token = self._take()
        if token.kind != "word":
            found = token.text or "end of filter"
            raise FilterError(f"Expected a property name at position {token.position}, found '{found}'.")
        field = self._fields.get(token.text.lower())
        if field is None:
            supported = ", ".join(self._kinds)
            raise FilterError(f"Unsupported property '{token.text}'; filterable properties are {supported}.")
        kind = self._kinds[field]
        operator = self._take()
        if operator.kind != "keyword" or operator.text not in _EQUALITY | _ORDERING:
            raise FilterError(
                f"Expected a comparison operator after '{token.text}' at position {operator.position}."
            )
        if kind is Kind.STRING and operator.text in _ORDERING:
            raise FilterError(
                f"Operator '{operator.text}' is not supported for property '{field}'; use eq or ne."
            )
        return Comparison(field, operator.text, self._literal(field, kind))

    def _literal(self, field: str, kind: Kind) -> str | datetime:
        token = self._take()
        if kind is Kind.STRING:
            if token.kind != "string":
                raise FilterError(f"Property '{field}' needs a quoted string at position {token.position}.")
            return token.text
        if token.kind not in {"datetime", "string"}:
            raise FilterError(f"Property '{field}' needs an ISO-8601 date-time at position {token.position}.")
        try:
            return parse_timestamp(token.text)
        except ValueError:
            raise FilterError(
                f"'{token.text}' at position {token.position} is not a valid date-time."
            ) from None


def parse_filter(text: str, fields: Mapping[str, Kind]) -> Predicate:
    return _Parser(text, fields).parse()
