"""Timer schedule monitoring (`useMonitor`): the status blob the host keeps, and the past-due decision.

The host records each timer's last and next occurrence in `azure-webjobs-hosts/timers/<hostId>/<timer>/status`
of AzureWebJobsStorage. When it starts and the recorded Next has already passed, the occurrence was missed
(the app was down) and the timer fires once at once with isPastDue=True. If the schedule itself changed, the
recorded Next no longer follows from Last, and the status is recalculated instead of counting as past due.
Using the same blob layout and JSON keeps a local run's status readable by the real host and vice versa.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient
from pydantic import BaseModel, ConfigDict, Field, field_validator

from local.host.ncrontab import CronSchedule

HOSTS_CONTAINER = "azure-webjobs-hosts"
# .NET's default(DateTime): what the host stores for "never happened".
NEVER = datetime(1, 1, 1, tzinfo=UTC)


def timer_name(function_name: str) -> str:
    """The host's name for a script function's timer (declaring type `Host.Functions` + function name)."""
    return f"Host.Functions.{function_name}"


def _never(value: datetime) -> bool:
    # Compared by calendar date: shifting year 1 across offsets would overflow.
    return value.year == 1


class ScheduleStatus(BaseModel):
    """The status blob's JSON: {"Last", "Next", "LastUpdated"} as ISO timestamps with offsets."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    last: datetime = Field(default=NEVER, alias="Last")
    next: datetime = Field(alias="Next")
    last_updated: datetime = Field(default=NEVER, alias="LastUpdated")

    @field_validator("last", "next", "last_updated")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        """Values written without an offset are read as UTC (the host's zone unless WEBSITE_TIME_ZONE)."""
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class StartupCheck:
    """The status to run with after start-up, whether it must be stored, and whether a run was missed."""

    status: ScheduleStatus
    store: bool
    past_due: bool


def check_past_due(now: datetime, schedule: CronSchedule, stored: ScheduleStatus | None) -> StartupCheck:
    """Decide at start-up whether the timer missed a run; a changed schedule recalculates the status."""
    if stored is None:
        status = ScheduleStatus(last=NEVER, next=schedule.next_after(now), last_updated=now)
        return StartupCheck(status=status, store=True, past_due=False)
    if not _never(stored.last):
        basis = stored.last
    elif not _never(stored.last_updated):
        basis = stored.last_updated
    else:
        basis = now
    expected = schedule.next_after(basis)
    if stored.next == expected:
        return StartupCheck(status=stored, store=False, past_due=now > stored.next)
    # The schedule changed since the status was written: never count that as a missed run.
    if now > expected:
        expected, basis = schedule.next_after(now), now
    status = ScheduleStatus(last=NEVER, next=expected, last_updated=basis)
    return StartupCheck(status=status, store=True, past_due=now > expected)


def unmonitored_status(now: datetime, schedule: CronSchedule) -> ScheduleStatus:
    """Without a monitor the timer simply waits for the next occurrence."""
    return ScheduleStatus(last=NEVER, next=schedule.next_after(now), last_updated=NEVER)


def status_after_run(
    schedule: CronSchedule, previous: ScheduleStatus, invoked_at: datetime, *, scheduled: bool
) -> ScheduleStatus:
    """The status after a run; a scheduled run that fired a little early counts as its scheduled time.

    Without that adjustment the same Next could be recorded twice and fire twice after a restart.
    """
    when = previous.next if scheduled and previous.next > invoked_at else invoked_at
    return ScheduleStatus(last=when, next=schedule.next_after(when), last_updated=when)


class StatusStore:
    """The status blobs in AzureWebJobsStorage (a thin adapter; call it from a worker thread)."""

    def __init__(self, service: BlobServiceClient, host_id: str) -> None:
        self._container = service.get_container_client(HOSTS_CONTAINER)
        self._host_id = host_id

    def blob_name(self, function_name: str) -> str:
        return f"timers/{self._host_id}/{timer_name(function_name)}/status"

    def read(self, function_name: str) -> ScheduleStatus | None:
        try:
            data = self._container.download_blob(self.blob_name(function_name)).readall()
        except ResourceNotFoundError:
            return None
        return ScheduleStatus.model_validate_json(data)

    def write(self, function_name: str, status: ScheduleStatus) -> None:
        name, data = self.blob_name(function_name), status.model_dump_json(by_alias=True)
        try:
            self._container.upload_blob(name, data, overwrite=True)
        except ResourceNotFoundError:
            with contextlib.suppress(ResourceExistsError):  # created meanwhile by another host
                self._container.create_container()
            self._container.upload_blob(name, data, overwrite=True)
