"""A large result file: harvest throughput against a plain copy of every byte the harvest writes, and peak RSS.

    python -m bench.large_result [--mb 500] [--formats json,txt,srt,vtt] [--rounds 2] [--variant DIR ...]

The emulator generates one result file of about --mb MB (2024-11-15, word-level timestamps) into Azurite.
Then, in turns (`--rounds` of each, measured side by side in one run because the machine's load changes),
two kinds of child process, each measured on its own (peak RSS from getrusage):
- harvest: the real harvester on the whole job (raw copy, derived transcripts, manifest) into a fresh
  container;
- copy: a plain copy of all the bytes that harvest wrote: the result file from its contentUrl and each
  derived transcript from a SAS URL onto the same Azurite, through the same download (ContentReader) and
  staged-block upload (Destination) the harvester uses, nothing else.
The ratio compares the best round of each (the least disturbed by other load); each child's CPU seconds
(imports included) show what is work and what is waiting. `--variant DIR` (repeatable) adds a harvest with the
code checked out in DIR to every round, to compare designs side by side.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.stack import bench_stack


def _child_copy(env: dict[str, str], plan: dict[str, str]) -> dict[str, float]:
    """Copy every (target blob name -> source URL) of `plan`, one after another, like the harvest."""
    from shared.content import ContentReader
    from shared.destination import Destination
    from shared.runtime import app_credential
    from shared.settings import load_settings

    settings = load_settings(env)
    destination = Destination.from_settings(settings, app_credential(settings))
    destination.ensure_container()
    reader = ContentReader()
    began = time.perf_counter()
    written = 0
    for name, url in plan.items():
        with reader.open(url) as chunks:
            written += destination.write(f"copy/{name}", chunks, content_type="application/json").size
    return {"seconds": time.perf_counter() - began, "bytes": written}


def _child_harvest(env: dict[str, str], job_id: str) -> dict[str, float]:
    from shared import runtime
    from shared.queueing import HarvestRequest
    from shared.settings import load_settings

    parts = runtime.build(load_settings(env))
    began = time.perf_counter()
    runtime.harvester(parts).harvest(HarvestRequest(id=job_id))
    seconds = time.perf_counter() - began
    return {"seconds": seconds}


def child(argv: list[str]) -> None:
    mode, env_json, target = argv
    env = json.loads(env_json)
    result = _child_copy(env, json.loads(target)) if mode == "copy" else _child_harvest(env, target)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    print(json.dumps(result))


def run_child(mode: str, env: dict[str, str], target: str, code: str | None = None) -> dict[str, float]:
    """A child process running the code in the directory `code` (default: this checkout)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.large_result", "--child", mode, json.dumps(env), target],
        cwd=code,
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _written(env: dict[str, str], job_id: str, raw_url: str) -> tuple[dict[str, str], int]:
    """What the harvest wrote for the result file: the copy plan (raw from its contentUrl, the derived files
    from SAS URLs into the harvest's container) and the bytes in all."""
    from azure.storage.blob import BlobSasPermissions, generate_blob_sas

    from local.azurite import ACCOUNT_KEY, ACCOUNT_NAME
    from shared.destination import Destination
    from shared.runtime import app_credential
    from shared.settings import load_settings

    settings = load_settings(env)
    destination = Destination.from_settings(settings, app_credential(settings))
    manifest = json.loads(destination.read(f"transcriptions/{job_id}/manifest.json") or b"{}")
    (result,) = [r for r in manifest["results"] if r["kind"] == "Transcription"]
    plan = {"raw.json": raw_url}
    total = result["size"]
    expiry = datetime.now(UTC) + timedelta(hours=2)
    for derived in result["transcripts"]:
        sas = generate_blob_sas(
            ACCOUNT_NAME,
            destination.container.container_name,
            derived["blob"],
            account_key=ACCOUNT_KEY,
            permission=BlobSasPermissions(read=True),
            expiry=expiry,
        )
        plan[f"derived.{derived['format']}"] = f"{destination.url(derived['blob'])}?{sas}"
        total += derived["size"]
    return plan, total


