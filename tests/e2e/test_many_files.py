"""Many files of one job harvested at once: every request in flight keeps its connection."""

import logging

import pytest

from shared import runtime
from shared.harvest import Outcome
from shared.queueing import HarvestRequest

pytestmark = pytest.mark.e2e


def test_files_in_flight_reuse_their_connections(make_stack, caplog):
    stack = make_stack(HARVEST_FILE_CONCURRENCY="16", OUTPUT_FORMATS="json,txt")
    job = stack.submit([f"call-{i}.wav" for i in range(48)])
    stack.finished(job)
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    assert runtime.harvester(stack.parts).harvest(HarvestRequest(id=job)) == Outcome.HARVESTED
    messages = [record.getMessage() for record in caplog.records if record.name == "urllib3.connectionpool"]
    assert not [m for m in messages if "Connection pool is full" in m]
    opened = [m for m in messages if "Starting new HTTP" in m]
    # One connection per file in flight to each endpoint (results, destination), and a few for the job.
    assert len(opened) <= 2 * 16 + 4, opened
    assert len(stack.manifest(job)["results"]) == 49  # 48 results and the report
