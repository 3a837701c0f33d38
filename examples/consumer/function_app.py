"""Transcript index: a consumer of Speech Harvester's output, deployable on its own.

Two ways in, one logic (transcript_index/): a blob trigger on each new manifest.json, through Event Grid
(the only blob trigger source on Flex Consumption), and a queue trigger on the harvester's transcript-ready
events (NOTIFY_QUEUE). Deploy either or both; indexing is idempotent, so both at once is harmless.
"""

import json
import os
from functools import cache

import azure.functions as func
from transcript_index.index import Indexer
from transcript_index.storage import ContainerBlobs, TableRows, container_client, table_client

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@cache
def rows() -> TableRows:
    return TableRows(table_client("AzureWebJobsStorage", os.environ.get("INDEX_TABLE", "transcriptindex")))


@cache
def indexer() -> Indexer:
    container = container_client("TranscriptsStorage", os.environ["TRANSCRIPTS_CONTAINER"])
    return Indexer(ContainerBlobs(container), rows())


@app.blob_trigger(
    arg_name="manifest",
    path="%TRANSCRIPTS_CONTAINER%/%TRANSCRIPTS_PREFIX%transcriptions/{id}/manifest.json",
    connection="TranscriptsStorage",
    source=func.BlobSource.EVENT_GRID,
)
def on_manifest(manifest: func.InputStream) -> None:
    """A new transcription manifest (Event Grid BlobCreated): index the job."""
    path = (manifest.name or "").split("/", 1)[1]
    indexer().index_manifest(manifest.read(), path, via="blob")


@app.queue_trigger(arg_name="message", queue_name="%NOTIFY_QUEUE%", connection="NotifyStorage")
def on_transcript_event(message: func.QueueMessage) -> None:
    """A transcript-ready event from the harvester's NOTIFY_QUEUE: index the job (duplicates are dropped)."""
    indexer().index_event(message.get_body())


@app.route(route="transcripts", methods=["GET"])
def search(req: func.HttpRequest) -> func.HttpResponse:
    """`GET /api/transcripts?q=<text>`: indexed jobs whose name, speakers or first words contain the text."""
    found = rows().search(req.params.get("q", ""))
    return func.HttpResponse(json.dumps(found, default=str, indent=2), mimetype="application/json")
