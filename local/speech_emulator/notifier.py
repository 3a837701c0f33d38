"""What the event loop does about web hooks: decide which callbacks to send, and apply what comes back.

The Notifier listens to the job store (jobs added and removed) and is ticked by the background ticker; it
announces each status a job enters exactly once, to every active hook subscribed to that event, rendering the
job in each hook's API version. It also sends challenges, pings and tests. Rendering happens here, on the loop
that owns the jobs; the DeliveryWorker thread only POSTs bytes and reports attempts, which `apply` (scheduled
back onto the loop) logs and turns into a hook's challenge verdict. Seeded jobs never raise events.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Callable
from datetime import datetime
from functools import partial

from pydantic import BaseModel

from local.speech_emulator.admin_wire import DeliveryOut
from local.speech_emulator.lifecycle import Status, milestones
from local.speech_emulator.render import render_transcription
from local.speech_emulator.store import Job, JobError
from local.speech_emulator.versions import Urls, encode_query
from local.speech_emulator.webhook_delivery import Attempt, Delivery, DeliveryWorker, redact
from local.speech_emulator.webhook_store import (
    TRANSCRIPTION_EVENTS,
    EventKind,
    WebHook,
    WebHookStore,
    event_for,
    render_webhook,
)

MAX_LOGGED_ATTEMPTS = 10_000
Render = Callable[[Urls], BaseModel]


def challenge_url(web_url: str, token: str) -> str:
    """The receiver URL with `validationToken` appended, leaving its own query (e.g. a function key) as is."""
    separator = "&" if "?" in web_url else "?"
    return web_url + separator + encode_query([("validationToken", token)])


def challenge_error(token: str, attempt: Attempt) -> JobError | None:
    """The hook's error after the last challenge attempt, None when the receiver echoed the token."""
    if attempt.status_code == 200 and attempt.answer == token:
        return None
    if attempt.delivered:
        return JobError(
            "InvalidCallbackUri",
            f"Challenge response payload doesn't match validation token. Expected: {token}, "
            f"actual: {attempt.answer}",
        )
    outcome = f"HTTP {attempt.status_code}" if attempt.status_code is not None else attempt.error
    return JobError("InvalidCallbackUri", f"The web hook URL did not answer the challenge ({outcome}).")


def _encode(entity: BaseModel) -> bytes:
    return entity.model_dump_json(exclude_none=True).encode()


class Notifier:
    def __init__(self, hooks: WebHookStore, worker: DeliveryWorker, clock: Callable[[], datetime]) -> None:
        self.hooks = hooks
        self.worker = worker
        self._clock = clock
        self._watched: dict[str, tuple[Job, int]] = {}  # job id -> (job, milestones announced)
        self._log: deque[DeliveryOut] = deque(maxlen=MAX_LOGGED_ATTEMPTS)

    # ------------------------------------------------------------ transcription events

    def job_added(self, job: Job) -> None:
        if not job.seeded:
            self._watched[job.id] = (job, self._catch_up(job, 0, self._clock()))

    def job_removed(self, job: Job) -> None:
        if job.seeded:
            return
        now = self._clock()
        watched = self._watched.pop(job.id, None)
        if watched is not None:
            self._catch_up(job, watched[1], now)
        self._broadcast(EventKind.TRANSCRIPTION_DELETION, partial(render_transcription, job, job.state(now)))

    def tick(self) -> None:
        """Announce every transition that became due since the last tick; finished jobs stop being watched."""
        now = self._clock()
        for job_id, (job, announced) in list(self._watched.items()):
            count = self._catch_up(job, announced, now)
            if job.state(now).status.terminal:
                del self._watched[job_id]
            else:
                self._watched[job_id] = (job, count)

    def _catch_up(self, job: Job, announced: int, now: datetime) -> int:
        passed = milestones(job.schedule, now)
        for state in passed[announced:]:
            self._broadcast(event_for(state.status), partial(render_transcription, job, state))
        return len(passed)

    def _broadcast(self, kind: EventKind, render: Render) -> None:
        for hook in self.hooks.receiving(kind):
            self._send(hook, kind, render(hook.urls))

    # ------------------------------------------------------------ hook operations

    def challenge(self, hook: WebHook) -> None:
        """(Re)validate the hook's URL: inactive until the receiver echoes a fresh token."""
        token = secrets.token_urlsafe(24)
        hook.status = Status.NOT_STARTED
        hook.error = None
        hook.challenge_token = token
        entity = render_webhook(hook, hook.urls)
        self._send(hook, EventKind.CHALLENGE, entity, url=challenge_url(hook.web_url, token), token=token)

    def ping(self, hook: WebHook) -> None:
        self._send(hook, EventKind.PING, render_webhook(hook, hook.urls))

    def test(self, hook: WebHook, latest: Job | None) -> bool:
        """One callback per subscribed transcription event, about the latest job; False when there is none."""
        kinds = [kind for kind in TRANSCRIPTION_EVENTS if hook.subscribes(kind)]
        if latest is None or not kinds:
            return False
        state = latest.state(self._clock())
        for kind in kinds:
            self._send(hook, kind, render_transcription(latest, state, hook.urls))
        return True

    def _send(
        self,
        hook: WebHook,
        kind: EventKind,
        entity: BaseModel,
        *,
        url: str | None = None,
        token: str | None = None,
    ) -> None:
        self.worker.submit(
            url or hook.web_url,
            hook_id=hook.id,
            event=kind.value,
            body=_encode(entity),
            secret=hook.secret,
            token=token,
        )

    # ------------------------------------------------------------ worker reports (on the loop)

    def apply(self, delivery: Delivery, attempt: Attempt) -> None:
        if delivery.cancelled.is_set():
            return  # queued before a reset
        self._log.append(
            DeliveryOut(
                hook_id=delivery.hook_id,
                event=delivery.event,
                url=redact(delivery.url),
                attempt=attempt.number,
                status_code=attempt.status_code,
                error=attempt.error,
                time=attempt.time,
            )
        )
        if delivery.token is None or not attempt.last:
            return
        hook = self.hooks.get(delivery.hook_id)
        if hook is None or hook.challenge_token != delivery.token:
            return  # deleted, or challenged again since (new webUrl)
        hook.error = challenge_error(delivery.token, attempt)
        hook.status = Status.FAILED if hook.error else Status.SUCCEEDED
        hook.challenge_token = None
        hook.last_action = self._clock()

    def deliveries(self) -> list[DeliveryOut]:
        return list(self._log)

    def clear(self) -> None:
        """Forget hooks, watched jobs and the delivery log, and cancel callbacks not yet made."""
        self.worker.cancel_pending()
        self.hooks.clear()
        self._watched.clear()
        self._log.clear()
