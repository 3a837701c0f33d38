"""Speech Harvester's triggers. Each is a few lines; the work happens in shared/ (see shared/runtime.py)."""

import azure.functions as func

from shared import runtime
from shared.replies import Reply
from shared.settings import DEFAULT_HARVEST_QUEUE, DEFAULT_POLL_SCHEDULE, setting, settings
from shared.states import JobKind

settings()  # fail fast: an invalid setting stops the app at start-up with a message that names it

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


def _response(reply: Reply) -> func.HttpResponse:
    return func.HttpResponse(
        reply.body, status_code=reply.status, headers=dict(reply.headers), mimetype=reply.content_type
    )


@app.timer_trigger(
    arg_name="timer", schedule=setting("POLL_SCHEDULE", DEFAULT_POLL_SCHEDULE), use_monitor=True
)
def poll(timer: func.TimerRequest) -> None:
    """Find finished transcriptions (list + filter) and enqueue their harvest; then poll conversations."""
    runtime.poll_tick()


@app.queue_trigger(
    arg_name="message",
    queue_name=setting("HARVEST_QUEUE", DEFAULT_HARVEST_QUEUE),
    connection="AzureWebJobsStorage",
)
def harvest(message: func.QueueMessage) -> None:
    """Harvest one transcription or conversation into the destination container."""
    runtime.handle_message(message.get_body(), message.dequeue_count)


@app.route(route="status", methods=["GET"])
def status(req: func.HttpRequest) -> func.HttpResponse:
    """Counts per ledger state and the oldest open job, for ops."""
    report = runtime.status()
    return func.HttpResponse(report.model_dump_json(by_alias=True, indent=2), mimetype="application/json")


@app.route(route="webhooks/speech", methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
def speech_webhook(req: func.HttpRequest) -> func.HttpResponse:
    """Speech web hook events; anonymous for the host, authenticated by their HMAC signature."""
    return _response(runtime.receive_webhook(req.method, req.headers, req.params, req.get_body()))


@app.route(route="transcriptions", methods=["POST"])
def submit_transcription(req: func.HttpRequest) -> func.HttpResponse:
    """Submit a batch transcription and track it."""
    return _response(runtime.submit_transcription(req.get_body()))


@app.route(route="transcriptions/{id}", methods=["GET"])
def transcription_status(req: func.HttpRequest) -> func.HttpResponse:
    """A transcription's ledger state, service status, times and manifest URL."""
    return _response(runtime.job_status(JobKind.TRANSCRIPTION, req.route_params["id"]))


@app.route(route="conversations/{conversationId}", methods=["POST"])
def track_conversation(req: func.HttpRequest) -> func.HttpResponse:
    """Track an asynchronous conversation transcription until it can be harvested."""
    return _response(runtime.track_conversation(req.route_params["conversationId"]))


@app.route(route="conversations/{conversationId}", methods=["GET"])
def conversation_status(req: func.HttpRequest) -> func.HttpResponse:
    """A conversation's ledger state, service status, times and manifest URL."""
    return _response(runtime.job_status(JobKind.CONVERSATION, req.route_params["conversationId"]))
