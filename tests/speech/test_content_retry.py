"""Result-file downloads (shared.content) follow the same retry rules as Speech calls, over a real HTTP server."""

import pytest

from shared.content import ContentExpiredError, ContentMissingError, ContentReader, ContentTransientError
from shared.speech import RetryRules
from tests.speech.scripted_server import Reply, ScriptedServer


def reader(waits: list[float], **rules) -> ContentReader:
    return ContentReader(retry=RetryRules(**rules), sleep=waits.append)


def read(content: ContentReader, url: str) -> bytes:
    with content.open(url) as chunks:
        return b"".join(chunks)


def test_503_and_429_are_retried_with_retry_after(server: ScriptedServer, waits):
    server.script(
        Reply(503, {"code": "ServerBusy"}, {"Retry-After": "2"}),
        Reply(429, {"code": "TooManyRequests"}, {"Retry-After": "1"}),
        Reply(raw=b'{"source": "x"}'),
    )
    assert read(reader(waits), f"{server.url}/results/a.json?sig=abc") == b'{"source": "x"}'
    assert waits == [2.0, 1.0]
    assert len(server.received) == 3


def test_5xx_until_the_attempts_run_out_is_transient(server: ScriptedServer, waits):
    server.script(default=Reply(500, {"code": "InternalError"}))
    with pytest.raises(ContentTransientError, match="HTTP 500"):
        read(reader(waits, max_attempts=3, base=0.01), f"{server.url}/results/a.json?sig=abc")
    assert len(server.received) == 3
    assert "abc" not in str(waits)


@pytest.mark.parametrize(("status", "error"), [(403, ContentExpiredError), (404, ContentMissingError)])
def test_403_and_404_are_never_retried(server: ScriptedServer, waits, status, error):
    server.script(default=Reply(status, {"code": "x"}))
    with pytest.raises(error):
        read(reader(waits), f"{server.url}/results/a.json?sig=abc")
    assert len(server.received) == 1
    assert waits == []
