"""The host itself: settings, indexing, and the listeners of one app, on an event loop of its own.

Start-up is ordered like the real host's: app settings (local.settings.json under the real environment) are in
os.environ before function_app.py is imported, host.json is read, the app is indexed once, and every
function's trigger is validated before anything listens. The event loop runs in a background thread so the
same class serves the CLI (which waits for signals in the main thread) and in-process use from tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from local.host import logs, telemetry
from local.host.eventgrid import WEBHOOK_PATH, BlobCreatedWatcher, BlobWebhook
from local.host.http import HttpFrontEnd, HttpServer, bind
from local.host.indexing import (
    MODULE_NAME,
    AppIndex,
    BlobFunction,
    HttpFunction,
    IndexingError,
    QueueFunction,
    TimerFunction,
    index_functions,
    load_functions,
)
from local.host.invocation import Invoker
from local.host.keys import FunctionKey, resolve_key
from local.host.ncrontab import schedule_zone
from local.host.queues import MESSAGE_LEASE_SECONDS, QueueListener
from local.host.schedule_monitor import StatusStore
from local.host.settings import (
    HostJson,
    SettingsError,
    host_id,
    load_host_json,
    load_local_settings,
    resolve_port,
    settings_to_apply,
    thread_count,
)
from local.host.storage import DEFAULT_CONNECTION, blob_service, queue_service, resolve_connection
from local.host.timers import TimerListener

log = logging.getLogger("local.host")

DEFAULT_SHUTDOWN_GRACE = 10.0


class HostStartupError(RuntimeError):
    """The app cannot be started: bad settings, an import error, or functions the host cannot run."""


class Host:
    """A local Functions host for the app in `app_dir`.

    `start()` returns once every listener runs and the HTTP port listens (or raises HostStartupError);
    `stop()` stops polling and schedules, lets invocations in progress finish within `shutdown_grace`
    seconds, and restores os.environ, sys.path and sys.modules as they were. Also a context manager.
    `log_stream` receives the host's log lines (the CLI passes stdout); without it records just propagate
    through the caller's logging configuration. `message_lease_seconds` is the queue messages' renewed
    invisibility while they are processed (10 minutes in the host).
    """

    def __init__(
        self,
        app_dir: str | Path = ".",
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        settings_path: str | Path | None = None,
        shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE,
        message_lease_seconds: int = MESSAGE_LEASE_SECONDS,
        log_stream: TextIO | None = None,
    ) -> None:
        self.app_dir = Path(app_dir).resolve()
        self.host = host
        self._requested_port = port
        self._settings_path = Path(settings_path) if settings_path is not None else None
        self._grace = shutdown_grace
        self._lease_seconds = message_lease_seconds
        self._log_stream = log_stream
        self._log_handler: logging.Handler | None = None
        self._undo: list[Callable[[], None]] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._startup_error: BaseException | None = None
        self._host_json = HostJson()
        self._index = AppIndex(functions=(), disabled=())
        self._key = FunctionKey("", generated=False)
        self._queue_services: dict[str, QueueServiceClient] = {}
        self._blob_services: dict[str, BlobServiceClient] = {}
        self._watchers: list[BlobCreatedWatcher] = []
        self._status_store: StatusStore | None = None
        self._socket: socket.socket | None = None
        self._threads = 1
        self._telemetry = False
        self._invoker: Invoker | None = None
        self._timers: list[TimerListener] = []
        self._queues: list[QueueListener] = []
        self._http: HttpServer | None = None
        self.port = 0
        self.host_id = ""

    # -- public surface -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}"

    @property
    def function_key(self) -> str:
        return self._key.value

    @property
    def function_key_generated(self) -> bool:
        return self._key.generated

    @property
    def functions(self) -> tuple[str, ...]:
        """Names of the enabled functions, in registration order."""
        return tuple(function.name for function in self._index.functions)

    @property
    def disabled_functions(self) -> tuple[str, ...]:
        return self._index.disabled

    @property
    def stopped(self) -> bool:
        """True once the host's loop has ended (after stop(), or if it failed while running)."""
        return self._stopped.is_set()

    def start(self) -> Host:
        if self._thread is not None:
            raise RuntimeError("this Host was already started")
        if self._log_stream is not None:
            self._log_handler = logs.install(self._log_stream)
        try:
            self._prepare()
            self._thread = threading.Thread(target=self._thread_main, name="local-host", daemon=True)
            self._thread.start()
            self._ready.wait()
            self._raise_startup_error()
        except BaseException:
            self._join()
            self._restore()
            raise
        return self

    def _raise_startup_error(self) -> None:
        if self._startup_error is not None:
            raise HostStartupError(str(self._startup_error)) from self._startup_error

    def stop(self) -> None:
        if self._thread is None:
            return
        if self._loop is not None and self._stop_requested is not None and not self._stopped.is_set():
            log.info(
                "Stopping the host: no new work is taken; invocations in progress get %.0fs", self._grace
            )
            with contextlib.suppress(RuntimeError):  # the loop ended on its own meanwhile
                self._loop.call_soon_threadsafe(self._stop_requested.set)
        self._join()
        if self._telemetry:
            telemetry.flush()
        self._restore()

    def __enter__(self) -> Host:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- start-up (caller's thread) -------------------------------------------------------------------

    def _prepare(self) -> None:
        try:
            local = load_local_settings(self.app_dir, self._settings_path)
            self._apply_environment(settings_to_apply(local.Values, os.environ))
            self._host_json = load_host_json(self.app_dir)
            self._telemetry = telemetry.configure(os.environ)  # before the app is imported, as the worker
            self._put_app_on_path()
            functions = load_functions(self.app_dir)
            settings = dict(os.environ)
            self._index = index_functions(
                functions,
                settings=settings,
                route_prefix=self._host_json.extensions.http.route_prefix,
                app_dir=self.app_dir,
                now=datetime.now(UTC),
                zone=schedule_zone(settings),
            )
            self.host_id = host_id(settings, self.app_dir)
            self._connect_storage(settings)
            self._key = resolve_key(settings)
            self._threads = thread_count(settings, os.cpu_count() or 1)
            sock = bind(self.host, resolve_port(self._requested_port, local))
        except (SettingsError, IndexingError, OSError) as error:
            raise HostStartupError(str(error)) from error
        self._socket = sock
        self._undo.append(sock.close)
        self.port = sock.getsockname()[1]
        for name in self._index.disabled:
            log.info("Function '%s' is disabled (AzureWebJobs.%s.Disabled)", name, name)

    def _apply_environment(self, values: dict[str, str]) -> None:
        os.environ.update(values)

        def undo() -> None:
            for name, value in values.items():
                if os.environ.get(name) == value:
                    del os.environ[name]

        self._undo.append(undo)

    def _put_app_on_path(self) -> None:
        entry = str(self.app_dir)
        previous: ModuleType | None = sys.modules.get(MODULE_NAME)
        if entry not in sys.path:
            sys.path.insert(0, entry)
            self._undo.append(lambda: sys.path.remove(entry) if entry in sys.path else None)

        def restore_module() -> None:
            if previous is None:
                sys.modules.pop(MODULE_NAME, None)
            else:
                sys.modules[MODULE_NAME] = previous

        self._undo.append(restore_module)

    def _connect_storage(self, settings: dict[str, str]) -> None:
        """Resolve every connection now, so a missing setting fails start-up naming the function."""
        problems: list[str] = []
        for function in self._index.functions:
            try:
                if isinstance(function, TimerFunction):
                    # The host needs AzureWebJobsStorage for any non-HTTP trigger.
                    resolve_connection(DEFAULT_CONNECTION, "blob", settings)
                    if function.use_monitor and self._status_store is None:
                        self._status_store = StatusStore(
                            blob_service(DEFAULT_CONNECTION, settings), self.host_id
                        )
                elif isinstance(function, QueueFunction) and function.connection not in self._queue_services:
                    self._queue_services[function.connection] = queue_service(function.connection, settings)
                elif isinstance(function, BlobFunction) and function.connection not in self._blob_services:
                    resolve_connection(DEFAULT_CONNECTION, "blob", settings)
                    self._blob_services[function.connection] = blob_service(function.connection, settings)
            except SettingsError as error:
                problems.append(f"function '{function.name}': {error}")
        if problems:
            raise SettingsError("\n  ".join(["cannot run this app locally:", *problems]))

    # -- the event loop (host thread) -----------------------------------------------------------------

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:
            log.exception("The host stopped unexpectedly")
        finally:
            self._ready.set()
            self._stopped.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        # Storage calls run in threads (the SDKs are synchronous); the default pool is only cpus + 4 wide.
        self._loop.set_default_executor(
            ThreadPoolExecutor(max_workers=32, thread_name_prefix="local-host-io")
        )
        self._stop_requested = asyncio.Event()
        self._invoker = Invoker(timeout=self._host_json.timeout, threads=self._threads)
        try:
            await self._start_listeners()
        except Exception as error:
            self._startup_error = error
            self._ready.set()
            await self._shut_down()
            return
        self._ready.set()
        await self._stop_requested.wait()
        await self._shut_down()

    async def _start_listeners(self) -> None:
        assert self._invoker is not None
        assert self._socket is not None
        for function in self._index.functions:
            if isinstance(function, TimerFunction):
                timer = TimerListener(
                    function, self._invoker, self._status_store if function.use_monitor else None
                )
                self._timers.append(timer)
                await timer.start()
            elif isinstance(function, QueueFunction):
                listener = QueueListener(
                    function,
                    self._queue_services[function.connection],
                    self._host_json.extensions.queues,
                    self._invoker,
                    self._lease_seconds,
                )
                self._queues.append(listener)
                listener.start()
        http_functions = [f for f in self._index.functions if isinstance(f, HttpFunction)]
        for function in http_functions:
            methods = ",".join(sorted(function.methods)) if function.methods else "ALL"
            log.info("%s: [%s] %s/%s", function.name, methods, self.base_url, function.route.template)
        blob_functions = [f for f in self._index.functions if isinstance(f, BlobFunction)]
        webhook = BlobWebhook(blob_functions, self._blob_services, self._invoker) if blob_functions else None
        front_end = HttpFrontEnd(http_functions, self._invoker, self._key, webhook)
        self._http = HttpServer(front_end.app(), self._socket, self._grace)
        self._http.start()
        for blob_function in blob_functions:
            watcher = BlobCreatedWatcher(
                blob_function,
                self._blob_services[blob_function.connection],
                f"{self.base_url}{WEBHOOK_PATH}?functionName=Host.Functions.{blob_function.name}"
                f"&code={self._key.value}",
            )
            await watcher.start()
            self._watchers.append(watcher)
            log.info(
                "%s: blobTrigger (EventGrid) on BlobCreated, subjectBeginsWith '%s', subjectEndsWith '%s'",
                blob_function.name,
                watcher.subject_begins_with,
                watcher.subject_ends_with,
            )

    async def _shut_down(self) -> None:
        """Stop taking work, then give what is in progress `grace` seconds to finish."""
        listeners: list[TimerListener | QueueListener] = [*self._timers, *self._queues]
        for listener in listeners:
            listener.stop()
        waiting: set[asyncio.Task[Any]] = set()
        for timer in self._timers:
            if timer.task is not None:
                waiting.add(timer.task)
        for queue in self._queues:
            waiting |= queue.pending()
        if self._http is not None:
            waiting.add(asyncio.create_task(self._http.stop()))
        late: set[asyncio.Task[Any]] = set()
        if waiting:
            _, late = await asyncio.wait(waiting, timeout=self._grace)
        if late:
            log.warning(
                "%d task(s) still running after %.0fs; abandoning them "
                "(their queue messages become visible again when their lease ends)",
                len(late),
                self._grace,
            )
            for task in late:
                task.cancel()
            await asyncio.wait(late)
        if self._invoker is not None and self._invoker.unfinished:
            log.warning("%d function call(s) past their timeout are still running", self._invoker.unfinished)
        log.info("Host stopped")

    # -- teardown -------------------------------------------------------------------------------------

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join(self._grace + 30)

    def _restore(self) -> None:
        while self._undo:
            self._undo.pop()()
        if self._log_handler is not None:
            logs.uninstall(self._log_handler)
            self._log_handler = None
