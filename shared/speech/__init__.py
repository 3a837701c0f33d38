"""Azure AI Speech batch transcription (v3.2, 2024-11-15, 2025-10-15) and conversation transcription.

A client layered over a small transport stack (retries, a process-wide rate limit, auth; `transport=` replaces
the network layer), pydantic wire models that keep what the service sent, and typed errors. See client.py for
the operations, metering.py for what one invocation's calls cost.
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
from shared.speech.metering import CallMeter, metered
from shared.speech.retry import RetryRules
from shared.speech.transcriptions import (
    Diarization,
    LanguageIdentification,
    Status,
    Transcription,
    TranscriptionProperties,
)
from shared.speech.transport import HttpRequest, HttpResponse, RequestsTransport, Transport
from shared.speech.versions import ApiVersion
from shared.speech.webhooks import WebHook, WebHookDefinition, WebHookEvents, WebHookUpdate
from shared.speech.wire import EntityError, EntityReference

__all__ = [
    "ApiVersion",
    "AuthenticationError",
    "CallMeter",
    "ConversationClient",
    "Diarization",
    "EntityError",
    "EntityReference",
    "ErrorBody",
    "FileKind",
    "HttpRequest",
    "HttpResponse",
    "InnerError",
    "InvalidRequestError",
    "LanguageIdentification",
    "NotFoundError",
    "OfflineTask",
    "OfflineTranscription",
    "ProcessingStatus",
    "ReportDetail",
    "RequestsTransport",
    "RetryRules",
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
    "Transport",
    "UnexpectedResponseError",
    "WebHook",
    "WebHookDefinition",
    "WebHookEvents",
    "WebHookUpdate",
    "conversation_endpoint",
    "metered",
    "parse_iso_duration",
    "region_from_endpoint",
]
