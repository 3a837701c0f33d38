"""Blob trigger (Event Grid source) test app: records each invocation; a blob whose content is `fail-once`
fails its first invocation."""

import azure.functions as func

from tests.host.apps.outbox import record

app = func.FunctionApp()
_failed: set[str] = set()


@app.blob_trigger(
    arg_name="blob",
    path="%WATCHED_CONTAINER%/jobs/{id}/manifest.json",
    connection="WatchedStorage",
    source=func.BlobSource.EVENT_GRID,
)
def on_manifest(blob: func.InputStream) -> None:
    content = blob.read().decode()
    record("blob", name=blob.name, uri=blob.uri, length=blob.length, content=content)
    if content == "fail-once" and blob.name not in _failed:
        _failed.add(blob.name)
        raise RuntimeError("failing on purpose")
