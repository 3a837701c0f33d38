"""The pooled session resolves the environment as requests does, once per scheme and host."""

import json
from pathlib import Path

import pytest
import requests

from shared.sessions import CONCURRENT_HARVESTS, PooledSession

URLS = [
    "https://account.blob.core.windows.net/c/b?sig=x",
    "https://inside.example.net/c/b",
    "http://127.0.0.1:10000/devstoreaccount1/c/b",
]


@pytest.fixture
def proxied(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.net:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example.net:3128")
    monkeypatch.setenv("NO_PROXY", "inside.example.net,127.0.0.1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/custom-ca.pem")


@pytest.mark.usefixtures("proxied")
@pytest.mark.parametrize("url", URLS)
def test_settings_are_the_ones_requests_resolves(url):
    expected = requests.Session().merge_environment_settings(url, {}, None, True, None)
    assert PooledSession().merge_environment_settings(url, {}, None, True, None) == expected
    assert PooledSession().merge_environment_settings(url, None, True, True, None)["stream"] is True


@pytest.mark.usefixtures("proxied")
def test_the_environment_is_read_once_per_host(monkeypatch):
    session = PooledSession()
    first = session.merge_environment_settings(URLS[0], {}, None, True, None)
    assert first["proxies"]["https"] == "http://proxy.example.net:3128"
    monkeypatch.setenv("HTTPS_PROXY", "http://other.example.net:3128")
    assert session.merge_environment_settings(URLS[0] + "&other", {}, None, True, None) == first
    # A request that names its own proxies takes the ordinary path.
    given = {"https": "http://given.example.net:1"}
    assert session.merge_environment_settings(URLS[0], given, None, True, None)["proxies"]["https"] == (
        "http://given.example.net:1"
    )


def test_the_pool_keeps_a_connection_for_every_request_in_flight():
    adapter = PooledSession(48).get_adapter("https://account.blob.core.windows.net/")
    assert adapter._pool_maxsize == 48  # the adapter keeps its size only there
    assert adapter.max_retries.total is False  # the SDK's policies retry, never urllib3 underneath


def test_concurrent_harvests_match_host_json():
    queues = json.loads((Path(__file__).parents[2] / "host.json").read_text())["extensions"]["queues"]
    assert queues["batchSize"] + queues["newBatchThreshold"] == CONCURRENT_HARVESTS
