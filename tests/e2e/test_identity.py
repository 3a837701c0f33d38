"""Identity only, as on Flex Consumption: no key, no connection string, no SAS in any setting.

The real function_app.py runs under `python -m local.host` against Azurite with OAuth over HTTPS (a CA made for
this run), a managed-identity endpoint speaking the App Service protocol (azure-identity's own credential asks
it for tokens), and a Speech emulator with local authentication disabled, which accepts only tokens signed by
that endpoint for https://cognitiveservices.azure.com. Azurite still honours shared key, so the test proves no
key is used by giving the app none: its settings and this process's environment hold no key, connection
string or SAS; its storage account's key is random and known only to Azurite and the test's observer, so no
fallback to the well-known development key could work; and every token the identity endpoint issued went to
the user-assigned identity.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

from local.azurite import ACCOUNT_KEY
from local.identity_endpoint import COGNITIVE_SERVICES_AUDIENCE, STORAGE_AUDIENCE, Issued
from local.identity_stack import APP_ACCOUNT, USER_ASSIGNED_CLIENT_ID, IdentityStack, identity_stack
from local.speech_emulator import EmulatorServer
from tests.fixtures.host import REPO_ROOT
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.e2e

SECRET_MARKERS = ("AccountKey", ACCOUNT_KEY, "sig=", "SharedAccessSignature", "UseDevelopmentStorage")
STORAGE_SETTINGS = ("AzureWebJobsStorage", "SPEECH_KEY", "DESTINATION_CONNECTION", "AZURE_CLIENT_ID")


@pytest.fixture(scope="module")
def platform() -> Iterator[IdentityStack]:
    with identity_stack() as stack:
        yield stack


@pytest.fixture(scope="module")
def entra_emulator(platform: IdentityStack) -> Iterator[EmulatorServer]:
    with EmulatorServer(platform.emulator_config(phase_seconds=0.2, tick_seconds=0.05)) as emulator:
        yield emulator


def app_env(platform: IdentityStack, emulator: EmulatorServer, **overrides: str) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:10]
    return platform.app_settings(
        SPEECH_ENDPOINT=emulator.endpoint,
        DESTINATION_CONTAINER_URL=f"{platform.app_blob_endpoint}/dest-{suffix}",
        HARVEST_QUEUE=f"harvest-{suffix}",
        LEDGER_TABLE=f"ledger{suffix}",
        POLL_SCHEDULE="* * * * * *",
        POLL_OVERLAP_SECONDS="0",
        **overrides,
    )


def assert_no_secret(env: dict[str, str], platform: IdentityStack) -> None:
    for name, value in env.items():
        for marker in (*SECRET_MARKERS, platform.app_account_key):
            assert marker not in value, f"{name} holds a key, connection string or SAS"
    for name in STORAGE_SETTINGS:
        assert name not in env
        assert name not in os.environ, f"the test process must not hold {name}"


def customer_container_sas(platform: IdentityStack, name: str) -> str:
    """A destinationContainerUrl for one job, as a customer makes it (in the request, not in a setting). The
    test plays the customer and, below, the observer who reads the results: the app never gets this key."""
    BlobServiceClient(
        platform.app_blob_endpoint, credential=platform.app_account_credential
    ).create_container(name)
    sas = generate_container_sas(
        APP_ACCOUNT,
        name,
        account_key=platform.app_account_key,
        permission=ContainerSasPermissions(read=True, add=True, create=True, write=True, list=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    return f"{platform.app_blob_endpoint}/{name}?{sas}"


def test_submit_poll_queue_harvest_with_identity_only(platform, entra_emulator, run_host, monkeypatch):
    for name in STORAGE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    env = app_env(platform, entra_emulator)
    assert_no_secret(env, platform)
    their_container = f"theirs-{uuid.uuid4().hex[:10]}"
    destination_url = customer_container_sas(platform, their_container)
    platform.identity.issued.clear()

    with run_host(REPO_ROOT, env) as host:

        def submit(body: dict) -> str:
            answer = requests.post(
                host.url("/api/transcriptions"), params={"code": host.function_key}, json=body, timeout=30
            )
            assert answer.status_code == 202, answer.text
            return answer.json()["id"]

        plain = submit(
            {
                "contentUrls": ["https://audio.invalid/calls/call-9-stereo.wav"],
                "locale": "en-US",
                "displayName": "plain",
            }
        )
        theirs = submit(
            {
                "contentUrls": ["https://audio.invalid/calls/memo.wav"],
                "locale": "en-US",
                "displayName": "into the customer's container",
                "properties": {"destinationContainerUrl": destination_url},
            }
        )

        def states() -> dict[str, str] | None:
            found = {}
            for job in (plain, theirs):
                answer = requests.get(
                    host.url(f"/api/transcriptions/{job}"), params={"code": host.function_key}, timeout=10
                ).json()
                found[job] = answer["state"]
            return found if set(found.values()) == {"Harvested"} else None

        try:
            wait_for(states, timeout=60, what="both jobs harvested with identity only")
        except pytest.fail.Exception:
            pytest.fail(f"not harvested; host log tail:\n{host.logs()[-4000:]}")
        logs = host.logs()

    # The harvest read and wrote through the identity: the app's destination has both jobs' outputs, and
    # the files the service wrote into the customer's container (plain URLs) were copied byte-exact.
    observer = BlobServiceClient(platform.app_blob_endpoint, credential=platform.app_account_credential)
    container = observer.get_container_client(env["DESTINATION_CONTAINER_URL"].rsplit("/", 1)[1])
    manifests = {
        job: json.loads(container.download_blob(f"transcriptions/{job}/manifest.json").readall())
        for job in (plain, theirs)
    }
    assert {m["status"] for m in manifests.values()} == {"Succeeded"}
    [result] = [r for r in manifests[theirs]["results"] if r["kind"] == "Transcription"]
    customer = observer.get_container_client(their_container)
    source_blob = next(b.name for b in customer.list_blobs() if theirs in b.name)
    original = customer.download_blob(source_blob).readall()
    assert result["sha256"] == hashlib.sha256(original).hexdigest()
    assert container.download_blob(result["blob"]).readall() == original

    # Every token went to the user-assigned identity; storage and Speech each asked for their own audience.
    issued = set(platform.identity.issued)
    assert issued == {
        Issued(STORAGE_AUDIENCE, USER_ASSIGNED_CLIENT_ID),
        Issued(COGNITIVE_SERVICES_AUDIENCE, USER_ASSIGNED_CLIENT_ID),
    }
    assert "Executed 'Functions.harvest' (Succeeded" in logs
    assert "Executed 'Functions.poll' (Succeeded" in logs
    assert "AccountKey" not in logs


def test_the_emulator_refuses_keys_and_foreign_tokens_when_entra_only(platform, entra_emulator):
    url = f"{entra_emulator.endpoint}/speechtotext/transcriptions?api-version=2024-11-15"
    good, _ = platform.identity.token(COGNITIVE_SERVICES_AUDIENCE, USER_ASSIGNED_CLIENT_ID)
    storage, _ = platform.identity.token(STORAGE_AUDIENCE, USER_ASSIGNED_CLIENT_ID)
    expired, _ = platform.identity.token(COGNITIVE_SERVICES_AUDIENCE, None, now=0)

    def status(headers: dict[str, str]) -> int:
        return requests.get(url, headers=headers, timeout=10).status_code

    assert status({"Authorization": f"Bearer {good}"}) == 200
    assert status({"Ocp-Apim-Subscription-Key": "emulator-key"}) == 401
    assert status({"Authorization": f"Bearer {storage}"}) == 401  # wrong audience
    assert status({"Authorization": f"Bearer {expired}"}) == 401
    forged = good.rsplit(".", 1)[0] + ".c2lnbmF0dXJl"
    assert status({"Authorization": f"Bearer {forged}"}) == 401
    answer = requests.get(url, headers={"Authorization": f"Bearer {storage}"}, timeout=10).json()
    assert "audience" in answer["message"]


def test_a_half_given_connection_stops_the_app_naming_the_missing_setting(platform, entra_emulator):
    env = app_env(platform, entra_emulator)
    del env["AzureWebJobsStorage__tableServiceUri"]
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(STORAGE_SETTINGS)}
    result = subprocess.run(
        [sys.executable, "-m", "local.host", "--app-dir", str(REPO_ROOT), "--port", "0"],
        cwd=REPO_ROOT,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert (
        "AzureWebJobsStorage: connection 'AzureWebJobsStorage' is identity-based but incomplete: "
        "set AzureWebJobsStorage__tableServiceUri" in result.stdout + result.stderr
    )


def test_the_apps_account_is_out_of_reach_of_the_development_key(platform):
    """So nothing in the app can have reached its storage with Azurite's well-known key."""
    dev_key = {"account_name": APP_ACCOUNT, "account_key": ACCOUNT_KEY}
    with pytest.raises(ClientAuthenticationError):
        next(iter(BlobServiceClient(platform.app_blob_endpoint, credential=dev_key).list_containers()))
    owner = BlobServiceClient(platform.app_blob_endpoint, credential=platform.app_account_credential)
    assert isinstance(list(owner.list_containers()), list)  # the account exists; only its own key opens it
