"""Operations commands: `python -m shared.cli ...`.

    webhook register --url URL [--name NAME]   create or update the Speech web hook for this app
    webhook list                               the Speech resource's web hooks (never their secrets)
    webhook delete --id ID                     remove one
    poison replay [--max N]                    move harvest requests from <HARVEST_QUEUE>-poison back
    status [--json]                            counts per ledger state, oldest open job, poller, poison queue
    jobs --state STATE [--kind K] [--limit N] [--json]   jobs in a state, oldest first, with reasons and ages
    reharvest ID... [--kind K] [--json]        harvest again, keeping every blob that exists byte-exact
    backfill --since TIME [--json]             record and enqueue finished jobs created since TIME

Settings come from the environment, as in the app; `--settings local.settings.json` adds that file's
`Values`, under whatever the environment already sets (the Functions host's rule). Webhook and poison output
is JSON on stdout; the other commands print tables or lines, JSON with `--json`; progress goes to stderr.
Exit codes: 0 done, 1 a service (Speech or storage) refused, 2 bad arguments or settings, 3 some of the
given jobs could not be harvested again (listed in the output).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from azure.core.exceptions import AzureError

from shared import ops, runtime, telemetry
from shared.connections import StorageConnection
from shared.ledger import Ledger
from shared.ops import Progress
from shared.queueing import BadMessageError, HarvestQueue, RequestReason, poisoned_request
from shared.records import decide_and_save
from shared.redact import redact_text
from shared.runtime import speech_client
from shared.settings import Settings, SettingsError, load_settings
from shared.speech import SpeechClient, SpeechError, WebHook, WebHookDefinition, WebHookEvents, WebHookUpdate
from shared.speech.webhooks import WebHookSecret
from shared.states import JobKind, LedgerState, replayed
from shared.status import StatusReport, status_report
from shared.telemetry import Trigger

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_PARTLY = 3
DEFAULT_HOOK_NAME = "speech-harvester"
REPLAY_INVISIBLE_SECONDS = 300  # messages kept on the poison queue stay hidden while one run works
TRANSCRIPTION_EVENTS = WebHookEvents(
    transcription_creation=True,
    transcription_processing=True,
    transcription_completion=True,
    transcription_deletion=True,
)


def environment(settings_file: Path | None, environ: Mapping[str, str]) -> dict[str, str]:
    """The settings the command runs with: the file's Values, overridden by non-empty environment values."""
    values: dict[str, str] = {}
    if settings_file is not None:
        document = json.loads(settings_file.read_text(encoding="utf-8"))
        raw = document.get("Values") if isinstance(document, dict) else None
        if not isinstance(raw, dict):
            raise SettingsError(f"{settings_file}: expected an object with a 'Values' object")
        values = {str(k): "" if v is None else str(v) for k, v in raw.items()}
    values.update({k: v for k, v in environ.items() if v != ""})
    return values


# --- web hooks ---------------------------------------------------------------------------------------------


def find_hook(hooks: Iterable[WebHook], url: str, name: str) -> WebHook | None:
    """The hook to update: the one already calling `url`, else the one named `name`."""
    candidates = list(hooks)
    return next((h for h in candidates if h.web_url == url), None) or next(
        (h for h in candidates if h.display_name == name), None
    )


def hook_summary(hook: WebHook) -> dict[str, Any]:
    """What is safe to print about a hook: everything but its secret."""
    events = hook.events.to_body() if hook.events is not None else {}
    return {
        "id": hook.id,
        "displayName": hook.display_name,
        "webUrl": hook.web_url,
        "status": str(hook.status) if hook.status is not None else None,
        "apiVersion": hook.properties.api_version if hook.properties else None,
        "events": sorted(name for name, on in events.items() if on),
    }


def register_webhook(speech: SpeechClient, url: str, name: str, secret: str | None) -> tuple[str, WebHook]:
    """Create the hook, or update the one that matches by URL or name; ("created" | "updated", hook)."""
    properties = WebHookSecret(secret=secret) if secret else None
    existing = find_hook(speech.list_webhooks(), url, name)
    if existing is None:
        definition = WebHookDefinition(
            display_name=name, web_url=url, events=TRANSCRIPTION_EVENTS, properties=properties
        )
        return "created", speech.create_webhook(definition)
    update = WebHookUpdate(web_url=url, display_name=name, events=TRANSCRIPTION_EVENTS, properties=properties)
    return "updated", speech.update_webhook(existing.id, update)


# --- poison replay -----------------------------------------------------------------------------------------


@dataclass
class ReplayReport:
    replayed: list[str] = field(default_factory=list)
    kept: list[dict[str, str]] = field(default_factory=list)


