"""The poll tick: find what changed in the Speech resource cheaply, record it, and enqueue what finished.

Cost model (Speech API calls per tick, N transcriptions in the resource, k changed since the last tick):
- the incremental list `filter=lastActionDateTime ge <watermark>` costs ceil(k/100) pages, and 1 when idle;
- the safety net for anything the incremental list could miss is two sweeps: every RECONCILE_INTERVAL_MINUTES
  a delta sweep lists only the jobs whose lastActionDateTime is recent enough that an earlier sweep may not
  have seen their change (1 call when idle), and every FULL_RECONCILE_HOURS a complete sweep lists every job
  (ceil(N/100) calls), spread over its interval: about 1.1 calls per tick over an idle hour at N = 10,000,
  where listing all N every hour would cost 2.67; a tick costs at most ceil(k/100) + 2 while the sweeps keep
  their course (a page of each);
- the first start backfills everything once (optionally only since DISCOVER_SINCE).
Every call goes through the client's rate limiter and retry policy (Retry-After honoured, jittered backoff).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import cast

from azure.core.paging import ItemPaged, PageIterator

from shared import layout, logs
from shared.ledger import ConcurrencyError, Ledger, PollerState
from shared.observations import observation_of
from shared.queueing import HarvestQueue, RequestReason
from shared.records import apply_observation, decide_and_save, resend_lost
from shared.settings import Discovery, Settings
from shared.speech import CallMeter, NotFoundError, SpeechClient, Transcription, metered
from shared.states import (
    OPEN_STATES,
    JobKind,
    LedgerState,
    warned,
    warning_for,
)

RECONCILE_PAGE = 100
SWEEP_REWIND = 20  # a sweep's tick starts this many places before where the last one ended (see _sweep)
MAX_RECONCILE_PAGES = 10  # a tick never lists more than this many reconcile pages
HOUSEKEEPING_EVERY = timedelta(minutes=5)
_WARNING_FIELDS = ("created", "last_action", "ttl_hours", "warned_at")  # besides state, status, first_seen
GONE_REASON = "not found in the service (deleted, or its time to live ran out)"
_POLLER = "transcriptions"


def _pages(pager: ItemPaged[Transcription]) -> Iterator[list[Transcription]]:
    """A pager's pages, so each page can be matched with the ledger at once."""
    return (list(page) for page in pager.by_page())


def odata_time(value: datetime) -> str:
    """The filter literal the service accepts: UTC, whole seconds, unquoted."""
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def sweep_pages(total: int, skip: int, *, elapsed: timedelta, interval: timedelta, spread: bool) -> int:
    """How many pages of 100 a sweep lists this tick to cover `total` jobs (as many as its last run found)
    within 90% of its interval, whatever the tick rate: its first page at once, then as many as keep it on
    course, at most MAX_RECONCILE_PAGES. A `spread` sweep lists nothing while it is ahead of that course (the
    complete sweep of a day: about one page every 10 ticks at N = 10,000), the other at least one a tick; both
    list at least one a tick once the course says they should be done (the last run found fewer jobs)."""
    fraction = min(1.0, elapsed / (0.9 * interval))
    floor = 0 if spread and skip > 0 and fraction < 1.0 else 1
    return max(floor, min(MAX_RECONCILE_PAGES, math.ceil((total * fraction - skip) / RECONCILE_PAGE)))


@dataclass
class TickReport:
    """What one tick did; logged as one line and returned for tests and the bench."""

    speech_calls: int = 0
    listed: int = 0
    recorded: int = 0
    enqueued: int = 0
    requeued: int = 0
    warnings: int = 0
    missing: int = 0
    backfill: bool = False
    reconcile_page: bool = False
    reconcile_finished: bool = False
    delta_finished: bool = False
    watermark: datetime | None = None
    enqueued_ids: list[str] = field(default_factory=list)


