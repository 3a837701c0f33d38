"""The HTTP stack under the clients: small layers over one `send(request) -> response` interface.

    SpeechPipeline.call -> TracingLayer -> RetryLayer -> RateLimitLayer -> AuthLayer -> AttemptLayer
        -> CountingLayer -> RequestsTransport (or the client's `transport=`) -> requests.Session

Each layer does one thing and takes the next as a value, so each can be exercised on its own and the stack
as a whole against a real HTTP server, without mocks. Every attempt passes the rate limit and gets fresh
auth headers; only the transport touches the network, and CountingLayer counts what is sent, on the client
and on the sending invocation's meter (shared.speech.metering), which also gets the service's `Date`.
(Names are our own: azure-core's PipelineClient and RetryPolicy are different things.)
"""

import json
import logging
import random
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import requests
from azure.core.credentials import TokenCredential
from pydantic import ValidationError

from shared.jsonbody import TOO_DEEP
from shared.redact import redact_text, redact_url
from shared.speech import metering
from shared.speech.auth import Auth, make_auth
from shared.speech.errors import SpeechTransportError, UnexpectedResponseError, error_from_response
from shared.speech.observed import AttemptLayer, TracingLayer, rate_limit_waited
from shared.speech.ratelimit import RateLimiter, credential_fingerprint, shared_limiter
from shared.speech.retry import (
    IncompleteBodyError,
    RetryRules,
    http_date,
    is_retryable_exception,
    is_retryable_status,
    next_wait,
    retry_after_seconds,
)
from shared.speech.versions import origin
from shared.speech.wire import WireModel

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=WireModel)
_JITTER = random.SystemRandom()

USER_AGENT = "speech-harvester/0.1 (python-requests)"
Timeout = tuple[float, float]


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    # False for requests that create something: see shared.speech.retry for what that changes.
    idempotent: bool = True


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    content: bytes
    # The parsed JSON of a 2xx body (None for an empty one); error bodies are left to error mapping.
    data: Any = None


class Transport(Protocol):
    def send(self, request: HttpRequest) -> HttpResponse: ...


class RequestsTransport:
    """One HTTP exchange through requests: explicit (connect, read) timeouts, no redirects, body read fully.

    Redirects are refused because requests only strips `Authorization` when following one to another host;
    the subscription-key header would travel along.
    """

    def __init__(self, session: requests.Session, timeout: Timeout) -> None:
        self._session = session
        self._timeout = timeout

    def send(self, request: HttpRequest) -> HttpResponse:
        response = self._session.request(
            request.method,
            request.url,
            data=request.body,
            headers=dict(request.headers),
            timeout=self._timeout,
            allow_redirects=False,
        )
        content = response.content  # raises ChunkedEncodingError when the body is cut short
        data = None
        if 200 <= response.status_code < 300 and content.strip():
            try:
                data = json.loads(content)
            except ValueError as exc:
                raise IncompleteBodyError(
                    f"HTTP {response.status_code} answer with an unreadable JSON body ({len(content)} bytes)"
                ) from exc
            except RecursionError:
                # Complete but unusable, whenever it is asked again: not a transport failure to retry.
                raise UnexpectedResponseError(
                    f"HTTP {response.status_code} answer whose JSON is {TOO_DEEP} ({len(content)} bytes)"
                ) from None
        return HttpResponse(response.status_code, response.headers, content, data)


class CountingLayer:
    """Counts every request actually sent: on the client (a running total) and on the sending context's meter
    (shared.speech.metering), which is what a poll tick reports."""

    def __init__(self, inner: Transport) -> None:
        self._inner = inner
        self._calls = 0
        self._lock = threading.Lock()

    @property
    def calls(self) -> int:
        return self._calls

    def send(self, request: HttpRequest) -> HttpResponse:
        with self._lock:
            self._calls += 1
        meter = metering.current()
        if meter is not None:
            meter.sent()
        return self._inner.send(request)


class AuthLayer:
    def __init__(self, inner: Transport, auth: Auth) -> None:
        self._inner = inner
        self._auth = auth

    def send(self, request: HttpRequest) -> HttpResponse:
        return self._inner.send(replace(request, headers={**request.headers, **self._auth.headers()}))


class RateLimitLayer:
    def __init__(self, inner: Transport, limiter: RateLimiter, sleep: Callable[[float], None]) -> None:
        self._inner = inner
        self._limiter = limiter
        self._sleep = sleep

    def send(self, request: HttpRequest) -> HttpResponse:
        waited = self._limiter.acquire(self._sleep)
        rate_limit_waited(waited)
        if waited > 0:
            logger.info(
                "Speech rate limit: waited %.2fs before %s %s",
                waited,
                request.method,
                redact_url(request.url),
            )
        return self._inner.send(request)


