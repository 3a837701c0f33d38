"""One classification of what can go wrong in a harvest, so the queue handler decides from it alone:

- transient: the weather (throttling, 5xx, timeouts, a body cut short, a SAS that expired once too often,
  a ledger row that kept changing). The message is retried by the queue, then poisoned after the last attempt.
- permanent: a human must act (credentials, a refused request, an answer we cannot read, the feature off).
  The message goes to the poison queue at once, with its reason; the job is marked Poisoned.
- gone: the service no longer has what we were reading (a 404). Retrying cannot bring it back: the job is
  marked Missing with the reason and the message is done.
"""

from __future__ import annotations

from enum import StrEnum

from shared.content import ContentAccessError, ContentMissingError
from shared.speech import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    UnexpectedResponseError,
)


class Failure(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    GONE = "gone"


class PermanentError(RuntimeError):
    """Raised by the app itself for a request that can never succeed as configured (e.g. a feature is off)."""


_GONE: tuple[type[BaseException], ...] = (NotFoundError, ContentMissingError)
_PERMANENT: tuple[type[BaseException], ...] = (
    AuthenticationError,
    InvalidRequestError,
    UnexpectedResponseError,
    ContentAccessError,
    PermanentError,
)


def classify(error: BaseException) -> Failure:
    """Which of the three an exception is; anything not known to be permanent or gone is worth a retry."""
    if isinstance(error, _GONE):
        return Failure.GONE
    if isinstance(error, _PERMANENT):
        return Failure.PERMANENT
    return Failure.TRANSIENT
