"""Shared by the test apps: record an event as one JSON file in $HOST_TEST_OUTBOX (atomic rename).

One file per event means concurrent invocations never interleave writes and a reader never sees half a file.
"""

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any


def record(kind: str, **fields: Any) -> None:
    outbox = Path(os.environ["HOST_TEST_OUTBOX"])
    name = f"{time.time_ns()}-{uuid.uuid4().hex}"
    partial = outbox / f"{name}.tmp"
    partial.write_text(json.dumps({"kind": kind, "at": time.time(), **fields}), encoding="utf-8")
    partial.replace(outbox / f"{name}.json")
