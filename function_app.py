"""Speech Harvester's triggers. Each is a few lines; the work happens in shared/ (see shared/runtime.py).

Indexing imports this module on every cold start, so it imports only azure.functions and the settings: each
trigger imports shared.runtime (the Speech client, storage SDKs, pydantic models) when it first runs, and the
host's start-up does not pay for what a trigger needs later (see bench/cold_start.py); a background thread
imports it shortly after indexing, so the first invocation usually finds it loaded.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

import azure.functions as func

from shared.settings import DEFAULT_HARVEST_QUEUE, DEFAULT_POLL_SCHEDULE, setting, settings

if TYPE_CHECKING:
    from shared.replies import Reply

WARM_UP_AFTER_SECONDS = 0.5

settings()  # fail fast: an invalid setting stops the app at start-up with a message that names it

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

# Indexing does not wait for what the triggers need, but the first invocation should not either: once the host
# has had a moment to finish starting, a background thread imports it (a web hook's challenge has a deadline).
_warm_up = threading.Timer(WARM_UP_AFTER_SECONDS, importlib.import_module, args=("shared.runtime",))
_warm_up.daemon = True
_warm_up.start()


def _response(reply: Reply) -> func.HttpResponse:
    return func.HttpResponse(
        reply.body, status_code=reply.status, headers=dict(reply.headers), mimetype=reply.content_type
    )


@app.timer_trigger(
    arg_name="timer", schedule=setting("POLL_SCHEDULE", DEFAULT_POLL_SCHEDULE), use_monitor=True
)
def poll(timer: func.TimerRequest) -> None:
    """Find finished transcriptions (list + filter) and enqueue their harvest; then poll conversations."""
    from shared import runtime

    runtime.poll_tick()


@app.queue_trigger(
    arg_name="message",
    queue_name=setting("HARVEST_QUEUE", DEFAULT_HARVEST_QUEUE),
    connection="AzureWebJobsStorage",
)
def harvest(message: func.QueueMessage) -> None:
    """Harvest one transcription or conversation into the destination container."""
    from shared import runtime

    runtime.handle_message(message.get_body(), message.dequeue_count)


@app.route(route="status", methods=["GET"])
def status(req: func.HttpRequest) -> func.HttpResponse:
    """Counts per ledger state and the oldest open job, for ops."""
    from shared import runtime

    report = runtime.status()
    return func.HttpResponse(report.model_dump_json(by_alias=True, indent=2), mimetype="application/json")


@app.route(route="webhooks/speech", methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
def speech_webhook(req: func.HttpRequest) -> func.HttpResponse:
    """Speech web hook events; anonymous for the host, authenticated by their HMAC signature."""
    from shared import runtime

    return _response(runtime.receive_webhook(req.method, req.headers, req.params, req.get_body()))


@app.route(route="transcriptions", methods=["POST"])
def submit_transcription(req: func.HttpRequest) -> func.HttpResponse:
    """Submit a batch transcription and track it."""
    from shared import runtime

    return _response(runtime.submit_transcription(req.get_body()))


@app.route(route="transcriptions/{id}", methods=["GET"])
def transcription_status(req: func.HttpRequest) -> func.HttpResponse:
    """A transcription's ledger state, service status, times and manifest URL."""
    from shared import runtime

    return _response(runtime.job_status(runtime.JobKind.TRANSCRIPTION, req.route_params["id"]))


@app.route(route="conversations/{conversationId}", methods=["POST"])
def track_conversation(req: func.HttpRequest) -> func.HttpResponse:
    """Track an asynchronous conversation transcription until it can be harvested."""
    from shared import runtime

    return _response(runtime.track_conversation(req.route_params["conversationId"]))


@app.route(route="conversations/{conversationId}", methods=["GET"])
def conversation_status(req: func.HttpRequest) -> func.HttpResponse:
    """A conversation's ledger state, service status, times and manifest URL."""
    from shared import runtime

    return _response(runtime.job_status(runtime.JobKind.CONVERSATION, req.route_params["conversationId"]))
