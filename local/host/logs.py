"""Log lines that say which invocation wrote them, like the host's per-invocation log scopes.

The current invocation lives in a context variable: asyncio tasks inherit it and the invoker copies it into
the worker thread of a synchronous function, so every record a function writes through `logging` (on any
logger) is stamped with the function name and invocation id by a filter on the host's handler.
Threads the function starts itself do not inherit it (as in the Python worker).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TextIO

_FORMAT = "%(asctime)s %(levelname)-7s %(scope)s%(message)s"


@dataclass(frozen=True)
class InvocationScope:
    function_name: str
    invocation_id: str

    @property
    def label(self) -> str:
        return f"[{self.function_name} {self.invocation_id[:8]}]"


current_invocation: ContextVar[InvocationScope | None] = ContextVar("current_invocation", default=None)


class InvocationFilter(logging.Filter):
    """Adds `function_name`, `invocation_id` and a printable `scope` to every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        scope = current_invocation.get()
        record.function_name = scope.function_name if scope else ""
        record.invocation_id = scope.invocation_id if scope else ""
        record.scope = f"{scope.label} " if scope else f"{record.name}: "
        return True


def make_handler(stream: TextIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.addFilter(InvocationFilter())
    handler.setFormatter(logging.Formatter(_FORMAT))
    return handler


# Libraries that log every HTTP request at INFO would drown the function logs.
_QUIET = ("azure", "uvicorn", "urllib3")


def install(stream: TextIO) -> logging.Handler:
    """Send INFO+ records to `stream` in the host format; returns the handler for uninstall()."""
    handler = make_handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def uninstall(handler: logging.Handler) -> None:
    logging.getLogger().removeHandler(handler)
