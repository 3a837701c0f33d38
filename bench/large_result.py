"""A large result file: peak RSS of the harvesting process, and harvest throughput against a plain byte copy.

    python -m bench.large_result [--mb 500] [--formats json,txt,srt,vtt]

The emulator generates one result file of about --mb MB (word-level timestamps on) into Azurite. Then two
child processes, each measured on its own (peak RSS from getrusage):
- copy: stream the file from its contentUrl into a destination blob (the same download and staged-block
  upload the harvester uses, nothing else);
- harvest: the real harvester on the whole job (raw copy, derived transcripts, manifest).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from bench.stack import bench_stack


def _child_copy(env: dict[str, str], url: str) -> dict[str, float]:
    from shared.content import ContentReader
    from shared.destination import Destination
    from shared.settings import load_settings

    destination = Destination.from_settings(load_settings(env))
    began = time.perf_counter()
    with ContentReader().open(url) as chunks:
        written = destination.write("copy/plain.json", chunks, content_type="application/json")
    return {"seconds": time.perf_counter() - began, "bytes": written.size}


def _child_harvest(env: dict[str, str], job_id: str) -> dict[str, float]:
    from shared import runtime
    from shared.queueing import HarvestRequest
    from shared.settings import load_settings

    parts = runtime.build(load_settings(env))
    began = time.perf_counter()
    runtime.harvester(parts).harvest(HarvestRequest(id=job_id))
    seconds = time.perf_counter() - began
    manifest = json.loads(parts.destination.read(f"transcriptions/{job_id}/manifest.json") or b"{}")
    return {"seconds": seconds, "bytes": sum(r["size"] for r in manifest.get("results", []))}


def child(argv: list[str]) -> None:
    mode, env_json, target = argv
    env = json.loads(env_json)
    result = _child_copy(env, target) if mode == "copy" else _child_harvest(env, target)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_child(mode: str, env: dict[str, str], target: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.large_result", "--child", mode, json.dumps(env), target],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        child(argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--formats", default="json,txt,srt,vtt")
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
        print(
            f"  ready in {time.perf_counter() - began:.0f} s: {files[0].name}, {files[0].size / 1e6:.0f} MB",
            flush=True,
        )

        env = stack.env(OUTPUT_FORMATS=args.formats)
        copy = run_child("copy", env, files[0].content_url or "")
        env = stack.env(OUTPUT_FORMATS=args.formats)
        harvest = run_child("harvest", env, job_id)

    size_mb = files[0].size / 1e6
    copy_rate = size_mb / copy["seconds"]
    harvest_rate = size_mb / harvest["seconds"]
    print(f"large result, {size_mb:.0f} MB, formats {args.formats}")
    print(
        f"  plain byte copy: {copy['seconds']:.1f} s = {copy_rate:.0f} MB/s, peak RSS {copy['peak_rss_mb']:.0f} MB"
    )
    print(
        f"  harvest:         {harvest['seconds']:.1f} s = {harvest_rate:.0f} MB/s, peak RSS {harvest['peak_rss_mb']:.0f} MB"
    )
    print(f"  throughput ratio harvest / copy: {harvest_rate / copy_rate:.2f}")


if __name__ == "__main__":
    main()
