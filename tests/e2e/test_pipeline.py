"""The whole product under the local Functions host: timer poll → queue → harvest → destination, per version.

This runs the real function_app.py in a subprocess (`python -m local.host`), exactly as `make demo` does, with
the Speech emulator and Azurite behind it.
"""

import os
import subprocess
import sys

import pytest
import requests

from shared.speech import SpeechClient, TranscriptionDefinition
from tests.fixtures.emulator import EMULATOR_KEY
from tests.fixtures.host import REPO_ROOT
from tests.fixtures.stack import API_VERSIONS, stack_env
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_timer_queue_harvest_under_the_host(azurite, fresh_emulator, run_host, make_stack, api_version):
    env = stack_env(azurite, fresh_emulator, api_version, POLL_SCHEDULE="* * * * * *")
    stack = make_stack(api_version, **{k: v for k, v in env.items() if k not in ("SPEECH_ENDPOINT",)})
    client = SpeechClient(fresh_emulator.endpoint, api_version=api_version, key=EMULATOR_KEY)
    ok = client.submit_transcription(
        TranscriptionDefinition.for_version(
            api_version,
            locale="en-US",
            display_name="ok",
            content_urls=["https://a.invalid/x/call-7-stereo.wav"],
        )
    ).id
    failed = client.submit_transcription(
        TranscriptionDefinition.for_version(
            api_version, locale="en-US", display_name="bad", content_urls=["https://a.invalid/x/fail.wav"]
        )
    ).id

    with run_host(REPO_ROOT, env) as host:

        def counts():
            status = requests.get(host.url("/api/status"), params={"code": host.function_key}, timeout=10)
            assert status.status_code == 200
            return status.json()["counts"].get("transcription")

        # The ledger says Harvested after each manifest is written, the last step of a harvest.
        wait_for(lambda: counts() == {"Harvested": 2}, timeout=60, what="both jobs harvested")
        status = requests.get(host.url("/api/status"), params={"code": host.function_key}, timeout=10)
        assert status.json()["oldestOpen"] is None
        unauthorised = requests.get(host.url("/api/status"), timeout=10)
        assert unauthorised.status_code == 401
        logs = host.logs()

    assert stack.manifest(ok)["status"] == "Succeeded"
    assert stack.manifest(failed)["status"] == "Failed"
    # Ops can follow each job in the logs: one line per state change, with the function and invocation.
    assert f"job_state kind=transcription id={ok} state=Queued" in logs
    assert f"job_state kind=transcription id={ok} state=Harvested" in logs
    assert "Executed 'Functions.harvest' (Succeeded" in logs
    assert EMULATOR_KEY not in logs
    assert "sig=" not in logs


def test_invalid_setting_stops_the_app_with_a_named_error(azurite, fresh_emulator, run_host):
    env = stack_env(azurite, fresh_emulator, "2024-11-15", SPEECH_API_VERSION="2023-01-01")
    result = subprocess.run(
        [sys.executable, "-m", "local.host", "--app-dir", str(REPO_ROOT), "--port", "0"],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "SPEECH_API_VERSION" in result.stdout + result.stderr