class RetryLayer:
    """Resends per shared.speech.retry. Returns the last response (possibly an error for the caller to map);
    raises the last network exception, annotated with the attempt count, when retries are exhausted."""

    def __init__(
        self,
        inner: Transport,
        policy: RetryRules,
        sleep: Callable[[float], None],
        *,
        rand: Callable[[], float] = _JITTER.random,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._inner = inner
        self._policy = policy
        self._sleep = sleep
        self._rand = rand
        self._now = now

    def send(self, request: HttpRequest) -> HttpResponse:
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            try:
                response = self._inner.send(request)
            except requests.RequestException as exc:
                retryable = is_retryable_exception(exc, idempotent=request.idempotent)
                delay = self._wait_after(attempt, waited, None) if retryable else None
                if delay is None:
                    exc.add_note(f"gave up after {attempt} attempt(s) and {waited:.1f}s of waiting")
                    raise
                reason = type(exc).__name__
            else:
                retry_after = retry_after_seconds(response.headers, self._now())
                retryable = is_retryable_status(
                    response.status, idempotent=request.idempotent, has_retry_after=retry_after is not None
                )
                delay = self._wait_after(attempt, waited, retry_after) if retryable else None
                if delay is None:
                    return response
                reason = f"HTTP {response.status}"
            logger.warning(
                "Speech %s %s: %s; retry %d of %d in %.2fs",
                request.method,
                redact_url(request.url),
                reason,
                attempt,
                self._policy.max_attempts - 1,
                delay,
            )
            self._sleep(delay)
            waited += delay

    def _wait_after(self, attempt: int, waited: float, retry_after: float | None) -> float | None:
        return next_wait(
            self._policy, attempt=attempt, waited=waited, retry_after=retry_after, rand=self._rand()
        )


class SpeechPipeline:
    """The assembled stack of one client: sends JSON, returns accepted responses, raises typed errors.

    `transport` replaces the network layer (RequestsTransport over `session` with `timeout`): anything with
    `send(HttpRequest) -> HttpResponse`, under the same retries, rate limit, auth and counting."""

    def __init__(
        self,
        endpoint: str,
        *,
        key: str | None,
        credential: TokenCredential | None,
        retry: RetryRules | None,
        timeout: Timeout,
        session: requests.Session | None,
        transport: Transport | None,
        rate_limit: int,
        rate_window: float,
        limiter: RateLimiter | None,
        sleep: Callable[[float], None],
    ) -> None:
        self._auth = make_auth(key, credential)
        self._owns_session = session is None and transport is None
        self._session = session or (requests.Session() if transport is None else None)
        network = transport or RequestsTransport(self._session or requests.Session(), timeout)
        self._http = CountingLayer(network)
        scheme, host = origin(endpoint)
        if limiter is None:
            limiter = shared_limiter(
                f"{scheme}://{host}", credential_fingerprint(key), rate_limit, rate_window
            )
        # Auth outside the rate limit: a token (whose refresh can take a second) is in hand before the budget
        # grants the request, so the request leaves within the grant's short validity (shared.rate_budget).
        self._transport = TracingLayer(
            RetryLayer(
                AuthLayer(RateLimitLayer(AttemptLayer(self._http), limiter, sleep), self._auth),
                retry or RetryRules(),
                sleep,
            )
        )

    @property
    def calls(self) -> int:
        return self._http.calls

    def secrets(self) -> list[str]:
        return self._auth.secrets()

    def call(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        idempotent: bool = True,
        accept: Iterable[int] = (200,),
    ) -> HttpResponse:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        request = HttpRequest(method, url, body, headers, idempotent)
        try:
            response = self._transport.send(request)
        except requests.RequestException as exc:
            raise SpeechTransportError(self._describe(request, exc)) from exc
        if response.status in set(accept):
            meter = metering.current()
            if meter is not None:
                lowered = {name.lower(): value for name, value in response.headers.items()}
                meter.answered(http_date(lowered.get("date")))
            return response
        raise error_from_response(
            response.status,
            response.content,
            response.headers,
            secrets=self.secrets(),
            retry_after=retry_after_seconds(response.headers, datetime.now(UTC)),
        )

    def parse(self, model: type[M], data: Any) -> M:
        """Validate a response's JSON object into `model`; anything else is an UnexpectedResponseError with a
        redacted message (pydantic quotes input values, and those may be SAS URLs)."""
        if not isinstance(data, dict):
            raise UnexpectedResponseError(
                f"expected a JSON object for {model.__name__}, got {type(data).__name__}"
            )
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise UnexpectedResponseError(redact_text(f"{model.__name__}: {exc}", self.secrets())) from None

    def _describe(self, request: HttpRequest, exc: requests.RequestException) -> str:
        notes = "; ".join(getattr(exc, "__notes__", []))
        detail = redact_text(f"{type(exc).__name__}: {exc}", self.secrets())
        return f"{request.method} {redact_url(request.url)} failed: {detail}" + (
            f" ({notes})" if notes else ""
        )

    def close(self) -> None:
        if self._owns_session and self._session is not None:
            self._session.close()
