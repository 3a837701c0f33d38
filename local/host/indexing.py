"""Find the app's functions the way the Python worker indexes a v2 app, and turn them into runnable specs.

function_app.py is imported as the module `function_app` (its directory on sys.path), the one FunctionApp it
defines is asked for `get_functions()` exactly once (a second call fails on duplicate names), and each
function's trigger and bindings are checked here, at start-up, so that anything the local host cannot run
faithfully is an error naming the function instead of a silent difference from Azure.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import Enum
from pathlib import Path
from typing import Any

from azure.functions import FunctionRegister
from azure.functions.decorators.core import Binding, Trigger
from azure.functions.decorators.function_app import Function

from local.host.blob_paths import BlobPath, BlobPathError, parse_blob_path
from local.host.ncrontab import CronSchedule, parse_schedule
from local.host.routes import RouteError, RouteTemplate, parse_route
from local.host.settings import SettingsError, is_disabled, resolve_references
from local.host.storage import DEFAULT_CONNECTION

MODULE_NAME = "function_app"
CONTEXT_PARAMETER = "context"
_QUEUE_NAME = re.compile(r"^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$")


class IndexingError(Exception):
    """function_app.py cannot be loaded, or defines functions the local host cannot run."""


class UnsupportedError(ValueError):
    """A trigger, binding or parameter the local host does not reproduce."""


@dataclass(frozen=True, kw_only=True)
class FunctionSpec:
    """What every runner needs: the name, the callable, and how to pass it its arguments."""

    name: str
    user_function: Callable[..., Any]
    trigger_parameter: str
    wants_context: bool
    directory: Path

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.user_function)


@dataclass(frozen=True, kw_only=True)
class TimerFunction(FunctionSpec):
    schedule: CronSchedule
    run_on_startup: bool
    use_monitor: bool


@dataclass(frozen=True, kw_only=True)
class QueueFunction(FunctionSpec):
    queue_name: str
    connection: str


@dataclass(frozen=True, kw_only=True)
class HttpFunction(FunctionSpec):
    route: RouteTemplate
    methods: frozenset[str] | None  # None: any method
    auth_level: str  # "anonymous", "function" or "admin"


@dataclass(frozen=True, kw_only=True)
class BlobFunction(FunctionSpec):
    """A blob trigger with source=EventGrid: run for the BlobCreated events of blobs its path matches."""

    path: BlobPath
    connection: str


IndexedFunction = TimerFunction | QueueFunction | HttpFunction | BlobFunction


@dataclass(frozen=True)
class AppIndex:
    functions: tuple[IndexedFunction, ...]
    disabled: tuple[str, ...]


def load_functions(app_dir: Path) -> list[Function]:
    """Import `<app_dir>/function_app.py` as `function_app` (the caller puts app_dir on sys.path) and ask
    its FunctionApp for its functions, once."""
    script = app_dir / "function_app.py"
    if not script.is_file():
        raise IndexingError(f"{script} not found")
    spec = importlib.util.spec_from_file_location(MODULE_NAME, script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[MODULE_NAME]
        raise IndexingError(f"importing {script} failed: {type(error).__name__}: {error}") from error
    apps = {id(value): value for value in vars(module).values() if isinstance(value, FunctionRegister)}
    if len(apps) != 1:
        del sys.modules[MODULE_NAME]
        raise IndexingError(f"{script} must define exactly one FunctionApp, found {len(apps)}")
    try:
        return next(iter(apps.values())).get_functions()
    except ValueError as error:  # no trigger, two triggers, duplicate names: the worker's indexing errors
        raise IndexingError(f"{script}: {error}") from error


def _text(value: object) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def _check_bindings(trigger: Trigger, bindings: Sequence[Binding]) -> None:
    for binding in bindings:
        if binding is trigger:
            continue
        if trigger.type == "httpTrigger" and binding.type == "http" and binding.name == "$return":
            continue
        raise UnsupportedError(
            f"binding '{binding.name}' of type '{binding.type}' is not supported by the local host "
            "(use the storage SDKs in code instead of input/output bindings)"
        )


def _check_parameters(user_function: Callable[..., Any], trigger: Trigger) -> bool:
    """Validate the signature against the bindings; True when the function also takes `context`."""
    parameters = inspect.signature(user_function).parameters
    if trigger.name not in parameters:
        raise UnsupportedError(f"the trigger binding '{trigger.name}' has no parameter of that name")
    unbound = [name for name in parameters if name not in (trigger.name, CONTEXT_PARAMETER)]
    if unbound:
        raise UnsupportedError(f"parameter(s) {', '.join(unbound)} have no binding")
    return CONTEXT_PARAMETER in parameters


def _queue_name(trigger: Trigger, settings: Mapping[str, str]) -> str:
    name = resolve_references(str(getattr(trigger, "queue_name", "")), settings)
    if not _QUEUE_NAME.match(name):
        raise UnsupportedError(
            f"queue name {name!r} is invalid (3-63 lowercase letters, digits, single dashes)"
        )
    return name


def _index_one(
    function: Function,
    *,
    settings: Mapping[str, str],
    route_prefix: str,
    app_dir: Path,
    now: datetime,
    zone: tzinfo,
) -> IndexedFunction:
    trigger = function.get_trigger()
    assert trigger is not None  # get_functions() already refuses functions without a trigger
    _check_bindings(trigger, function.get_bindings())
    user_function = function.get_user_function()
    common: dict[str, Any] = {
        "name": function.get_function_name(),
        "user_function": user_function,
        "trigger_parameter": trigger.name,
        "wants_context": _check_parameters(user_function, trigger),
        "directory": app_dir,
    }
    if trigger.type == "timerTrigger":
        schedule = parse_schedule(str(getattr(trigger, "schedule", "")), settings, zone)
        use_monitor = getattr(trigger, "use_monitor", None)
        return TimerFunction(
            **common,
            schedule=schedule,
            run_on_startup=bool(getattr(trigger, "run_on_startup", False)),
            use_monitor=not schedule.fires_at_least_every_minute(now) if use_monitor is None else use_monitor,
        )
    if trigger.type == "queueTrigger":
        return QueueFunction(
            **common,
            queue_name=_queue_name(trigger, settings),
            connection=getattr(trigger, "connection", None) or DEFAULT_CONNECTION,
        )
    if trigger.type == "httpTrigger":
        methods = getattr(trigger, "methods", None)
        return HttpFunction(
            **common,
            route=parse_route(route_prefix, str(getattr(trigger, "route", None) or common["name"])),
            methods=frozenset(_text(method).upper() for method in methods) if methods else None,
            auth_level=_text(getattr(trigger, "auth_level", None) or "function").lower(),
        )
    if trigger.type == "blobTrigger":
        source = _text(getattr(trigger, "source", None) or "LogsAndContainerScan")
        if source != "EventGrid":
            raise UnsupportedError(
                f"trigger type 'blobTrigger' with source '{source}' is not supported by the local host: use "
                "source=func.BlobSource.EVENT_GRID (the only blob trigger source on Flex Consumption)"
            )
        return BlobFunction(
            **common,
            path=parse_blob_path(resolve_references(str(getattr(trigger, "path", "")), settings)),
            connection=getattr(trigger, "connection", None) or DEFAULT_CONNECTION,
        )
    raise UnsupportedError(
        f"trigger type '{trigger.type}' is not supported by the local host (timerTrigger, queueTrigger, "
        "httpTrigger, blobTrigger with source EventGrid are); disable it with AzureWebJobs.<name>.Disabled=true to run the rest"
    )


def index_functions(
    functions: Sequence[Function],
    *,
    settings: Mapping[str, str],
    route_prefix: str,
    app_dir: Path,
    now: datetime,
    zone: tzinfo,
) -> AppIndex:
    """Build runnable specs for the enabled functions; every problem found is reported at once."""
    indexed: list[IndexedFunction] = []
    disabled: list[str] = []
    problems: list[str] = []
    for function in functions:
        name = function.get_function_name() or "?"
        if is_disabled(name, settings):
            disabled.append(name)
            continue
        try:
            indexed.append(
                _index_one(
                    function,
                    settings=settings,
                    route_prefix=route_prefix,
                    app_dir=app_dir,
                    now=now,
                    zone=zone,
                )
            )
        except (UnsupportedError, SettingsError, RouteError, BlobPathError) as error:
            problems.append(f"function '{name}': {error}")
    if problems:
        raise IndexingError("cannot run this app locally:\n  " + "\n  ".join(problems))
    return AppIndex(functions=tuple(indexed), disabled=tuple(disabled))
