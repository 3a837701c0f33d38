"""A job's status as a pure function of its schedule and the clock.

Status and lastActionDateTime are computed from timestamps whenever a job is looked at, so 10,000 jobs cost
nothing while they wait and tests only need to move the clock (or wait a few small phases). The web hook ticker
uses `milestones` to learn which transitions happened since it last looked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    NOT_STARTED = "NotStarted"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    @property
    def terminal(self) -> bool:
        return self in (Status.SUCCEEDED, Status.FAILED)


@dataclass(frozen=True)
class JobState:
    status: Status
    last_action: datetime


@dataclass(frozen=True)
class Schedule:
    """How a job moves: NotStarted for one phase, Running for one phase, then its natural outcome.

    `stuck` jobs never leave Running; `pinned` (seeded) jobs keep the status they were seeded with; `forced`
    (admin complete) overrides everything from the moment it was forced.
    """

    created: datetime
    phase: timedelta
    outcome: Status
    stuck: bool = False
    pinned: JobState | None = None
    forced: JobState | None = None


def state_at(schedule: Schedule, now: datetime) -> JobState:
    if schedule.forced is not None:
        return schedule.forced
    if schedule.pinned is not None:
        return schedule.pinned
    elapsed = now - schedule.created
    if elapsed < schedule.phase:
        return JobState(Status.NOT_STARTED, schedule.created)
    if schedule.stuck or elapsed < 2 * schedule.phase:
        return JobState(Status.RUNNING, schedule.created + schedule.phase)
    return JobState(schedule.outcome, schedule.created + 2 * schedule.phase)


def milestones(schedule: Schedule, now: datetime) -> list[JobState]:
    """Every status the job has entered up to `now`, oldest first; the last one is `state_at(schedule, now)`.

    Web hook events announce these, so a job that went through Running between two looks still gets its
    TranscriptionProcessing event, and one forced to finish while NotStarted never gets one.
    """
    if schedule.pinned is not None:
        return [schedule.pinned]
    natural = [
        JobState(Status.NOT_STARTED, schedule.created),
        JobState(Status.RUNNING, schedule.created + schedule.phase),
    ]
    if not schedule.stuck:
        natural.append(JobState(schedule.outcome, schedule.created + 2 * schedule.phase))
    if schedule.forced is None:
        return [state for state in natural if state.last_action <= now]
    forced_at = schedule.forced.last_action
    return [state for state in natural if state.last_action <= forced_at and not state.status.terminal] + [
        schedule.forced
    ]
