"""A job of many small result files: the harvest (files in parallel) next to parallel copies of the same bytes.

    python -m bench.many_files [--files 1000] [--concurrency 8] [--more 16] [--serial]

The emulator holds finished jobs of --files inputs (small results, listed once before timing so they exist in
Azurite). Side by side in one run, on the same stack, --concurrency files at a time:
- raw copy:  each result file's bytes from its contentUrl into a destination blob (the harvest's download and
             conditional upload, nothing else): 1 GET and 1 PUT a file;
- all copy:  the same, plus the file's derived transcripts (rendered beforehand by the app's Deriver, not timed)
             as blobs of their own: every byte the harvest writes, 1 GET and 5 PUTs a file;
- harvest:   the real harvester on a whole job with HARVEST_FILE_CONCURRENCY=--concurrency (raw copies, the
             four derived formats, manifest, ledger);
- designs:   the harvest again with HARVEST_FILE_CONCURRENCY=--more, and with the SDK's own HTTP session (the
             environment read on every request, a pool of 10) instead of the app's pooled one.
Each line also shows the CPU seconds of this process (the harvester or the copy) and of Azurite in that phase.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from azure.storage.blob import ContainerClient

from bench.stack import BenchStack, bench_stack
from shared import runtime
from shared.content import ContentReader
from shared.destination import Destination
from shared.queueing import HarvestRequest
from shared.runtime import Components
from shared.transcripts.derive import Deriver

Transcripts = list[tuple[str, str, bytes]]  # extension, content type, bytes


@dataclass(frozen=True)
class Phase:
    seconds: float
    cpu: float  # this process
    azurite_cpu: float


def measured(stack: BenchStack, run: Callable[[], None]) -> Phase:
    cpu, azurite, began = time.process_time(), stack.azurite.cpu_seconds(), time.perf_counter()
    run()
    return Phase(
        time.perf_counter() - began, time.process_time() - cpu, stack.azurite.cpu_seconds() - azurite
    )


def transcripts(parts: Components, urls: list[str]) -> list[Transcripts]:
    """Each file's derived transcripts, as the harvest renders them (before timing)."""
    settings = parts.settings

    def one(url: str) -> Transcripts:
        with Deriver(formats=settings.output_formats, channel_labels=settings.channel_labels) as deriver:
            with parts.content.open(url) as chunks:
                for chunk in chunks:
                    deriver.feed(chunk)
            return [(o.extension, o.content_type, b"".join(o.chunks())) for o in deriver.finish().outputs]

    return [one(url) for url in urls]


def copy(parts: Components, urls: list[str], concurrency: int, derived: list[Transcripts] | None) -> None:
    """Each file's raw bytes, and with `derived` its transcripts after them, `concurrency` files at a time."""

    def one(index: int) -> None:
        with parts.content.open(urls[index]) as chunks:
            parts.destination.write(f"copy/{index}.json", chunks, content_type="application/json")
        for extension, content_type, data in derived[index] if derived else []:
            parts.destination.write_bytes(f"copy/{index}.{extension}", data, content_type=content_type)

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(len(urls))))


def fresh_job(stack: BenchStack, files: int) -> tuple[str, list[str]]:
    """A finished job of `files` inputs and its result files' contentUrls (listing it writes them to Azurite)."""
    [job_id] = stack.emulator.admin.seed(1, status="Succeeded", inputs=files)
    listed = stack.parts().speech.list_files(job_id)
    return job_id, [f.content_url or "" for f in listed if f.kind == "Transcription"]


def sdk_session(stack: BenchStack, parts: Components) -> Components:
    """The parts as they were before the pooled session: the SDK's and requests' own sessions."""
    container = ContainerClient.from_connection_string(
        stack.azurite.connection_string, parts.destination.container.container_name
    )
    return dataclasses.replace(parts, destination=Destination(container), content=ContentReader())


def copying(files: int, concurrency: int, *, everything: bool) -> Phase:
    with bench_stack(throttle_limit=1_000_000) as stack:
        _, urls = fresh_job(stack, files)
        parts = stack.parts()
        derived = transcripts(parts, urls) if everything else None
        return measured(stack, lambda: copy(parts, urls, concurrency, derived))


def harvesting(
    files: int, concurrency: int, adapt: Callable[[BenchStack, Components], Components] | None = None
) -> Phase:
    with bench_stack(throttle_limit=1_000_000) as stack:
        job_id, _ = fresh_job(stack, files)
        parts = stack.parts(HARVEST_FILE_CONCURRENCY=str(concurrency), HARVEST_TIME_BUDGET_SECONDS="3600")
        harvester = runtime.harvester(adapt(stack, parts) if adapt is not None else parts)
        outcomes = []
        phase = measured(stack, lambda: outcomes.append(harvester.harvest(HarvestRequest(id=job_id))))
    if outcomes[0].value != "harvested":
        raise SystemExit(f"the harvest ended {outcomes[0].value}")
    return phase


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--more", type=int, default=16, help="the harvest again with this concurrency")
    parser.add_argument("--serial", action="store_true", help="also harvest one file at a time")
    args = parser.parse_args(argv)
    files, conc = args.files, args.concurrency
    rows: list[tuple[str, Phase]] = [
        ("raw copy (1 GET + 1 PUT a file)", copying(files, conc, everything=False)),
        ("copy of all the harvest writes (1 GET + 5 PUTs)", copying(files, conc, everything=True)),
        (f"harvest, HARVEST_FILE_CONCURRENCY={conc}", harvesting(files, conc)),
        (f"harvest, HARVEST_FILE_CONCURRENCY={args.more}", harvesting(files, args.more)),
        (f"harvest, ={conc}, the SDK's own HTTP session", harvesting(files, conc, sdk_session)),
    ]
    if args.serial:
        rows.append(("harvest, HARVEST_FILE_CONCURRENCY=1 (serial)", harvesting(files, 1)))
    raw, everything = rows[0][1].seconds, rows[1][1].seconds
    print(f"many files: one job of {files} result files, {conc} at a time, each on a fresh local stack")
    for index, (label, phase) in enumerate(rows):
        ratio = (
            f" = {phase.seconds / raw:4.2f}x raw, {phase.seconds / everything:4.2f}x all" if index > 1 else ""
        )
        print(
            f"  {label:<50} {phase.seconds:6.1f} s{ratio}"
            f"  (CPU: harvester {phase.cpu:5.1f} s, Azurite {phase.azurite_cpu:5.1f} s)"
        )
    print("  target: the harvest within 1.5x the raw copy")


if __name__ == "__main__":
    main()
