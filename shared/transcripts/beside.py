"""Deriving beside the I/O: a Deriver fed from a thread of its own while the caller's thread downloads and
uploads the raw bytes.

The harvest of a large result file is one stream: download a chunk, derive from it, upload it. Deriving is
Python holding the GIL; downloading and uploading are mostly waits on sockets, which release it. Done in one
thread, the waits and the derivation add up; with the derivation in a second thread the waits pass while it
runs. The chunks wait for it in a bounded queue (QUEUE_CHUNKS chunks of the reader's size), so memory stays
bounded and the transfer slows down to the derivation's pace when that is the slower of the two.
"""

import contextvars
import queue
import threading
from types import TracebackType

from shared.transcripts.derive import Derived, Deriver

QUEUE_CHUNKS = 8


class DeriveBeside:
    """feed() each chunk (it returns at once unless the queue is full), then finish(); use as a context
    manager so that the thread ends also when the transfer fails."""

    def __init__(self, deriver: Deriver) -> None:
        self._deriver = deriver
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._error: BaseException | None = None
        self._ended = False
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._run,), name="derive", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._deriver.feed(chunk)
                except BaseException as error:  # re-raised in the caller's thread by finish()
                    self._error = error  # keep draining, so that feed() never blocks on a dead consumer

    def feed(self, chunk: bytes) -> None:
        self._queue.put(chunk)

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self._queue.put(None)
            self._thread.join()

    def finish(self) -> Derived:
        """After the last chunk: waits for the derivation, raises what it raised, else the Deriver's result."""
        self._end()
        if self._error is not None:
            raise self._error
        return self._deriver.finish()

    def __enter__(self) -> "DeriveBeside":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._end()
