"""Steps that must happen in file order while the files themselves are harvested in parallel.

A transcript's stem is only known once its result file has been read (the input audio's name is inside), and
two inputs with the same name become `call` and `call-2` by file order, never by which download finished
first. So each file takes its turn for that step: file i waits until files 0..i-1 have taken theirs. Files are
started in order, so whoever waits only waits for files already under way; if one of them fails, the others
stop waiting and fail too (the harvest is retried as a whole).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class OrderBrokenError(RuntimeError):
    """An earlier file failed before its turn: this one cannot take its own."""


class InOrder:
    def __init__(self) -> None:
        self._next = 0
        self._broken = False
        self._turns = threading.Condition()

    @contextmanager
    def turn(self, index: int) -> Iterator[None]:
        """Run the body once every earlier index has run its own; each index must take exactly one turn."""
        with self._turns:
            while self._next != index and not self._broken:
                self._turns.wait()
            if self._broken:
                raise OrderBrokenError(f"file {index}: an earlier file failed")
        try:
            yield
        except BaseException:
            self.abort()
            raise
        with self._turns:
            self._next += 1
            self._turns.notify_all()

    def abort(self) -> None:
        """A file failed: nobody waits for its turn any more."""
        with self._turns:
            self._broken = True
            self._turns.notify_all()
