"""One function invocation with the host's bookkeeping: log lines, log scope, timeout, sync or async code.

Like the Python worker, `async def` functions run on the host's event loop and plain functions run on worker
threads (at most PYTHON_THREADPOOL_THREAD_COUNT at once). A plain function cannot be interrupted, so when it
outlives functionTimeout the invocation is reported as timed out (a failure) while its thread keeps running
until the code returns; `Outcome.finished` lets callers wait for that real end. The threads are daemons, so a
function stuck forever cannot keep the process alive after shutdown, which is what the host's process
recycling achieves in Azure.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import azure.functions as func
from opentelemetry.trace import StatusCode

from local.host import telemetry
from local.host.indexing import CONTEXT_PARAMETER, BlobFunction, FunctionSpec, QueueFunction, TimerFunction
from local.host.logs import InvocationScope, current_invocation
from local.host.settings import format_timespan

log = logging.getLogger("local.host.invocation")


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    value: Any = None
    error: BaseException | None = None
    finished: asyncio.Future[Any] | None = None

    async def wait_finished(self) -> None:
        """Return once the function's code has really ended (later than the outcome after a timeout)."""
        if self.finished is not None:
            await asyncio.wait({self.finished})


class InvocationContext(func.Context):
    """The `context` argument the Python worker passes to functions that declare it."""

    def __init__(self, invocation_id: str, function_name: str, function_directory: str) -> None:
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._function_directory = function_directory
        self._thread_local_storage = threading.local()
        self._thread_local_storage.invocation_id = invocation_id

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._thread_local_storage

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> Any:
        """Distributed tracing is not reproduced locally."""
        return None

    @property
    def retry_context(self) -> Any:
        """Retry policies are not reproduced locally."""
        return None


def _run_in_daemon_thread(call: Callable[[], Any], name: str) -> asyncio.Future[Any]:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def deliver(setter: Callable[[Any], None], value: Any) -> None:
        if not future.done():
            setter(value)

    def target() -> None:
        try:
            outcome = (future.set_result, call())
        except BaseException as error:  # whatever the function raised is its result
            outcome = (future.set_exception, error)
        # RuntimeError: the host already stopped and closed its loop; nobody waits for this result.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(deliver, *outcome)

    threading.Thread(target=target, name=name, daemon=True).start()
    return future


def _trigger(function: FunctionSpec) -> str:
    if isinstance(function, TimerFunction):
        return "timer"
    return "queue" if isinstance(function, QueueFunction | BlobFunction) else "http"


def _result_error(work: asyncio.Future[Any]) -> BaseException | None:
    return asyncio.CancelledError() if work.cancelled() else work.exception()


class Invoker:
    """Runs invocations for one host (create it on the host's event loop)."""

    def __init__(self, *, timeout: timedelta | None, threads: int) -> None:
        self._timeout = timeout
        self._threads = asyncio.Semaphore(threads)
        self._unfinished: set[asyncio.Future[Any]] = set()

    @property
    def unfinished(self) -> int:
        """Function code still running, including code that outlived its timeout."""
        return len(self._unfinished)

    async def invoke(
        self,
        function: FunctionSpec,
        trigger_value: Any,
        *,
        reason: str,
        details: str | None = None,
        convert: Callable[[Any], Any] | None = None,
    ) -> Outcome:
        """Invoke `function` with its trigger value; `convert` turns the return value into the binding's
        output inside the invocation, so a value the binding cannot take fails the invocation as in the host.
        """
        invocation_id = str(uuid.uuid4())
        token = current_invocation.set(InvocationScope(function.name, invocation_id))
        try:
            with telemetry.invocation_span(function.name, _trigger(function), invocation_id) as span:
                log.info(
                    "Executing 'Functions.%s' (Reason='%s', Id=%s)", function.name, reason, invocation_id
                )
                if details:
                    log.info("Trigger Details: %s", details)
                outcome = await self._run(function, trigger_value, invocation_id, convert)
                if not outcome.succeeded:
                    span.set_status(StatusCode.ERROR, type(outcome.error).__name__)
                return outcome
        finally:
            current_invocation.reset(token)

    async def _start(self, function: FunctionSpec, kwargs: dict[str, Any]) -> asyncio.Future[Any]:
        if function.is_async:
            work: asyncio.Future[Any] = asyncio.ensure_future(function.user_function(**kwargs))
        else:
            await self._threads.acquire()
            call = functools.partial(contextvars.copy_context().run, function.user_function, **kwargs)
            work = _run_in_daemon_thread(call, name=f"Functions.{function.name}")
            work.add_done_callback(lambda _: self._threads.release())
        self._unfinished.add(work)
        work.add_done_callback(self._unfinished.discard)
        return work

    async def _run(
        self,
        function: FunctionSpec,
        trigger_value: Any,
        invocation_id: str,
        convert: Callable[[Any], Any] | None,
    ) -> Outcome:
        kwargs = {function.trigger_parameter: trigger_value}
        if function.wants_context:
            kwargs[CONTEXT_PARAMETER] = InvocationContext(
                invocation_id, function.name, str(function.directory)
            )
        started = time.monotonic()
        work = await self._start(function, kwargs)
        try:
            done, _ = await asyncio.wait(
                {work}, timeout=self._timeout.total_seconds() if self._timeout else None
            )
        except asyncio.CancelledError:
            if function.is_async:
                work.cancel()
            raise
        if not done:
            assert self._timeout is not None
            log.error(
                "Timeout value of %s exceeded by function 'Functions.%s' (Id: '%s'). "
                "Initiating cancellation.",
                format_timespan(self._timeout),
                function.name,
                invocation_id,
            )
            if function.is_async:
                work.cancel()
            work.add_done_callback(_result_error)  # the late result is consumed here, not warned about
            error: BaseException | None = TimeoutError(
                f"functionTimeout {format_timespan(self._timeout)} exceeded"
            )
            self._log_executed(function, invocation_id, started, error, traceback=False)
            return Outcome(succeeded=False, error=error, finished=work)
        error = _result_error(work)
        value = None
        if error is None:
            try:
                value = convert(work.result()) if convert else work.result()
            except Exception as conversion_error:
                error = conversion_error
        self._log_executed(function, invocation_id, started, error, traceback=True)
        return Outcome(succeeded=error is None, value=value, error=error, finished=work)

    @staticmethod
    def _log_executed(
        function: FunctionSpec,
        invocation_id: str,
        started: float,
        error: BaseException | None,
        *,
        traceback: bool,
    ) -> None:
        duration = round((time.monotonic() - started) * 1000)
        if error is None:
            log.info(
                "Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%dms)",
                function.name,
                invocation_id,
                duration,
            )
            return
        log.error(
            "Executed 'Functions.%s' (Failed, Id=%s, Duration=%dms)",
            function.name,
            invocation_id,
            duration,
            exc_info=error if traceback else None,
        )
