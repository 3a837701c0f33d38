"""Telemetry as the Python worker sets it up: the Azure Monitor OpenTelemetry distro, configured by the host.

With PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY true and APPLICATIONINSIGHTS_CONNECTION_STRING set, the
worker calls `configure_azure_monitor` (connection string, and the logger named by
PYTHON_APPLICATIONINSIGHTS_LOGGER_NAME, default the root logger) before it indexes the app, after defaulting
OTEL_EXPERIMENTAL_RESOURCE_DETECTORS to `azure_functions`; for every invocation it makes the host's trace
context current. The app itself never configures telemetry. This module does the same for the local host,
so the whole path (the distro, its exporters, Entra auth from APPLICATIONINSIGHTS_AUTHENTICATION_STRING)
runs locally; point the connection string's IngestionEndpoint at a local server to see what is sent.

OpenTelemetry's providers are global and set once per process, like the worker's: a second in-process
Host with another connection string keeps the first one's (run hosts as subprocesses to compare).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import metrics, trace
from opentelemetry._logs import get_logger_provider

log = logging.getLogger("local.host.telemetry")

ENABLE_SETTING = "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"
CONNECTION_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
LOGGER_NAME_SETTING = "PYTHON_APPLICATIONINSIGHTS_LOGGER_NAME"
RESOURCE_DETECTORS = "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS"
_TRUE = {"1", "true", "t", "yes", "y"}

# The connection string this process configured the distro with (set at most once, like the providers).
_configured: dict[str, str] = {}


def enabled(settings: Mapping[str, str]) -> bool:
    return settings.get(ENABLE_SETTING, "").strip().lower() in _TRUE


def configure(settings: Mapping[str, str]) -> bool:
    """Configure the distro as the worker would; True when telemetry is on for this process."""
    if not enabled(settings):
        return False
    connection = settings.get(CONNECTION_SETTING, "")
    if not connection:
        log.warning("%s is true but %s is not set: no telemetry", ENABLE_SETTING, CONNECTION_SETTING)
        return False
    if _configured:
        if _configured["connection"] != connection:
            log.warning("Telemetry was already configured in this process; keeping its connection string")
        return True
    # Half a second to import: only when telemetry is on, as in the worker.
    from azure.monitor.opentelemetry import configure_azure_monitor  # noqa: PLC0415

    os.environ.setdefault(RESOURCE_DETECTORS, "azure_functions")
    configure_azure_monitor(connection_string=connection, logger_name=settings.get(LOGGER_NAME_SETTING, ""))
    _configured["connection"] = connection
    log.info("Configured the Azure Monitor OpenTelemetry distro")
    return True


def flush(timeout_millis: int = 10_000) -> None:
    """Export what is buffered now (the host calls it on stop; the process's exit would do it too)."""
    for provider in (trace.get_tracer_provider(), metrics.get_meter_provider(), get_logger_provider()):
        force_flush = getattr(provider, "force_flush", None)
        if force_flush is not None:
            force_flush(timeout_millis)


_tracer = trace.get_tracer("local.host")
_TRIGGER_KINDS = {"timer": "timer", "queue": "datasource", "http": "http"}


@contextmanager
def invocation_span(function_name: str, trigger: str, invocation_id: str) -> Iterator[trace.Span]:
    """The host's span around one invocation (a request in Application Insights), current while the function
    runs; a no-op span when telemetry is off. In Azure the host makes it and the worker makes it current."""
    attributes = {"faas.trigger": _TRIGGER_KINDS.get(trigger, "other"), "faas.invocation_id": invocation_id}
    with _tracer.start_as_current_span(
        function_name, kind=trace.SpanKind.SERVER, attributes=attributes
    ) as span:
        yield span
