"""`make demo`: the whole product on one machine, end to end, in about a minute.

Starts Azurite, the Speech emulator and the local Functions host running function_app.py; registers the
host's webhook receiver with the emulator; submits sample jobs through the app's own submission API; waits
for the harvest (found by the webhook, with the timer as the safety net); and prints the destination
container's tree, one manifest, one .txt and one .vtt. Next to it, the example consumer
(examples/consumer) runs under a second host: its Event Grid blob trigger and its queue trigger on the
transcript-ready events index every job, and the demo prints that index. `--keep-running` leaves the stack up
for exploring.

`--identity` (`make demo IDENTITY=1`) runs the app as on Flex Consumption with managed identity: Azurite over
HTTPS with OAuth, a local managed-identity endpoint, a Speech emulator that accepts only Entra tokens, and app
settings without any key, connection string or SAS (see local/identity_stack.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any, TypeVar

import requests
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient
from azure.storage.blob import ContainerClient

from local.azurite import REPO_ROOT, Azurite
from local.host_process import HostProcess, local_host
from local.identity_stack import identity_stack
from local.speech_emulator import EmulatorConfig, EmulatorServer

T = TypeVar("T")
KEY = "demo-speech-key"
WEBHOOK_SECRET = "demo-webhook-secret"  # noqa: S105 - a throwaway local value, printed nowhere
FUNCTION_KEY = "demo-function-key"
NOTIFY_QUEUE = "transcript-events"
INDEX_TABLE = "transcriptindex"
CONSUMER_DIR = REPO_ROOT / "examples" / "consumer"
SAMPLES: list[dict[str, Any]] = [
    {
        "displayName": "Call centre, stereo (agent and customer)",
        "contentUrls": ["https://samples.invalid/calls/call-0042-stereo.wav?phrases=8"],
        "properties": {"wordLevelTimestampsEnabled": True},
    },
    {
        "displayName": "Team meeting, speakers separated",
        "contentUrls": ["https://samples.invalid/meetings/weekly-sync.wav?phrases=6"],
        "properties": {"diarization": {"maxSpeakers": 3}},
    },
    {
        "displayName": "Two recordings, one unreadable",
        "contentUrls": [
            "https://samples.invalid/media/interview.wav",
            "https://samples.invalid/media/corrupt-fail.wav",
        ],
    },
]


def say(text: str) -> None:
    print(text, flush=True)


def wait(condition: Callable[[], T | None], *, timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"demo: timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


def submit_all(base_url: str) -> list[str]:
    """Submit the samples through the app's own API: POST /api/transcriptions."""
    ids = []
    for sample in SAMPLES:
        response = requests.post(
            f"{base_url}/api/transcriptions",
            json={"locale": "en-US", **sample},
            params={"code": FUNCTION_KEY},
            timeout=30,
        )
        if response.status_code != 202:
            raise SystemExit(f"demo: submission failed: {response.status_code} {response.text}")
        ids.append(response.json()["id"])
        say(f"  submitted {ids[-1]}  {sample['displayName']}")
    return ids


def register_webhook(base_url: str, env: dict[str, str]) -> None:
    """Point a Speech web hook at the host's receiver with the project's CLI."""
    result = subprocess.run(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "-m",
            "shared.cli",
            "webhook",
            "register",
            "--url",
            f"{base_url}/api/webhooks/speech",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"demo: webhook registration failed:\n{result.stdout}{result.stderr}")
    say(f"  webhook   {base_url}/api/webhooks/speech registered (signed with WEBHOOK_SECRET)")


def _app_env(emulator: str, api_version: str) -> dict[str, str]:
    return {
        "SPEECH_ENDPOINT": emulator,
        "SPEECH_API_VERSION": api_version,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "LOCAL_HOST_FUNCTION_KEY": FUNCTION_KEY,
        "CHANNEL_LABELS": "Agent,Customer",
        "CONVERSATION_ENDPOINT": f"{emulator}/conversations/api/v1/",
        "NOTIFY_QUEUE": NOTIFY_QUEUE,
        "POLL_SCHEDULE": "0 */5 * * * *",  # the safety net; the webhook is the fast path
    }


def start_platform(stack: ExitStack, api_version: str, identity: bool) -> tuple[str, dict[str, str]]:
    """Azurite and the Speech emulator; the connection string with which the demo and the example consumer
    read the app's storage; and the app settings: keys and connection strings, or (identity) only the
    settings a Flex deployment with a user-assigned identity has."""
    if identity:
        platform = stack.enter_context(identity_stack())
        say(f"  azurite   {platform.app_blob_endpoint}  (HTTPS, OAuth; CA {platform.tls.ca_path})")
        say(f"  identity  {platform.identity.endpoint}  (App Service protocol, user-assigned identity)")
        emulator = stack.enter_context(EmulatorServer(platform.emulator_config(phase_seconds=2.0)))
        settings = platform.app_settings()
        observer = platform.app_account_connection_string
    else:
        azurite = stack.enter_context(Azurite())
        say(f"  azurite   {azurite.blob_endpoint}")
        emulator = stack.enter_context(
            EmulatorServer(
                EmulatorConfig(
                    storage_connection_string=azurite.connection_string, keys=(KEY,), phase_seconds=2.0
                )
            )
        )
        observer = azurite.connection_string
        settings = {
            "SPEECH_KEY": KEY,
            "AzureWebJobsStorage": observer,
            "DESTINATION_CONNECTION": observer,
            "DESTINATION_CONTAINER": "transcripts",
        }
    auth = "Entra tokens only" if identity else "key"
    say(f"  speech    {emulator.endpoint}  (emulator, API {api_version}, {auth})")
    return observer, {**_app_env(emulator.endpoint, api_version), **settings}


