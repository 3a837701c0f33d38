"""Queue trigger test app: each message is a JSON command saying how the invocation behaves."""

import json
import threading
import time

import azure.functions as func

from tests.host.apps.outbox import record

app = func.FunctionApp()

# Two invocations pass this only if they run at the same time; otherwise the wait times out and fails.
_pair = threading.Barrier(2, timeout=10)


@app.queue_trigger(arg_name="msg", queue_name="%WORK_QUEUE%", connection="AzureWebJobsStorage")
def work(msg: func.QueueMessage) -> None:
    command = json.loads(msg.get_body())
    seen = {"id": msg.id, "dequeue_count": msg.dequeue_count, "command": command}
    record("started", **seen)
    action = command["action"]
    if action == "fail" or (action == "fail-once" and msg.dequeue_count == 1):
        raise RuntimeError("failing on purpose")
    if action == "pair":
        _pair.wait()
    if action == "slow":
        time.sleep(command["seconds"])  # the workload itself, not synchronisation
    record("succeeded", **seen)