def _timing(result: dict[str, float]) -> str:
    return f"{result['seconds']:.1f} s ({result['cpu_seconds']:.1f} s CPU)"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        child(argv[1:])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--formats", default="json,txt,srt,vtt")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="DIR",
        help="also harvest, in every round, with the code checked out in DIR (another commit, or this one with "
        "other shared/transcripts): designs measured side by side",
    )
    args = parser.parse_args(argv)

    with bench_stack(phase_seconds=0.1, throttle_limit=10_000) as stack:
        parts = stack.parts()
        from shared.speech import TranscriptionDefinition

        url = f"https://bench.invalid/long/all-hands-stereo.wav?bytes={args.mb * 1_000_000}"
        definition = TranscriptionDefinition.for_version(
            "2024-11-15", locale="en-US", display_name="large", content_urls=[url], word_level_timestamps=True
        )
        job_id = parts.speech.submit_transcription(definition).id
        print(f"generating a ~{args.mb} MB result file in the emulator ...", flush=True)
        began = time.perf_counter()
        while not parts.speech.get_transcription(job_id).is_terminal:
            time.sleep(0.2)
        files = [f for f in parts.speech.list_files(job_id) if f.kind == "Transcription"]
        size = files[0].size
        if size is None:
            raise SystemExit("the emulator listed the result file without its size")
        print(
            f"  ready in {time.perf_counter() - began:.0f} s: {files[0].name}, {size / 1e6:.0f} MB",
            flush=True,
        )

        harvests: list[dict[str, float]] = []
        copies: list[dict[str, float]] = []
        variants: dict[str, list[dict[str, float]]] = {directory: [] for directory in args.variant}
        total = 0
        for round_number in range(1, args.rounds + 1):
            env = stack.env(OUTPUT_FORMATS=args.formats)
            harvests.append(run_child("harvest", env, job_id))
            plan, total = _written(env, job_id, files[0].content_url or "")
            copies.append(run_child("copy", stack.env(), json.dumps(plan)))
            print(
                f"  round {round_number}: harvest {_timing(harvests[-1])}, copy {_timing(copies[-1])}",
                flush=True,
            )
            for directory, results in variants.items():
                results.append(
                    run_child("harvest", stack.env(OUTPUT_FORMATS=args.formats), job_id, directory)
                )
                print(f"    harvest with {directory}: {_timing(results[-1])}", flush=True)

    size_mb = size / 1e6
    copy = min(copies, key=lambda c: c["seconds"])
    harvest = min(harvests, key=lambda h: h["seconds"])
    print(f"large result, {size_mb:.0f} MB, formats {args.formats}; the harvest writes {total / 1e6:.0f} MB")
    print(
        f"  plain copy of those bytes: {copy['seconds']:.1f} s = {total / 1e6 / copy['seconds']:.0f} MB/s, "
        f"{copy['cpu_seconds']:.1f} s CPU, peak RSS {copy['peak_rss_mb']:.0f} MB"
    )
    print(
        f"  harvest:                   {harvest['seconds']:.1f} s = {total / 1e6 / harvest['seconds']:.0f} MB/s, "
        f"{harvest['cpu_seconds']:.1f} s CPU, peak RSS {max(h['peak_rss_mb'] for h in harvests):.0f} MB"
    )
    print(
        f"  throughput ratio harvest / copy (best of {args.rounds} each): {copy['seconds'] / harvest['seconds']:.2f}"
    )
    for directory, results in variants.items():
        best = min(results, key=lambda h: h["seconds"])
        print(
            f"  harvest with {directory}: {best['seconds']:.1f} s, {best['cpu_seconds']:.1f} s CPU, "
            f"peak RSS {max(h['peak_rss_mb'] for h in results):.0f} MB, ratio {copy['seconds'] / best['seconds']:.2f}"
        )


if __name__ == "__main__":
    main()
