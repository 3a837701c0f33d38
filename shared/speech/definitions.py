"""The body that creates a transcription, shaped for the API version it is sent to.

The versions disagree on the time-to-live (v3.2 `timeToLive` ISO duration, optional; 2024+ `timeToLiveHours`,
required) and on diarization (v3.2 `diarizationEnabled` + speaker range; 2024+ `{enabled, maxSpeakers}`).
The builder writes the right shape, and `version_problems` catches a hand-made body sent to the wrong version
before the service rejects it with a generic 400.
"""

from typing import Self

from shared.speech.durations import hours_to_iso_duration
from shared.speech.transcriptions import (
    Diarization,
    DiarizationSpeakers,
    LanguageIdentification,
    TranscriptionProperties,
)
from shared.speech.versions import ApiVersion
from shared.speech.wire import EntityReference, WireModel

MAX_CONTENT_URLS = 1000
MIN_TTL_HOURS = 6
MAX_TTL_HOURS = 744  # 31 days
DEFAULT_TTL_HOURS = 48  # what the service docs recommend
MAX_SPEAKERS = 35


class TranscriptionDefinition(WireModel):
    display_name: str
    locale: str
    description: str | None = None
    custom_properties: dict[str, str] | None = None
    model: EntityReference | None = None
    dataset: EntityReference | None = None
    project: EntityReference | None = None
    content_urls: list[str] | None = None
    content_container_url: str | None = None
    properties: TranscriptionProperties | None = None

    @classmethod
    def for_version(
        cls,
        api_version: ApiVersion | str,
        *,
        locale: str,
        display_name: str,
        content_urls: list[str] | None = None,
        content_container_url: str | None = None,
        description: str | None = None,
        custom_properties: dict[str, str] | None = None,
        model: str | None = None,
        time_to_live_hours: int | None = DEFAULT_TTL_HOURS,
        word_level_timestamps: bool | None = None,
        display_form_word_level_timestamps: bool | None = None,
        channels: list[int] | None = None,
        punctuation_mode: str | None = None,
        profanity_filter_mode: str | None = None,
        diarization_max_speakers: int | None = None,
        language_identification: LanguageIdentification | None = None,
        destination_container_url: str | None = None,
    ) -> Self:
        """A create body for `api_version`. `model` is a model's `self` URL; diarization is on when
        `diarization_max_speakers` is given. `time_to_live_hours=None` means "never expire" (v3.2 only)."""
        version = ApiVersion(api_version)
        if (content_urls is None) == (content_container_url is None):
            raise ValueError("give exactly one of content_urls and content_container_url")
        if content_urls is not None and not 0 < len(content_urls) <= MAX_CONTENT_URLS:
            raise ValueError(f"content_urls must hold 1 to {MAX_CONTENT_URLS} URLs, got {len(content_urls)}")
        properties = TranscriptionProperties(
            word_level_timestamps_enabled=word_level_timestamps,
            display_form_word_level_timestamps_enabled=display_form_word_level_timestamps,
            channels=channels,
            punctuation_mode=punctuation_mode,
            profanity_filter_mode=profanity_filter_mode,
            destination_container_url=destination_container_url,
            language_identification=language_identification,
            **_time_to_live(version, time_to_live_hours),
            **_diarization(version, diarization_max_speakers),
        )
        return cls(
            display_name=display_name,
            locale=locale,
            description=description,
            custom_properties=custom_properties,
            model=EntityReference(self_url=model) if model else None,
            content_urls=content_urls,
            content_container_url=content_container_url,
            properties=properties,
        )


def _time_to_live(version: ApiVersion, hours: int | None) -> dict[str, object]:
    if version.in_path:
        if hours is None:
            return {}
        if not 0 < hours <= MAX_TTL_HOURS:
            raise ValueError(
                f"time_to_live_hours must be 1..{MAX_TTL_HOURS} (or None for never), got {hours}"
            )
        return {"time_to_live": hours_to_iso_duration(hours)}
    if hours is None or not MIN_TTL_HOURS <= hours <= MAX_TTL_HOURS:
        raise ValueError(
            f"API {version} requires time_to_live_hours in {MIN_TTL_HOURS}..{MAX_TTL_HOURS}, got {hours}"
        )
    return {"time_to_live_hours": hours}


def _diarization(version: ApiVersion, max_speakers: int | None) -> dict[str, object]:
    if max_speakers is None:
        return {}
    least = 1 if version.in_path else 2
    if not least <= max_speakers <= MAX_SPEAKERS:
        raise ValueError(
            f"API {version} takes diarization_max_speakers in {least}..{MAX_SPEAKERS}, got {max_speakers}"
        )
    if version.in_path:
        speakers = DiarizationSpeakers(min_count=1, max_count=max_speakers)
        return {"diarization_enabled": True, "diarization": Diarization(speakers=speakers)}
    return {"diarization": Diarization(enabled=True, max_speakers=max_speakers)}


def version_problems(definition: TranscriptionDefinition, version: ApiVersion) -> list[str]:
    """What in `definition` the given version would reject or silently ignore (empty when it fits)."""
    props = definition.properties or TranscriptionProperties()
    diarization = props.diarization or Diarization()
    if version.in_path:
        found = {
            "properties.timeToLiveHours": props.time_to_live_hours is not None,
            "properties.diarization.enabled": diarization.enabled is not None,
            "properties.diarization.maxSpeakers": diarization.max_speakers is not None,
        }
        return [f"{name} is not part of API v3.2" for name, present in found.items() if present]
    found = {
        "properties.timeToLive": props.time_to_live is not None,
        "properties.diarizationEnabled": props.diarization_enabled is not None,
        "properties.diarization.speakers": diarization.speakers is not None,
        "properties.email": props.email is not None,
    }
    problems = [f"{name} was removed in API 2024-11-15" for name, present in found.items() if present]
    if props.time_to_live_hours is None:
        problems.append(f"API {version} requires properties.timeToLiveHours")
    return problems