@dataclass
class Poller:
    settings: Settings
    speech: SpeechClient
    ledger: Ledger
    queue: HarvestQueue
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def tick(self) -> TickReport:
        """One tick; its Speech calls and the service's clock are this tick's own (shared.speech.metering),
        however many other invocations share the client."""
        with metered() as meter:
            return self._tick(meter)

    def _tick(self, meter: CallMeter) -> TickReport:
        report = TickReport()
        now = self.clock()
        state = self.ledger.poller_state(_POLLER)
        tracked = (
            self.ledger.tracked_ids(JobKind.TRANSCRIPTION)
            if self.settings.discovery is Discovery.TRACKED
            else None
        )

        # 1. Incremental discovery (or the first-start backfill).
        if state.watermark is None:
            report.backfill = True
            since = self.settings.discover_since
            pager = self.speech.list_transcriptions(
                filter=f"createdDateTime ge {odata_time(since)}" if since else None
            )
        else:
            since = state.watermark - timedelta(seconds=self.settings.poll_overlap_seconds)
            pager = self.speech.list_transcriptions(filter=f"lastActionDateTime ge {odata_time(since)}")
        pages = _pages(pager)
        first = next(pages, [])
        # The next tick reads from when the service answered this one, by the service's clock (floored to the
        # second, as it stamps lastActionDateTime), so skew between our clock and the service's never hides a change.
        watermark = (meter.server_time or now).replace(microsecond=0)
        self._apply_all(
            itertools.chain([first], pages), report, now, tracked, RequestReason.POLL, source="poll"
        )
        report.watermark = watermark

        # 2. The reconcile sweeps, the safety net for what the incremental list could miss: the hourly delta
        #    sweep (usually one call an hour), then a page of the complete sweep when its pace asks for one.
        state, listed = self._delta_step(state, report, now, watermark, tracked)
        state = self._complete_step(state, report, now, tracked, busy=listed > 0)

        # 3. Every tick: harvest requests that were lost (a crash between the ledger and the queue, a harvest
        #    whose heartbeat stopped) are sent again; a ledger query and a queue peek, no Speech call.
        report.requeued = len(
            resend_lost(
                self.ledger,
                self.queue,
                JobKind.TRANSCRIPTION,
                now,
                after=timedelta(minutes=self.settings.requeue_after_minutes),
            )
        )

        # 4. Every few minutes: overdue jobs, jobs near the end of their time to live. Checking whether an
        #    overdue job still exists costs a GET, so it happens only on a tick that cost one call.
        if state.housekeeping_at is None or now - state.housekeeping_at >= HOUSEKEEPING_EVERY:
            self._housekeeping(report, now, may_confirm=meter.calls <= 1)
            state = state.model_copy(update={"housekeeping_at": now})

        self._save_state(state.model_copy(update={"watermark": watermark}))
        report.speech_calls = meter.calls
        logs.event(
            "poll_tick",
            speech_calls=report.speech_calls,
            listed=report.listed,
            recorded=report.recorded,
            enqueued=report.enqueued,
            requeued=report.requeued,
            warnings=report.warnings,
            backfill=report.backfill or None,
            reconcile_page=report.reconcile_page or None,
        )
        return report

    def _apply_all(
        self,
        pages: Iterable[list[Transcription]],
        report: TickReport,
        now: datetime,
        tracked: set[str] | None,
        reason: RequestReason,
        *,
        source: str,
    ) -> None:
        for page in pages:
            report.listed += len(page)
            listed = []
            for transcription in page:
                try:
                    layout.validate_job_id(JobKind.TRANSCRIPTION, transcription.id)
                except ValueError as error:  # no ledger row or request can carry it: say so and go on
                    logs.event("listed_entity_refused", logging.WARNING, problem=str(error))
                    continue
                if tracked is None or transcription.id in tracked:
                    listed.append(transcription)
            # Only the rows this page needs, in a few queries (never the whole ledger, never one per job).
            known = self.ledger.get_many(JobKind.TRANSCRIPTION, [t.id for t in listed]) if listed else {}
            for transcription in listed:
                saved = apply_observation(
                    self.ledger,
                    self.queue,
                    observation_of(transcription),
                    now,
                    reason=reason,
                    source=source,
                    prefetched=known,
                    entity=transcription.wire,
                )
                if saved is None or not saved.changed:
                    continue
                report.recorded += 1
                if saved.decision.enqueue:
                    report.enqueued += 1
                    report.enqueued_ids.append(transcription.id)

    def _delta_step(
        self,
        state: PollerState,
        report: TickReport,
        now: datetime,
        watermark: datetime,
        tracked: set[str] | None,
    ) -> tuple[PollerState, int]:
        """The hourly safety net, and the pages it listed this tick: every job whose lastActionDateTime is at
        or after the start of the previous sweep (by the service's clock) less one interval. A job stamped
        earlier was listed by that sweep or the backfill, unless its change showed in the list more than an
        interval after its stamp; so a change the incremental list missed is found within about an interval."""
        interval = timedelta(minutes=self.settings.reconcile_interval_minutes)
        if report.backfill:
            return state.model_copy(update={"delta_mark": watermark, "delta_finished": now}), 0
        if state.delta_skip is None:
            if state.delta_finished is not None and now - state.delta_finished < interval:
                return state, 0
            # A ledger from before delta sweeps reaches back from the end of its last complete sweep.
            mark = state.delta_mark or state.reconcile_finished or watermark
            state = state.model_copy(
                update={
                    "delta_skip": 0,
                    "delta_since": mark - interval,
                    "delta_started": now,
                    "delta_mark": watermark,
                }
            )
        skip = state.delta_skip or 0
        since = state.delta_since or watermark
        wanted = sweep_pages(
            state.delta_total,
            skip,
            elapsed=now - (state.delta_started or now),
            interval=interval,
            spread=False,
        )
        skip, finished = self._sweep(
            f"lastActionDateTime ge {odata_time(since)}", skip, wanted, report, now=now, tracked=tracked
        )
        if not finished:
            return state.model_copy(update={"delta_skip": skip}), wanted
        report.delta_finished = True
        return state.model_copy(
            update={"delta_skip": None, "delta_finished": now, "delta_total": skip}
        ), wanted

    def _complete_step(
        self, state: PollerState, report: TickReport, now: datetime, tracked: set[str] | None, *, busy: bool
    ) -> PollerState:
        """The complete sweep, every FULL_RECONCILE_HOURS: lists every job, so it also finds jobs a lost or
        recreated ledger no longer knows. Spread over its interval; on a tick where the delta sweep listed
        (`busy`) it lists a page fewer than its pace asks (so it lags a page at most), unless it is late."""
        interval = timedelta(hours=self.settings.full_reconcile_hours)
        if report.backfill:
            # The backfill was a full list: it counts as a complete sweep.
            return state.model_copy(update={"reconcile_finished": now, "known_total": report.listed})
        if state.reconcile_skip is None:
            if state.reconcile_finished is not None and now - state.reconcile_finished < interval:
                return state
            state = state.model_copy(update={"reconcile_skip": 0, "reconcile_started": now})
        skip = state.reconcile_skip or 0
        elapsed = now - (state.reconcile_started or now)
        wanted = sweep_pages(state.known_total, skip, elapsed=elapsed, interval=interval, spread=True)
        if busy and elapsed < 0.9 * interval:
            wanted = max(0, wanted - 1)  # a page behind for now: the pace asks for it again next tick
        skip, finished = self._sweep(None, skip, wanted, report, now=now, tracked=tracked)
        if not finished:
            return state.model_copy(update={"reconcile_skip": skip})
        report.reconcile_finished = True
        return state.model_copy(
            update={"reconcile_skip": None, "reconcile_finished": now, "known_total": skip}
        )

    def _sweep(
        self,
        filter: str | None,
        skip: int,
        wanted: int,
        report: TickReport,
        *,
        now: datetime,
        tracked: set[str] | None,
    ) -> tuple[int, bool]:
        """Up to `wanted` pages of a sweep from `skip` on: where it now stands, and whether it reached the end.

        The list pages by position (skip), and the sweep's ticks are minutes apart: a job deleted meanwhile
        (its time to live ran out) moves every later one up a place. So a tick resumes SWEEP_REWIND places
        back, listing a few jobs again (harmless: an unchanged job writes nothing) rather than missing any
        while fewer than that many were deleted between two of its ticks."""
        if wanted == 0:
            return skip, False
        position = max(0, skip - SWEEP_REWIND)
        pages = cast(
            "PageIterator[Transcription]",
            self.speech.list_transcriptions(filter=filter, top=RECONCILE_PAGE, skip=position).by_page(),
        )
        report.reconcile_page = True
        for _ in range(wanted):
            page = list(next(pages, []))
            self._apply_all([page], report, now, tracked, RequestReason.RECONCILE, source="reconcile")
            position += len(page)
            if len(page) < RECONCILE_PAGE or pages.continuation_token is None:
                return position, True
        return position, False

    def _housekeeping(self, report: TickReport, now: datetime, *, may_confirm: bool) -> None:
        pending_after = timedelta(minutes=self.settings.pending_warning_minutes)
        ttl_margin = timedelta(hours=self.settings.ttl_warning_hours)
        confirmed = not may_confirm
        # Only the columns a warning looks at; the few rows warned about are read whole when saved.
        rows = self.ledger.query(
            JobKind.TRANSCRIPTION, [*OPEN_STATES, LedgerState.POISONED], fields=_WARNING_FIELDS
        )
        for record in rows:
            message = warning_for(
                record, now, pending_after=pending_after, ttl_margin=ttl_margin, repeat=pending_after
            )
            if message is None:
                continue
            report.warnings += 1
            logs.event("job_warning", logging.WARNING, kind=record.kind.value, id=record.id, problem=message)
            gone = False
            if record.state is LedgerState.PENDING and not confirmed:
                # An overdue job may have been deleted in the service; one GET a tick, at most, to find out.
                confirmed = True
                try:
                    self.speech.get_transcription(record.id)
                except NotFoundError:
                    gone = True
            decide = partial(warned, now=now, missing=GONE_REASON if gone else None)
            try:
                saved = decide_and_save(self.ledger, record.kind, record.id, decide, now)
            except ConcurrencyError:
                continue
            if gone and saved.record is not None and saved.record.state is LedgerState.MISSING:
                report.missing += 1

    def _save_state(self, state: PollerState) -> None:
        try:
            self.ledger.save_poller_state(_POLLER, state)
        except ConcurrencyError:
            # Only one timer instance runs at a time; a conflict means a manual run overlapped. Next tick wins.
            logs.event("poll_state_conflict", logging.WARNING)
