"""Queue trigger semantics against real Azurite, with the host running in-process (tests/host/apps/queue_app:
maxDequeueCount 3, visibilityTimeout 1 s, batchSize 2, newBatchThreshold 0)."""

from local.host.queues import decode_body
from tests.fixtures.waiting import wait_for


def test_success_deletes_the_message(in_process_host, queues, outbox):
    with in_process_host("queue_app"):
        queues.send({"action": "ok"})
        wait_for(lambda: outbox.events("succeeded"), what="the invocation")
        wait_for(lambda: queues.remaining() == 0, what="the message to be deleted")
    [started] = outbox.events("started")
    assert started["dequeue_count"] == 1
    assert queues.poisoned() == []


def test_failure_is_retried_after_visibility_timeout(in_process_host, queues, outbox):
    with in_process_host("queue_app"):
        queues.send({"action": "fail-once"})
        wait_for(lambda: outbox.events("succeeded"), what="the retry to succeed")
        wait_for(lambda: queues.remaining() == 0, what="the message to be deleted")
    first, second = outbox.events("started")
    assert (first["dequeue_count"], second["dequeue_count"]) == (1, 2)
    assert first["id"] == second["id"]
    assert second["at"] - first["at"] >= 0.9  # invisible for visibilityTimeout (1 s) after the failure


def test_failing_message_moves_to_poison_at_max_dequeue_count(in_process_host, queues, outbox):
    with in_process_host("queue_app"):
        stored = queues.send({"action": "fail"})
        poisoned = wait_for(queues.poisoned, what="the poison message")
        wait_for(lambda: queues.remaining() == 0, what="the original to be deleted")
    assert poisoned == [stored]  # same text, so the same base64 the host writes
    assert [event["dequeue_count"] for event in outbox.events("started")] == [1, 2, 3]
    assert outbox.events("succeeded") == []


def test_invalid_base64_goes_to_poison_unchanged_without_invoking(in_process_host, queues, outbox):
    body = "this is not base64 ✓"
    assert decode_body(body, "base64") is None
    with in_process_host("queue_app"):
        queues.raw.send_message(body)
        poisoned = wait_for(queues.poisoned, what="the poison message")
        wait_for(lambda: queues.remaining() == 0, what="the original to be deleted")
    assert poisoned == [body]
    assert outbox.events() == []


def test_message_already_over_the_limit_goes_to_poison_without_invoking(in_process_host, queues, outbox):
    stored = queues.send({"action": "ok"})
    for _ in range(3):  # dequeue it maxDequeueCount times; the host's receive makes it the 4th
        [message] = queues.raw.receive_messages(max_messages=1, visibility_timeout=30)
        queues.raw.update_message(message, pop_receipt=message.pop_receipt, visibility_timeout=0)
    with in_process_host("queue_app"):
        poisoned = wait_for(queues.poisoned, what="the poison message")
        wait_for(lambda: queues.remaining() == 0, what="the original to be deleted")
    assert poisoned == [stored]
    assert outbox.events() == []


def test_a_batch_runs_concurrently(in_process_host, queues, outbox):
    """Each 'pair' invocation waits on a two-party barrier: both succeed only if they overlap."""
    queues.send({"action": "pair", "n": 1})
    queues.send({"action": "pair", "n": 2})
    with in_process_host("queue_app"):
        wait_for(lambda: len(outbox.events("succeeded")) == 2, what="both invocations")
        wait_for(lambda: queues.remaining() == 0, what="both messages to be deleted")
    assert sorted(event["command"]["n"] for event in outbox.events("started")) == [1, 2]
    assert all(event["dequeue_count"] == 1 for event in outbox.events("started"))


def test_a_long_invocation_keeps_its_message_invisible(in_process_host, queues, outbox):
    """With a 2 s lease, a 4.5 s invocation needs renewals; without them the message would reappear."""
    with in_process_host("queue_app", message_lease_seconds=2):
        queues.send({"action": "slow", "seconds": 4.5})
        wait_for(lambda: outbox.events("started"), what="the invocation to start")
        wait_for(lambda: outbox.events("succeeded") or queues.visible(), what="the end or a reappearance")
        assert outbox.events("succeeded"), "the message became visible while its invocation still ran"
        wait_for(lambda: queues.remaining() == 0, what="the message to be deleted")
    assert len(outbox.events("started")) == 1


def test_function_timeout_cancels_an_async_function_and_counts_as_a_failure(in_process_host, queues, outbox):
    """timeout_app: functionTimeout 1 s, maxDequeueCount 1, an async function that never returns."""
    with in_process_host("timeout_app"):
        stored = queues.send({"action": "hang"})
        poisoned = wait_for(queues.poisoned, what="the timed-out message in poison")
    assert poisoned == [stored]
    assert [event["kind"] for event in outbox.events()] == ["started", "cancelled"]
