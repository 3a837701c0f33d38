"""The app's Speech calls lease from one budget row shared by every instance (SPEECH_RATE_SCOPE=app)."""

import time

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient

from shared.rate_budget import PARTITION, budget_key, parse_grants
from shared.runtime import RATE_BUDGET_TABLE
from shared.speech.ratelimit import credential_fingerprint
from tests.fixtures.emulator import EMULATOR_KEY

pytestmark = pytest.mark.e2e


def _new_grants(azurite, emulator, since):
    table = TableClient.from_connection_string(azurite.connection_string, RATE_BUDGET_TABLE)
    key = budget_key(emulator.endpoint, credential_fingerprint(EMULATOR_KEY))
    try:
        row = table.get_entity(PARTITION, key)
    except ResourceNotFoundError:
        return 0
    return sum(grant.count for grant in parse_grants(row["grants"]) if grant.at >= since)


def test_two_instances_lease_from_one_row(make_stack, azurite, fresh_emulator):
    first, second = make_stack(), make_stack()  # two instances of the app, each with its own client
    began = time.time()
    for stack in (first, second, first, second):
        list(stack.speech.list_transcriptions(top=1).by_page())
    assert _new_grants(azurite, fresh_emulator, began) == 4


def test_instance_scope_keeps_its_own_window(make_stack, azurite, fresh_emulator):
    stack = make_stack(SPEECH_RATE_SCOPE="instance")
    began = time.time()
    list(stack.speech.list_transcriptions(top=1).by_page())
    assert fresh_emulator.admin.stats().total == 1
    assert _new_grants(azurite, fresh_emulator, began) == 0
