"""Speech Harvester's triggers. Each is a few lines; the work happens in shared/ (see shared/runtime.py)."""

import azure.functions as func

from shared import runtime
from shared.settings import DEFAULT_HARVEST_QUEUE, DEFAULT_POLL_SCHEDULE, setting, settings

settings()  # fail fast: an invalid setting stops the app at start-up with a message that names it

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.timer_trigger(arg_name="timer", schedule=setting("POLL_SCHEDULE", DEFAULT_POLL_SCHEDULE), use_monitor=True)
def poll(timer: func.TimerRequest) -> None:
    """Find finished transcriptions (list + filter) and enqueue their harvest."""
    runtime.poller().tick()


@app.queue_trigger(
    arg_name="message", queue_name=setting("HARVEST_QUEUE", DEFAULT_HARVEST_QUEUE), connection="AzureWebJobsStorage"
)
def harvest(message: func.QueueMessage) -> None:
    """Harvest one transcription into the destination container."""
    runtime.handle_message(message.get_body(), message.dequeue_count)


@app.route(route="status", methods=["GET"])
def status(req: func.HttpRequest) -> func.HttpResponse:
    """Counts per ledger state and the oldest open job, for ops."""
    report = runtime.status()
    return func.HttpResponse(report.model_dump_json(by_alias=True, indent=2), mimetype="application/json")