def replay_poison(
    connection: StorageConnection, queue_name: str, ledger: Ledger, *, limit: int, now: datetime
) -> ReplayReport:
    """Move up to `limit` poison messages back to the harvest queue as replay requests.

    Each request is sent before its poison copy is deleted (a crash in between means a duplicate, which the
    harvest absorbs). A message without a usable request stays on the poison queue, with its reason in the
    report; a Poisoned job goes back to Queued in the ledger, so the status endpoint shows it in flight.
    """
    report = ReplayReport()
    poison = connection.queue(f"{queue_name}-poison")
    queue = HarvestQueue(connection, queue_name)
    kept = []
    received = poison.receive_messages(
        messages_per_page=min(32, limit), visibility_timeout=REPLAY_INVISIBLE_SECONDS, max_messages=limit
    )
    for message in received:
        try:
            request = poisoned_request(str(message.content))
        except BadMessageError as error:
            kept.append(message)
            report.kept.append({"messageId": message.id, "reason": str(error)})
            continue
        queue.send(request.model_copy(update={"reason": RequestReason.REPLAY, "requested_at": now}))

        decide_and_save(
            ledger, request.kind, request.id, lambda record: replayed(record, now), now, reason="replay"
        )
        poison.delete_message(message)
        report.replayed.append(request.id)
    for message in kept:
        poison.update_message(message, visibility_timeout=0)
    return report


