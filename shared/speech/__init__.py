"""Azure AI Speech batch transcription (v3.2, 2024-11-15, 2025-10-15) and conversation transcription.

A client layered over a small transport stack (retries, a process-wide rate limit, auth), pydantic wire
models that keep what the service sent, and typed errors. See client.py for the operations.
"""

from shared.speech.client import SpeechClient
from shared.speech.conversation import (
    ConversationClient,
    OfflineTask,
    OfflineTranscription,
    ProcessingStatus,
    conversation_endpoint,
    region_from_endpoint,
)
from shared.speech.definitions import TranscriptionDefinition
from shared.speech.durations import parse_iso_duration
from shared.speech.errors import (
    AuthenticationError,
    ErrorBody,
    InnerError,
    InvalidRequestError,
    NotFoundError,
    ServiceError,
    SpeechError,
    SpeechTransportError,
    ThrottledError,
    UnexpectedResponseError,
)
from shared.speech.files import FileKind, ReportDetail, TranscriptionFile, TranscriptionReport
from shared.speech.retry import RetryPolicy
from shared.speech.transcriptions import (
    Diarization,
    LanguageIdentification,
    Status,
    Transcription,
    TranscriptionProperties,
)
from shared.speech.versions import ApiVersion
from shared.speech.webhooks import WebHook, WebHookDefinition, WebHookEvents, WebHookUpdate
from shared.speech.wire import EntityError, EntityReference

__all__ = [
    "ApiVersion",
    "AuthenticationError",
    "ConversationClient",
    "Diarization",
    "EntityError",
    "EntityReference",
    "ErrorBody",
    "FileKind",
    "InnerError",
    "InvalidRequestError",
    "LanguageIdentification",
    "NotFoundError",
    "OfflineTask",
    "OfflineTranscription",
    "ProcessingStatus",
    "ReportDetail",
    "RetryPolicy",
    "ServiceError",
    "SpeechClient",
    "SpeechError",
    "SpeechTransportError",
    "Status",
    "ThrottledError",
    "Transcription",
    "TranscriptionDefinition",
    "TranscriptionFile",
    "TranscriptionProperties",
    "TranscriptionReport",
    "UnexpectedResponseError",
    "WebHook",
    "WebHookDefinition",
    "WebHookEvents",
    "WebHookUpdate",
    "conversation_endpoint",
    "parse_iso_duration",
    "region_from_endpoint",
]
