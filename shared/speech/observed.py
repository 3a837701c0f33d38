"""Telemetry of Speech calls: one span per logical call, metrics per attempt.

    Pipeline.call -> TracingLayer -> RetryLayer -> RateLimitLayer -> AuthLayer -> AttemptLayer -> transport

TracingLayer opens a CLIENT span named for the operation (`GET /transcriptions/{id}/files`, ids templated so
the name never carries one) and, when the call ends, records on it the final status, the attempts, how many
were answered 429 and the seconds spent waiting for the client's rate limit. AttemptLayer counts every
request actually sent (`speech.requests` by operation and status code, `speech.throttled`). URLs are
recorded with their SAS signature redacted; headers (keys, tokens) never are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests
from opentelemetry import trace

from shared import telemetry
from shared.redact import redact_url

if TYPE_CHECKING:  # the transport module builds its stack from these layers
    from shared.speech.transport import HttpRequest, HttpResponse, Transport

# Path words of the Speech REST API; any other segment is an id (or a file name) and becomes `{id}`.
_WORDS = frozenset(
    {
        "transcriptions",
        "files",
        "webhooks",
        "locales",
        "models",
        "base",
        "datasets",
        "evaluations",
        "endpoints",
        "projects",
        "offlinetask",
    }
)


def speech_operation(method: str, url: str) -> str:
    """`GET /transcriptions/{id}/files`: the method and the API path with ids templated (a small set)."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if "speechtotext" in segments:
        segments = segments[segments.index("speechtotext") + 1 :]
        if segments and segments[0].startswith("v3"):
            segments = segments[1:]
    else:
        segments = segments[-1:]  # the conversation endpoint: .../api/v1/offlinetask
    shown = []
    for segment in segments:
        head, colon, verb = segment.partition(":")
        shown.append((head if head in _WORDS else "{id}") + colon + verb)
    return f"{method.upper()} /{'/'.join(shown)}"


@dataclass
class CallStats:
    """What the layers below learn about one logical call."""

    attempts: int = 0
    throttled: int = 0
    rate_limit_wait: float = 0.0


_call: ContextVar[CallStats | None] = ContextVar("speech_call", default=None)


def rate_limit_waited(seconds: float) -> None:
    """Called by the rate-limit layer for every request it lets through."""
    telemetry.speech_ratelimit_wait.record(seconds)
    stats = _call.get()
    if stats is not None:
        stats.rate_limit_wait += seconds


@contextmanager
def _tracked_call() -> Iterator[CallStats]:
    stats = CallStats()
    token = _call.set(stats)
    try:
        yield stats
    finally:
        _call.reset(token)


class TracingLayer:
    def __init__(self, inner: Transport) -> None:
        self._inner = inner

    def send(self, request: HttpRequest) -> HttpResponse:
        operation = speech_operation(request.method, request.url)
        parts = urlsplit(request.url)
        attributes: dict[str, str | int] = {
            "speech.operation": operation,
            "http.request.method": request.method.upper(),
            "url.full": redact_url(request.url),
            "server.address": parts.hostname or "",
        }
        if parts.port:
            attributes["server.port"] = parts.port
        with (
            telemetry.tracer().start_as_current_span(
                f"Speech {operation}", kind=trace.SpanKind.CLIENT, attributes=attributes
            ) as span,
            _tracked_call() as stats,
        ):
            try:
                response = self._inner.send(request)
            finally:
                span.set_attribute("speech.attempts", stats.attempts)
                span.set_attribute("speech.retries", max(0, stats.attempts - 1))
                span.set_attribute("speech.throttled", stats.throttled)
                span.set_attribute("speech.ratelimit.wait", round(stats.rate_limit_wait, 3))
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 400:
                span.set_status(trace.StatusCode.ERROR, f"HTTP {response.status}")
            return response


class AttemptLayer:
    def __init__(self, inner: Transport) -> None:
        self._inner = inner

    def send(self, request: HttpRequest) -> HttpResponse:
        operation = speech_operation(request.method, request.url)
        stats = _call.get()
        if stats is not None:
            stats.attempts += 1
        try:
            response = self._inner.send(request)
        except requests.RequestException as error:
            telemetry.speech_requests.add(1, {"operation": operation, "status_code": type(error).__name__})
            raise
        telemetry.speech_requests.add(1, {"operation": operation, "status_code": str(response.status)})
        if response.status == 429:
            telemetry.speech_throttled.add(1, {"operation": operation})
            if stats is not None:
                stats.throttled += 1
        return response
