"""Operations commands: `python -m shared.cli ...`.

    webhook register --url URL [--name NAME]   create or update the Speech web hook for this app
    webhook list                               the Speech resource's web hooks (never their secrets)
    webhook delete --id ID                     remove one
    poison replay [--max N]                    move harvest requests from <HARVEST_QUEUE>-poison back

Settings come from the environment, as in the app; `--settings local.settings.json` adds that file's
`Values`, under whatever the environment already sets (the Functions host's rule). Output is JSON on stdout;
problems go to stderr with exit code 1 (2 for bad arguments or settings).
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

from azure.storage.queue import QueueClient

from shared.ledger import Ledger
from shared.queueing import BadMessageError, HarvestQueue, RequestReason, poisoned_request
from shared.records import decide_and_save
from shared.runtime import speech_client
from shared.settings import Settings, SettingsError, load_settings
from shared.speech import SpeechClient, SpeechError, WebHook, WebHookDefinition, WebHookEvents, WebHookUpdate
from shared.speech.webhooks import WebHookSecret
from shared.states import replayed

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
    connection_string: str, queue_name: str, ledger: Ledger, *, limit: int, now: datetime
) -> ReplayReport:
    """Move up to `limit` poison messages back to the harvest queue as replay requests.

    Each request is sent before its poison copy is deleted (a crash in between means a duplicate, which the
    harvest absorbs). A message without a usable request stays on the poison queue, with its reason in the
    report; a Poisoned job goes back to Queued in the ledger, so the status endpoint shows it in flight.
    """
    report = ReplayReport()
    poison = QueueClient.from_connection_string(connection_string, f"{queue_name}-poison")
    queue = HarvestQueue(connection_string, queue_name)
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
    return top


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _print(value: Any, out: TextIO) -> None:
    out.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def run(args: argparse.Namespace, config: Settings, out: TextIO, err: TextIO) -> int:
    if args.group == "poison":
        storage = config.storage_connection.get_secret_value()
        ledger = Ledger.from_connection_string(storage, config.ledger_table)
        report = replay_poison(storage, config.harvest_queue, ledger, limit=args.limit, now=datetime.now(UTC))
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
        return 2
    try:
        return run(args, config, out, err)
    except SpeechError as error:
        err.write(f"error: the Speech service refused: {error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
