"""The one failure classification the queue handler acts on."""

import pytest
import requests

from shared.content import ContentAccessError, ContentExpiredError, ContentMissingError, ContentTransientError
from shared.conversations import ConversationsOffError
from shared.failures import Failure, classify
from shared.ledger import ConcurrencyError
from shared.speech import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    ServiceError,
    SpeechTransportError,
    ThrottledError,
    UnexpectedResponseError,
)


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (NotFoundError(404, "NotFound", "gone"), Failure.GONE),
        (ContentMissingError("GET x: 404"), Failure.GONE),
        (AuthenticationError(401, None, "key"), Failure.PERMANENT),
        (InvalidRequestError(400, None, "bad"), Failure.PERMANENT),
        (UnexpectedResponseError("not a transcription"), Failure.PERMANENT),
        (ContentAccessError("GET x: 403 with our storage credential"), Failure.PERMANENT),
        (ConversationsOffError(), Failure.PERMANENT),
        (ThrottledError(429, None, "slow down"), Failure.TRANSIENT),
        (ServiceError(503, None, "busy"), Failure.TRANSIENT),
        (SpeechTransportError("timeout"), Failure.TRANSIENT),
        (ContentExpiredError("GET x: 403 (SAS expired)"), Failure.TRANSIENT),
        (ContentTransientError("GET x: HTTP 500"), Failure.TRANSIENT),
        (ConcurrencyError("row kept changing"), Failure.TRANSIENT),
        (requests.ConnectionError("reset"), Failure.TRANSIENT),
    ],
)
def test_classify(error, failure):
    assert classify(error) is failure
