"""The emulator's knobs, fixed for the lifetime of one server."""

from __future__ import annotations

from dataclasses import dataclass

from local.speech_emulator.tokens import COGNITIVE_SERVICES_AUDIENCE


@dataclass(frozen=True)
class EmulatorConfig:
    """Settings of one emulated Speech resource.

    storage_connection_string points at the Azurite that holds the emulator's own result container (the stand-in
    for Microsoft-managed storage). phase_seconds is how long a job stays NotStarted and then Running: small
    values make lifecycle tests fast, larger ones let a poller observe each state. The throttle defaults mirror
    the documented S0 limit of 100 requests per 10 s.

    tick_seconds is how often the background ticker looks for jobs whose status changed, to fire their web hook
    events (a transition is announced at most one tick late). Web hook callbacks are retried
    webhook_retries times, webhook_retry_interval_seconds apart (the service's documented 5 retries 1 s apart),
    each waiting at most webhook_timeout_seconds for the receiver.

    keys are the accepted subscription keys; with none, the resource is Entra-only (local authentication
    disabled): only `Authorization: Bearer` tokens for token_audience get in, checked for audience and lifetime,
    and for their signature when token_public_key_pem (the issuer's key, e.g. local.identity_endpoint's) is set.
    """

    storage_connection_string: str
    keys: tuple[str, ...] = ("emulator-key",)
    phase_seconds: float = 1.0
    retry_after_seconds: int = 1
    throttle_limit: int = 100
    throttle_window_seconds: float = 10.0
    default_page_size: int = 100
    results_container: str = "speech-emulator-results"
    tick_seconds: float = 0.5
    webhook_retries: int = 5
    webhook_retry_interval_seconds: float = 1.0
    webhook_timeout_seconds: float = 5.0
    token_audience: str = COGNITIVE_SERVICES_AUDIENCE
    token_public_key_pem: str | None = None

    def __post_init__(self) -> None:
        if self.phase_seconds < 0:
            raise ValueError("phase_seconds must not be negative")
        if self.throttle_limit < 1 or self.throttle_window_seconds <= 0:
            raise ValueError("throttle_limit must be >= 1 and throttle_window_seconds > 0")
        if self.default_page_size < 1:
            raise ValueError("default_page_size must be >= 1")
        if self.tick_seconds <= 0:
            raise ValueError("tick_seconds must be > 0")
        if self.webhook_retries < 0 or self.webhook_retry_interval_seconds < 0:
            raise ValueError("webhook_retries and webhook_retry_interval_seconds must not be negative")
        if self.webhook_timeout_seconds <= 0:
            raise ValueError("webhook_timeout_seconds must be > 0")
