"""Latency from the Speech service marking a job Succeeded to its manifest existing, on the webhook path.

    python -m bench.webhook_latency [--jobs 20]

Runs the real function_app.py under the local host with the timer effectively off (so only the webhook can
find finished jobs), registers the host's receiver as a Speech web hook in the emulator, then for each job:
create it held Running, mark it Succeeded through the emulator's admin API (t0), and wait for
transcriptions/<id>/manifest.json to appear in the destination (t1). Prints the median, p90 and max of t1 - t0.
"""

from __future__ import annotations

import argparse
import statistics
import time

from azure.storage.blob import ContainerClient

from bench.stack import KEY, bench_stack
from local.host_process import local_host
from shared.cli import register_webhook
from shared.speech import SpeechClient, TranscriptionDefinition

SECRET = "bench-webhook-secret"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    args = parser.parse_args(argv)

    with bench_stack(phase_seconds=0.2) as stack:
        env = stack.env(WEBHOOK_SECRET=SECRET, POLL_SCHEDULE="0 0 0 1 1 *", LOCAL_HOST_FUNCTION_KEY="bench")
        speech = SpeechClient(stack.emulator.endpoint, key=KEY)
        container = ContainerClient.from_connection_string(
            env["DESTINATION_CONNECTION"], env["DESTINATION_CONTAINER"]
        )
        with local_host(env) as host:
            _, hook = register_webhook(speech, f"{host.base_url}/api/webhooks/speech", "bench", SECRET)
            deadline = time.monotonic() + 30
            while str(speech.get_webhook(hook.id).status) != "Succeeded":
                if time.monotonic() > deadline:
                    raise SystemExit("the web hook's challenge did not succeed")
                time.sleep(0.05)
            latencies = []
            for index in range(args.jobs):
                stack.emulator.admin.add_fault("POST /transcriptions:submit", "stuck", count=1)
                definition = TranscriptionDefinition.for_version(
                    "2024-11-15", locale="en-US", display_name=f"latency {index}",
                    content_urls=[f"https://bench.invalid/calls/call-{index}-stereo.wav"],
                )  # fmt: skip
                job = speech.submit_transcription(definition).id
                manifest = container.get_blob_client(f"transcriptions/{job}/manifest.json")
                began = time.perf_counter()
                stack.emulator.admin.complete(job, "Succeeded")
                while not manifest.exists():
                    if time.perf_counter() - began > 60:
                        raise SystemExit(f"no manifest for {job} after 60 s:\n{host.logs()[-3000:]}")
                    time.sleep(0.01)
                latencies.append(time.perf_counter() - began)
    latencies.sort()
    p90 = latencies[max(0, round(0.9 * len(latencies)) - 1)]
    print(
        f"webhook path, {len(latencies)} jobs: Succeeded in the service -> manifest.json in the destination"
    )
    print(f"  median {statistics.median(latencies):.2f} s, p90 {p90:.2f} s, max {latencies[-1]:.2f} s")


if __name__ == "__main__":
    main()
