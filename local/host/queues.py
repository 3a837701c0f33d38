"""The queue trigger listener, reproducing the Storage Queues extension's processing rules.

- Polling backs off from ~100 ms after finding messages and ~200 ms after an empty poll, doubling up to
  maxPollingInterval; it receives up to batchSize (at most 32) messages per call and fetches the next batch
  once the messages in flight drop to newBatchThreshold, so at most batchSize + newBatchThreshold run at once.
- Messages are received invisible for a 10-minute lease that is renewed at half-time while the function
  runs, so a long invocation is never delivered twice; if the process dies, the message reappears when the
  lease ends.
- Bodies are base64 unless messageEncoding is "none"; a body that is not valid base64 goes to
  `<queue>-poison` unchanged without calling the function.
- Success deletes the message. A failure (exception or functionTimeout) makes it visible again after
  visibilityTimeout; once its dequeue count has reached maxDequeueCount it is copied to `<queue>-poison`
  (created if needed, same body text, so the same base64 encoding) and deleted. A message that arrives
  already over the limit goes to poison without running the function.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import math
import re
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.functions.queue import QueueMessage as FunctionQueueMessage
from azure.storage.queue import QueueClient, QueueMessage, QueueServiceClient

from local.host.indexing import QueueFunction
from local.host.invocation import Invoker
from local.host.settings import QueuesOptions
from local.host.waits import wait_or_stop

log = logging.getLogger("local.host.queues")

MAX_RECEIVE = 32
MESSAGE_LEASE_SECONDS = 600
_FOUND_DELAY = 0.1
_FIRST_EMPTY_DELAY = 0.2
_BASE64_WHITESPACE = re.compile(r"[ \t\r\n]")


def decode_body(raw: str, encoding: str) -> bytes | None:
    """The message body the function sees, or None when a base64 queue holds text that is not base64.

    Like .NET's decoder, whitespace is ignored but padding and the alphabet are enforced.
    """
    if encoding == "none":
        return raw.encode("utf-8")
    try:
        return base64.b64decode(_BASE64_WHITESPACE.sub("", raw), validate=True)
    except (binascii.Error, ValueError):
        return None


class PollingBackoff:
    """Delay before the next poll: short while messages flow, doubling while the queue stays empty."""

    def __init__(self, maximum: float) -> None:
        self._maximum = maximum
        self._empty_delay = _FIRST_EMPTY_DELAY

    def after(self, found: bool) -> float:
        if found:
            self._empty_delay = _FIRST_EMPTY_DELAY
            return min(_FOUND_DELAY, self._maximum)
        delay = min(self._empty_delay, self._maximum)
        self._empty_delay = min(self._empty_delay * 2, self._maximum)
        return delay


class MessageLease:
    """A received message's pop receipt, kept current while its invisibility is renewed."""

    def __init__(self, queue: QueueClient, message: QueueMessage, seconds: int) -> None:
        self._queue = queue
        self.message = message
        self.pop_receipt = message.pop_receipt
        self._seconds = seconds
        self._done = asyncio.Event()

    async def keep_invisible(self) -> None:
        """Renew at half the lease until released; never abandoned mid-update, so the receipt stays valid."""
        while not await wait_or_stop(self._done, self._seconds / 2):
            try:
                updated = await asyncio.to_thread(
                    self._queue.update_message,
                    self.message.id,
                    pop_receipt=self.pop_receipt,
                    visibility_timeout=self._seconds,
                )
            except AzureError as error:
                log.warning("Could not renew the lease of message %s: %s", self.message.id, error)
                continue
            self.pop_receipt = updated.pop_receipt

    def release(self) -> None:
        self._done.set()


