"""An async queue function that never finishes on its own, to exercise functionTimeout."""

import asyncio

import azure.functions as func

from tests.host.apps.outbox import record

app = func.FunctionApp()


@app.queue_trigger(arg_name="msg", queue_name="%WORK_QUEUE%", connection="AzureWebJobsStorage")
async def hang(msg: func.QueueMessage) -> None:
    record("started", id=msg.id)
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        record("cancelled", id=msg.id)
        raise