# --- tables ----------------------------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    """`3d 4h`, `2h 5m`, `12m 5s`, `7s`: the two largest units, for tables."""
    if seconds is None:
        return "-"
    left = int(max(0.0, seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size or (unit == "s" and not parts):
            parts.append(f"{left // size}{unit}")
            left %= size
    return " ".join(parts[:2])


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = [list(header), *(list(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def status_text(report: StatusReport, poison_length: int) -> str:
    states = [state.value for state in LedgerState]
    rows = [
        [kind, *(str(counts.get(state, 0)) for state in states)]
        for kind, counts in sorted(report.counts.items())
    ]
    lines = [table(["kind", *states], rows) if rows else "no jobs in the ledger", ""]
    oldest = report.oldest_open
    if oldest is None:
        lines.append("oldest open job: none")
    else:
        lines.append(
            f"oldest open job: {oldest.kind} {oldest.id} {oldest.state} (service: {oldest.service_status}), "
            f"open for {duration(oldest.age_seconds)}"
        )
    poller = report.poller
    watermark = poller.watermark.isoformat() if poller.watermark else "none yet"
    lines.append(
        f"poller: watermark {watermark}, reconcile {'in progress' if poller.reconcile_in_progress else 'idle'}, "
        f"{poller.known_total} jobs in the service at the last full list"
    )
    lines.append(f"poison queue: {poison_length} message(s)")
    return "\n".join(lines)


def jobs_text(lines: list[ops.JobLine]) -> str:
    if not lines:
        return "no jobs"
    rows = [
        [line.kind, line.id, line.state, line.service_status, duration(line.age_seconds),
         duration(line.in_state_seconds), line.detail or ""]
        for line in lines
    ]  # fmt: skip
    return table(["kind", "id", "state", "service", "age", "in state", "detail"], rows)


# --- command line ------------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m shared.cli", description="Speech Harvester operations")
    top.add_argument("--settings", type=Path, help="a local.settings.json whose Values to use")
    groups = top.add_subparsers(dest="group", required=True)

    webhook = groups.add_parser("webhook", help="the Speech web hook that notifies this app")
    hooks = webhook.add_subparsers(dest="command", required=True)
    register = hooks.add_parser("register", help="create or update the hook (matched by URL or name)")
    register.add_argument("--url", required=True, help="https://<app>.azurewebsites.net/api/webhooks/speech")
    register.add_argument(
        "--name", default=DEFAULT_HOOK_NAME, help=f"display name (default {DEFAULT_HOOK_NAME})"
    )
    hooks.add_parser("list", help="list the resource's web hooks")
    delete = hooks.add_parser("delete", help="delete a web hook")
    delete.add_argument("--id", required=True, dest="hook_id")

    poison = groups.add_parser("poison", help="the harvest poison queue")
    poison_commands = poison.add_subparsers(dest="command", required=True)
    replay = poison_commands.add_parser("replay", help="move poisoned harvest requests back to the queue")
    replay.add_argument("--max", type=_positive, default=1000, dest="limit", help="at most N (default 1000)")

    kinds = [kind.value for kind in JobKind]
    status = groups.add_parser(
        "status", help="counts per ledger state, the oldest open job, the poison queue"
    )
    status.add_argument("--json", action="store_true", help="JSON instead of a table")
    jobs = groups.add_parser("jobs", help="jobs in one ledger state, oldest first, with reasons and ages")
    jobs.add_argument("--state", required=True, choices=[state.value for state in LedgerState])
    jobs.add_argument("--kind", choices=kinds, help="one kind only (default: both)")
    jobs.add_argument("--limit", type=_positive, default=100, help="at most N (default 100)")
    jobs.add_argument("--json", action="store_true", help="JSON instead of a table")
    again = groups.add_parser("reharvest", help="harvest jobs again (e.g. after adding an output format)")
    again.add_argument("ids", nargs="+", metavar="ID")
    again.add_argument("--kind", choices=kinds, default=JobKind.TRANSCRIPTION.value)
    again.add_argument("--json", action="store_true", help="JSON instead of lines")
    backfill = groups.add_parser("backfill", help="record and enqueue finished jobs created since a time")
    backfill.add_argument("--since", required=True, type=_time, help="ISO time, e.g. 2026-11-01T00:00:00Z")
    backfill.add_argument("--json", action="store_true", help="JSON instead of a line")
    return top


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _print(value: Any, out: TextIO) -> None:
    out.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _status(parts: runtime.Components, args: argparse.Namespace, out: TextIO, _: Progress) -> int:
    report = status_report(parts.ledger, datetime.now(UTC))
    poison_length = parts.queue.poison_length()
    if args.json:
        _print({**report.model_dump(mode="json", by_alias=True), "poisonQueueLength": poison_length}, out)
    else:
        out.write(status_text(report, poison_length) + "\n")
    return 0


def _jobs(parts: runtime.Components, args: argparse.Namespace, out: TextIO, _: Progress) -> int:
    kinds = [JobKind(args.kind)] if args.kind else list(JobKind)
    records = [r for kind in kinds for r in parts.ledger.query(kind, [LedgerState(args.state)])]
    lines = ops.jobs_in(records, datetime.now(UTC), limit=args.limit)
    if args.json:
        _print([line.model_dump(mode="json", by_alias=True) for line in lines], out)
    else:
        out.write(jobs_text(lines) + "\n")
    return 0


def _reharvest(parts: runtime.Components, args: argparse.Namespace, out: TextIO, progress: Progress) -> int:
    ids = list(dict.fromkeys(args.ids))
    report = ops.reharvest(parts, JobKind(args.kind), ids, datetime.now(UTC), progress)
    if args.json:
        _print({"done": report.done, "refused": report.refused}, out)
    else:
        for job_id, outcome in report.done.items():
            out.write(f"{job_id}: {outcome}\n")
        for job_id, reason in report.refused.items():
            out.write(f"{job_id}: not harvested again: {reason}\n")
    return EXIT_PARTLY if report.refused else 0


def _backfill(parts: runtime.Components, args: argparse.Namespace, out: TextIO, progress: Progress) -> int:
    report = ops.backfill(parts, args.since, datetime.now(UTC), progress)
    if args.json:
        _print({"listed": report.listed, "finished": report.finished, "enqueued": report.enqueued}, out)
    else:
        out.write(
            f"{report.listed} listed, {report.finished} finished, {len(report.enqueued)} newly enqueued\n"
        )
    return 0


OPS_COMMANDS = {"status": _status, "jobs": _jobs, "reharvest": _reharvest, "backfill": _backfill}


def run(args: argparse.Namespace, config: Settings, out: TextIO, err: TextIO) -> int:
    if args.group in OPS_COMMANDS:

        def progress(line: str) -> None:
            err.write(line + "\n")
            err.flush()

        return OPS_COMMANDS[args.group](runtime.build(config), args, out, progress)
    if args.group == "poison":
        ledger = Ledger.open(config.storage, config.ledger_table)
        with telemetry.triggered_by(Trigger.REPLAY):
            report = replay_poison(
                config.storage, config.harvest_queue, ledger, limit=args.limit, now=datetime.now(UTC)
            )
        _print({"replayed": len(report.replayed), "ids": report.replayed, "kept": report.kept}, out)
        return 0
    with speech_client(config) as speech:
        if args.command == "register":
            secret = config.webhook_secret.get_secret_value() if config.webhook_secret else None
            if not secret:
                err.write("warning: WEBHOOK_SECRET is not set; the receiver will accept unsigned events\n")
            action, hook = register_webhook(speech, args.url, args.name, secret)
            _print({"action": action, **hook_summary(hook)}, out)
        elif args.command == "list":
            _print([hook_summary(hook) for hook in speech.list_webhooks()], out)
        else:
            speech.delete_webhook(args.hook_id)
            _print({"deleted": args.hook_id}, out)
    return 0


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    args = parser().parse_args(argv)
    try:
        config = load_settings(environment(args.settings, os.environ if environ is None else environ))
    except (SettingsError, OSError, ValueError) as error:
        err.write(f"error: {error}\n")
        return EXIT_USAGE
    try:
        return run(args, config, out, err)
    except SpeechError as error:
        err.write(f"error: the Speech service refused: {error}\n")
        return EXIT_REFUSED
    except AzureError as error:
        err.write(f"error: storage refused: {type(error).__name__}: {redact_text(str(error))}\n")
        return EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