class QueueListener:
    def __init__(
        self,
        function: QueueFunction,
        service: QueueServiceClient,
        options: QueuesOptions,
        invoker: Invoker,
        lease_seconds: int = MESSAGE_LEASE_SECONDS,
    ) -> None:
        self._function = function
        self._queue = service.get_queue_client(function.queue_name)
        self._poison = service.get_queue_client(f"{function.queue_name}-poison")
        self._options = options
        self._invoker = invoker
        self._lease_seconds = lease_seconds
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._poll(), name=f"queue {self._function.name}")

    def stop(self) -> None:
        """Stop polling; messages already received keep running."""
        self._stopping.set()
        self._wake.set()

    def pending(self) -> set[asyncio.Task[None]]:
        return {task for task in (self._task, *self._in_flight) if task is not None and not task.done()}

    async def _poll(self) -> None:
        backoff = PollingBackoff(self._options.max_polling_interval.total_seconds())
        batch = min(self._options.batch_size, MAX_RECEIVE)
        while not self._stopping.is_set():
            while len(self._in_flight) > self._options.threshold and not self._stopping.is_set():
                self._wake.clear()
                await self._wake.wait()
            if self._stopping.is_set():
                return
            messages = await self._receive(batch)
            if self._stopping.is_set():
                await self._give_back(messages)
                return
            for message in messages:
                task = asyncio.create_task(self._process(message), name=f"message {message.id}")
                self._in_flight.add(task)
                task.add_done_callback(self._finished)
            if await wait_or_stop(self._stopping, backoff.after(bool(messages))):
                return

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("Processing a message failed in the host", exc_info=task.exception())

    async def _give_back(self, messages: list[QueueMessage]) -> None:
        """Messages received just as the host stopped are made visible again at once, not after the lease."""
        for message in messages:
            await self._release(message.id, message.pop_receipt, 0)

    async def _release(self, message_id: str, pop_receipt: str | None, seconds: float) -> None:
        await self._storage(
            "release",
            self._queue.update_message,
            message_id,
            pop_receipt=pop_receipt,
            visibility_timeout=math.ceil(seconds),
        )

    async def _receive(self, count: int) -> list[QueueMessage]:
        def receive() -> list[QueueMessage]:
            pages = self._queue.receive_messages(
                messages_per_page=count, visibility_timeout=self._lease_seconds
            ).by_page()
            page = next(pages, None)
            return list(page) if page is not None else []

        try:
            return await asyncio.to_thread(receive)
        except ResourceNotFoundError:
            return []  # the queue does not exist yet: nothing to do, like the host
        except AzureError as error:
            log.warning("Polling queue '%s' failed: %s", self._function.queue_name, error)
            return []

    async def _process(self, message: QueueMessage) -> None:
        lease = MessageLease(self._queue, message, self._lease_seconds)
        limit = self._options.max_dequeue_count
        if message.dequeue_count is not None and message.dequeue_count > limit:
            await self._to_poison(lease, f"Message has already been dequeued {message.dequeue_count} times")
            return
        body = decode_body(message.content, self._options.message_encoding)
        if body is None:
            await self._to_poison(lease, "Message is not valid base64 (host.json messageEncoding is base64)")
            return
        renewal = asyncio.create_task(lease.keep_invisible())
        try:
            outcome = await self._invoker.invoke(
                self._function,
                FunctionQueueMessage(
                    id=message.id,
                    body=body,
                    dequeue_count=message.dequeue_count,
                    pop_receipt=message.pop_receipt,
                    insertion_time=message.inserted_on,
                    expiration_time=message.expires_on,
                    time_next_visible=message.next_visible_on,
                ),
                reason=f"New queue message detected on '{self._function.queue_name}'.",
                details=(
                    f"MessageId: {message.id}, DequeueCount: {message.dequeue_count}, "
                    f"InsertedOn: {message.inserted_on.isoformat() if message.inserted_on else None}"
                ),
            )
        finally:
            lease.release()
            await renewal
        if outcome.succeeded:
            await self._storage("delete", self._queue.delete_message, message.id, lease.pop_receipt)
        elif (message.dequeue_count or 0) >= limit:
            await self._to_poison(lease, f"Message has reached MaxDequeueCount of {limit}")
        else:
            await self._release(
                message.id, lease.pop_receipt, self._options.visibility_timeout.total_seconds()
            )
        await outcome.wait_finished()

    async def _to_poison(self, lease: MessageLease, why: str) -> None:
        poison = self._poison.queue_name
        log.warning("%s. Moving message %s to queue '%s'.", why, lease.message.id, poison)

        def copy() -> None:
            try:
                self._poison.send_message(lease.message.content)
            except ResourceNotFoundError:
                with contextlib.suppress(ResourceExistsError):  # created meanwhile by another invocation
                    self._poison.create_queue()
                self._poison.send_message(lease.message.content)

        if await self._storage("copy to poison", copy):
            await self._storage("delete", self._queue.delete_message, lease.message.id, lease.pop_receipt)

    async def _storage(self, action: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Run a storage call off the loop; a failure is logged (the message will simply be seen again)."""
        try:
            await asyncio.to_thread(call, *args, **kwargs)
        except AzureError as error:
            log.warning("Could not %s a message on '%s': %s", action, self._function.queue_name, error)
            return False
        return True
