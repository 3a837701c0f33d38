"""The one internal job model (version-neutral) and the in-memory store of jobs.

Every API version is rendered from this model, so a job created through v3.2 can be read through 2025-10-15
and vice versa, as on the real service. The store is only touched from the server's event loop; it tells a
listener (the web hook notifier) about jobs added and removed, so events need nothing from the handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from local.speech_emulator.inputs import InputAudio
from local.speech_emulator.lifecycle import JobState, Schedule, Status, state_at
from local.speech_emulator.versions import ApiVersion


@dataclass(frozen=True)
class SpeakerRange:
    min_count: int
    max_count: int


@dataclass(frozen=True)
class LanguageId:
    mode: str
    candidate_locales: tuple[str, ...]
    speech_model_mapping: dict[str, str] | None  # locale -> model self URL


@dataclass(frozen=True)
class Options:
    """TranscriptionProperties that shape processing, in version-neutral form."""

    word_level_timestamps: bool = False
    display_word_timestamps: bool = False
    channels: tuple[int, ...] = (0, 1)
    punctuation_mode: str = "DictatedAndAutomatic"
    profanity_filter_mode: str = "Masked"
    destination_container_url: str | None = None
    ttl_hours: float | None = None
    basic_diarization: bool = False  # v3.2 diarizationEnabled (two speakers)
    speakers: SpeakerRange | None = None
    language_id: LanguageId | None = None
    email: str | None = None

    @property
    def max_speakers(self) -> int | None:
        if self.speakers is not None:
            return self.speakers.max_count
        return 2 if self.basic_diarization else None


@dataclass(frozen=True)
class JobError:
    code: str
    message: str


@dataclass
class Job:
    id: str
    display_name: str
    locale: str
    inputs: tuple[InputAudio, ...]
    options: Options
    schedule: Schedule
    created_with: ApiVersion
    description: str | None = None
    custom_properties: dict[str, str] | None = None
    model: str | None = None
    project: str | None = None
    seeded: bool = False
    forced_error: JobError | None = None

    def state(self, now: datetime) -> JobState:
        return state_at(self.schedule, now)

    def succeeded_inputs(self, status: Status) -> tuple[InputAudio, ...]:
        """Inputs with a Transcription file: none unless the job succeeded, then all not meant to fail."""
        if status is not Status.SUCCEEDED:
            return ()
        return tuple(audio for audio in self.inputs if not audio.knobs.fails)

    def error(self, status: Status) -> JobError | None:
        if status is not Status.FAILED:
            return None
        if self.forced_error is not None:
            return self.forced_error
        if not self.inputs:
            return JobError("InvalidData", "The container does not contain any audio files.")
        return JobError("InvalidData", "The recordings URI contains invalid data.")


def natural_outcome(inputs: tuple[InputAudio, ...]) -> Status:
    """A job succeeds when at least one input does (then report.json lists the failed ones)."""
    return Status.SUCCEEDED if any(not audio.knobs.fails for audio in inputs) else Status.FAILED


class JobListener(Protocol):
    def job_added(self, job: Job) -> None: ...

    def job_removed(self, job: Job) -> None: ...


class JobStore:
    def __init__(self, listener: JobListener | None = None) -> None:
        self._jobs: dict[str, Job] = {}
        self._listener = listener

    def add(self, job: Job) -> None:
        self._jobs[job.id] = job
        if self._listener is not None:
            self._listener.job_added(job)

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id.lower())

    def remove(self, job_id: str) -> Job | None:
        """Remove a job (the listener hears of it); clear() below forgets silently, for admin resets."""
        job = self._jobs.pop(job_id.lower(), None)
        if job is not None and self._listener is not None:
            self._listener.job_removed(job)
        return job

    def oldest_first(self) -> list[Job]:
        """All jobs in the service's listing order: oldest first, ties broken by id."""
        return sorted(self._jobs.values(), key=lambda job: (job.schedule.created, job.id))

    def clear(self) -> None:
        self._jobs.clear()
