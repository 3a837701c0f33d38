from collections.abc import Callable

import pytest
from azure.core.credentials import AccessToken

from shared.speech import SpeechClient
from shared.speech.auth import COGNITIVE_SERVICES_SCOPE, KeyAuth, TokenAuth, make_auth, token_is_fresh
from shared.speech.transport import HttpRequest, HttpResponse


class CountingCredential:
    """A TokenCredential that issues numbered tokens valid for `lifetime` seconds from the fake clock."""

    def __init__(self, clock: list[float], lifetime: float = 3600) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(f"token-{len(self.scopes)}", int(self.clock[0] + self.lifetime))


def test_key_auth_sends_the_subscription_key_header():
    auth = KeyAuth("k1")
    assert auth.headers() == {"Ocp-Apim-Subscription-Key": "k1"}
    assert auth.secrets() == ["k1"]


def test_token_is_fresh_until_five_minutes_before_expiry():
    token = AccessToken("t", 10_000)
    assert token_is_fresh(token, 9_699)
    assert not token_is_fresh(token, 9_700)
    assert not token_is_fresh(None, 0)


def test_token_auth_caches_until_near_expiry():
    now = [1_000_000.0]
    credential = CountingCredential(now)
    auth = TokenAuth(credential, clock=lambda: now[0])
    assert auth.secrets() == []
    assert auth.headers() == {"Authorization": "Bearer token-1"}
    now[0] += 3000
    assert auth.headers() == {"Authorization": "Bearer token-1"}
    assert auth.secrets() == ["token-1"]
    now[0] += 301
    assert auth.headers() == {"Authorization": "Bearer token-2"}
    assert credential.scopes == [(COGNITIVE_SERVICES_SCOPE,), (COGNITIVE_SERVICES_SCOPE,)]


def test_make_auth_prefers_the_key_and_needs_one_of_them():
    credential = CountingCredential([0.0])
    assert isinstance(make_auth("k", credential), KeyAuth)
    assert isinstance(make_auth(None, credential), TokenAuth)
    with pytest.raises(ValueError, match="key or a TokenCredential"):
        make_auth(None, None)
    with pytest.raises(ValueError, match="key or a TokenCredential"):
        make_auth("", None)


def test_a_token_is_fetched_before_the_rate_budget_grants_the_request():
    """A grant is good for a fraction of a second (shared.rate_budget): a token fetched after it (a refresh
    can take a second) would let the request arrive after the window the budget counted."""
    events: list[str] = []

    class Credential:
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            events.append("token")
            return AccessToken("t", 4_000_000_000)

    class Limiter:
        def acquire(self, sleep: Callable[[float], None]) -> float:
            events.append("grant")
            return 0.0

    class Transport:
        def send(self, request: HttpRequest) -> HttpResponse:
            events.append("send")
            return HttpResponse(200, {}, b"[]", [])

    speech = SpeechClient(
        "https://speech.example", credential=Credential(), limiter=Limiter(), transport=Transport()
    )
    assert speech.list_locales() == []
    assert events == ["token", "grant", "send"]
