"""Call counts and the service's clock belong to the invocation that made the calls, not to the shared client:
two invocations using one client at once each see only their own (the poll tick's cost and watermark)."""

import threading
from datetime import UTC, datetime

import requests

from shared.speech import HttpRequest, HttpResponse, RequestsTransport, SpeechClient, metered
from tests.fixtures.waiting import wait_for
from tests.speech.scripted_server import Reply, ScriptedServer

SLOW_DATE = "Wed, 21 Oct 2026 07:28:00 GMT"
FAST_DATE = "Thu, 22 Oct 2026 08:00:00 GMT"


def test_two_concurrent_invocations_do_not_mix_counts_or_dates(server: ScriptedServer, key):
    speech = SpeechClient(server.url, key=key)  # one client, as a worker's invocations share it
    server.script(
        Reply(json=[], headers={"Date": SLOW_DATE}, delay=1.0),  # the slow invocation's one call
        default=Reply(json=[], headers={"Date": FAST_DATE}),
    )
    meters = {}

    def slow() -> None:
        with metered() as meter:
            speech.list_locales()
        meters["slow"] = meter

    thread = threading.Thread(target=slow)
    thread.start()
    wait_for(lambda: len(server.received) == 1, what="the slow call to arrive")
    with metered() as fast:  # meanwhile, another invocation makes three calls
        for _ in range(3):
            speech.list_locales()
    thread.join(10)

    assert (fast.calls, fast.server_time) == (3, datetime(2026, 10, 22, 8, 0, tzinfo=UTC))
    assert (meters["slow"].calls, meters["slow"].server_time) == (
        1,
        datetime(2026, 10, 21, 7, 28, tzinfo=UTC),
    )
    assert speech.calls == 4  # the client's running total
    speech.close()


class Recording:
    """A transport of our own under the client's retry rules: the real requests one, recording what it sends."""

    def __init__(self) -> None:
        self.sent: list[HttpRequest] = []
        self._inner = RequestsTransport(requests.Session(), (5.0, 30.0))

    def send(self, request: HttpRequest) -> HttpResponse:
        self.sent.append(request)
        return self._inner.send(request)


def test_transport_is_a_public_seam_under_the_retry_rules(server: ScriptedServer, key):
    server.script(
        Reply(503, {"code": "ServiceUnavailable", "message": "busy"}, {"Retry-After": "0"}), Reply(json=[])
    )
    transport = Recording()
    speech = SpeechClient(server.url, key=key, transport=transport)
    assert speech.list_locales() == []
    assert [r.method for r in transport.sent] == ["GET", "GET"]  # retried through the seam
    assert transport.sent[0].headers["Ocp-Apim-Subscription-Key"] == key