def _consumer_env(storage: str) -> dict[str, str]:
    """The example consumer's settings: it reads the destination container and the notify queue."""
    return {
        "AzureWebJobsStorage": storage,
        "TranscriptsStorage": storage,
        "TRANSCRIPTS_CONTAINER": "transcripts",
        "TRANSCRIPTS_PREFIX": "",
        "NotifyStorage": storage,
        "NOTIFY_QUEUE": NOTIFY_QUEUE,
        "INDEX_TABLE": INDEX_TABLE,
        "LOCAL_HOST_FUNCTION_KEY": FUNCTION_KEY,
    }


def show_consumer(consumer: HostProcess, storage: str, ids: list[str]) -> None:
    """What the consumer did: its invocations per trigger, its log lines and its index."""
    table = TableClient.from_connection_string(storage, INDEX_TABLE)

    def indexed() -> list[dict[str, Any]] | None:
        with contextlib.suppress(ResourceNotFoundError):
            rows = [dict(r) for r in table.list_entities()]
            logs = consumer.logs()
            if {r["RowKey"] for r in rows} >= set(ids) and all(
                f"indexed transcription {i} via {via}" in logs for i in ids for via in ("blob", "queue")
            ):
                return rows
        return None

    rows = wait(indexed, timeout=60, what="the consumer to index every job")
    logs = consumer.logs()
    blob_runs = logs.count("Executing 'Functions.on_manifest'")
    queue_runs = logs.count("Executing 'Functions.on_transcript_event'")
    say(
        f"\nThe example consumer (examples/consumer, {consumer.base_url}) reacted: {blob_runs} blob trigger "
        f"(Event Grid) invocations, {queue_runs} queue trigger invocations:"
    )
    for line in logs.splitlines():
        if " indexed " in line or "duplicate event" in line:
            say("  " + line.split("] ", 1)[-1])
    say(f"\nIts index (Azure Table '{INDEX_TABLE}'), one row per job:")
    for row in sorted(rows, key=lambda r: r["RowKey"]):
        say(
            f"  {row['RowKey']}  {row['status']:<9} {row.get('durationSeconds') or 0:6.1f}s  "
            f"speakers: {row['speakers'] or '-'}  {row['firstWords'][:60]!r}"
        )
    found = requests.get(
        f"{consumer.base_url}/api/transcripts", params={"q": "meeting", "code": FUNCTION_KEY}, timeout=10
    ).json()
    say(f"GET {consumer.base_url}/api/transcripts?q=meeting -> {[r['displayName'] for r in found]}")


def found_by(logs: str, job_id: str) -> str:
    """Who moved the job to Queued, read from its state line in the host's log (webhook, poll, ...)."""
    match = re.search(rf"id={job_id} state=Queued .*? source=(\w+)", logs)
    return match.group(1) if match else "unknown"


def show(container: ContainerClient, ids: list[str]) -> None:
    say("\nDestination container 'transcripts':")
    for blob in sorted(container.list_blobs(), key=lambda b: b.name):
        say(f"  {blob.name}  ({blob.size:,} bytes)")
    first = ids[0]
    manifest = json.loads(container.download_blob(f"transcriptions/{first}/manifest.json").readall())
    say(f"\ntranscriptions/{first}/manifest.json:")
    say(json.dumps(manifest, indent=2)[:3000])
    for ext in ("txt", "vtt"):
        name = next(
            b.name
            for b in container.list_blobs(name_starts_with=f"transcriptions/{first}/transcript/")
            if b.name.endswith(ext)
        )
        say(f"\n{name}:")
        say(container.download_blob(name).readall().decode("utf-8")[:1500])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-version", default="2024-11-15", choices=["2024-11-15", "2025-10-15", "v3.2"])
    parser.add_argument("--port", type=int, default=7071, help="the host's HTTP port (0: any free port)")
    parser.add_argument("--keep-running", action="store_true", help="leave the stack up until Ctrl+C")
    parser.add_argument(
        "--identity", action="store_true", help="managed identity only: no key, connection string or SAS"
    )
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        say("Starting the local stack:")
        storage, env = start_platform(stack, args.api_version, args.identity)
        consumer = stack.enter_context(local_host(_consumer_env(storage), app_dir=CONSUMER_DIR))
        say(f"  consumer  {consumer.base_url}  (examples/consumer, log: {consumer.log_path})")
        host = stack.enter_context(local_host(env, port=args.port))
        base_url = host.base_url
        say(f"  host      {base_url}  (log: {host.log_path})")
        if args.identity:
            names = sorted(name for name in env if name.startswith("AzureWebJobsStorage"))
            say(f"  settings  {', '.join(names)}, DESTINATION_CONTAINER_URL (no SAS); no SPEECH_KEY")
        register_webhook(base_url, env)

        say("\nSubmitting sample jobs:")
        started = time.monotonic()
        ids = submit_all(base_url)
        container = ContainerClient.from_connection_string(storage, "transcripts")

        def harvested() -> bool:
            return all(container.get_blob_client(f"transcriptions/{i}/manifest.json").exists() for i in ids)

        wait(harvested, timeout=120, what="the harvest of every sample job")
        finders = [found_by(host.logs(), job_id) for job_id in ids]
        say(
            f"\nAll {len(ids)} jobs harvested {time.monotonic() - started:.1f}s after submission "
            f"(found by: {', '.join(finders)})."
        )
        status = requests.get(f"{base_url}/api/status", params={"code": FUNCTION_KEY}, timeout=10).json()
        say(f"GET /api/status -> {json.dumps(status['counts'])}")
        show(container, ids)
        show_consumer(consumer, storage, ids)
        if args.keep_running:
            say(f"\nStack is up. Function key: {FUNCTION_KEY}. Ctrl+C to stop.")
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
