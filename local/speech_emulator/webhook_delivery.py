"""Calling web hook receivers: signing, redacting, and a worker thread that POSTs with retries.

requests blocks, so callbacks never run on the server's event loop: the loop queues a Delivery (body already
rendered) and the worker thread POSTs it, retrying non-2xx answers and connection errors `retries` times,
`interval` apart, like the service's documented 5 retries 1 s apart. Deliveries go out one at a time in the
order they were queued, so a receiver sees a job's events in order. The worker only reports each attempt back
(through a callback the owner routes onto the event loop); it never touches emulator state itself.

A reset cancels everything queued or in flight: deliveries carry the cancellation event of the generation they
were queued in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import requests

from local.speech_emulator.isotime import utc_now

log = logging.getLogger(__name__)

EVENT_HEADER = "X-MicrosoftSpeechServices-Event"
SIGNATURE_HEADER = "X-MicrosoftSpeechServices-Signature"
STOP_TIMEOUT_SECONDS = 1.0
# A challenge answer longer than this cannot be the token; only this much is kept for the error message.
MAX_ANSWER_CHARS = 512


def sign(secret: str, body: bytes) -> str:
    """Base64 of HMAC-SHA256 over the raw body, keyed with the UTF-8 secret (X-MicrosoftSpeechServices-Signature)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def redact(url: str) -> str:
    """A receiver URL fit for logs: no query (validation tokens, function keys) and no user info."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class Delivery:
    hook_id: str
    event: str
    url: str  # may carry secrets in its query; only ever logged through redact()
    body: bytes
    secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)  # a challenge's validation token
    cancelled: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", EVENT_HEADER: self.event}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, self.body)
        return headers


@dataclass(frozen=True)
class Attempt:
    """One POST of a delivery and how it went."""

    number: int  # 1 for the first try
    time: datetime
    status_code: int | None
    error: str | None  # exception type when no response came back (its text may quote the URL)
    answer: str | None  # the response body (truncated), kept for challenges
    last: bool  # no further attempt follows

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


Report = Callable[[Delivery, Attempt], None]


class DeliveryWorker:
    def __init__(self, *, retries: int, interval: float, timeout: float) -> None:
        self._retries = retries
        self._interval = interval
        self._timeout = timeout
        self._queue: queue.SimpleQueue[Delivery | None] = queue.SimpleQueue()
        self._generation = threading.Event()
        self._thread: threading.Thread | None = None

    def submit(
        self, url: str, *, hook_id: str, event: str, body: bytes, secret: str | None, token: str | None = None
    ) -> None:
        self._queue.put(Delivery(hook_id, event, url, body, secret, token, self._generation))

    def cancel_pending(self) -> None:
        """Drop everything queued or being retried (admin reset); later submissions are unaffected."""
        self._generation.set()
        self._generation = threading.Event()

    def start(self, report: Report) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(report,), name="speech-emulator-webhooks", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop soon: pending deliveries are dropped; a POST in flight is abandoned after a short wait."""
        self.cancel_pending()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_SECONDS)
            self._thread = None

    def _run(self, report: Report) -> None:
        with requests.Session() as session:
            while (delivery := self._queue.get()) is not None:
                try:
                    self._deliver(session, delivery, report)
                except Exception:
                    log.exception("web hook delivery to %s failed", redact(delivery.url))

    def _deliver(self, session: requests.Session, delivery: Delivery, report: Report) -> None:
        attempts = self._retries + 1
        for number in range(1, attempts + 1):
            if delivery.cancelled.is_set():
                return
            attempt = self._post(session, delivery, number, final_try=number == attempts)
            log.debug(
                "%s to %s, attempt %d: %s",
                delivery.event,
                redact(delivery.url),
                number,
                attempt.status_code or attempt.error,
            )
            report(delivery, attempt)
            # The wait ends early when the delivery is cancelled (reset or stop).
            if attempt.last or delivery.cancelled.wait(self._interval):
                return

    def _post(
        self, session: requests.Session, delivery: Delivery, number: int, *, final_try: bool
    ) -> Attempt:
        started = utc_now()
        try:
            with session.post(
                delivery.url,
                data=delivery.body,
                headers=delivery.headers(),
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                status = response.status_code
                answer = response.text[:MAX_ANSWER_CHARS]
                return Attempt(number, started, status, None, answer, last=final_try or 200 <= status < 300)
        except requests.RequestException as error:
            return Attempt(number, started, None, type(error).__name__, None, last=final_try)
