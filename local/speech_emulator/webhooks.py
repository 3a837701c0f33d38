"""Web hook operations (all three API versions): list, create, get, update, delete, :ping and :test.

A new hook, and one whose webUrl changes, stays NotStarted until its receiver answers the challenge; the
callbacks themselves are the Notifier's business. Hooks render in the version of the request, but call back
in the version they were registered through.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from starlette.responses import Response

from local.speech_emulator.errors import invalid_request, not_found
from local.speech_emulator.filters import Record
from local.speech_emulator.isotime import whole_seconds
from local.speech_emulator.listing import parse_listing
from local.speech_emulator.pipeline import Call
from local.speech_emulator.render import json_response
from local.speech_emulator.transcriptions import read_body
from local.speech_emulator.webhook_store import WEBHOOK_FIELDS, WebHook, render_webhook
from local.speech_emulator.webhook_wire import PaginatedWebHooks, WebHookCreate, WebHookEvents, WebHookUpdate

ENTITY = "webHook"


def _web_url(url: str | None) -> str:
    parts = urlsplit(url) if url is not None else None
    if url is None or parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
        raise invalid_request(
            "The property webHook.webUrl must be an absolute http or https URL.", "InvalidCallbackUri"
        )
    return url


def _events(current: set[str], switches: WebHookEvents | None) -> set[str]:
    if switches is None:
        raise invalid_request("The property webHook.events cannot be removed.", "InvalidWebHookEventKind")
    events = set(current)
    for name, on in switches.switches().items():
        if on:
            events.add(name)
        else:
            events.discard(name)
    if not events:
        raise invalid_request(
            "The property webHook.events must switch on at least one event.", "InvalidWebHookEventKind"
        )
    return events


def _find(call: Call) -> WebHook:
    hook = call.state.notifier.hooks.get(call.path("id"))
    if hook is None:
        raise not_found("web hook")
    return hook


def _retry_after(call: Call, hooks: list[WebHook]) -> dict[str, str] | None:
    """Like a job's, a hook's GET says when to look again while its challenge is pending."""
    if any(not hook.status.terminal for hook in hooks):
        return {"Retry-After": str(call.state.config.retry_after_seconds)}
    return None


def _record(hook: WebHook) -> Record:
    return {
        "displayName": hook.display_name,
        "description": hook.description,
        "status": hook.status.value,
        "webUrl": hook.web_url,
        "createdDateTime": whole_seconds(hook.created),
        "lastActionDateTime": whole_seconds(hook.last_action),
    }


async def list_webhooks(call: Call) -> Response:
    listing = parse_listing(call.request.query_params, WEBHOOK_FIELDS, call.state.config.default_page_size)
    page, more = listing.select(call.state.notifier.hooks.oldest_first(), _record)
    body = PaginatedWebHooks(
        values=[render_webhook(hook, call.urls) for hook in page],
        next_link=listing.next_link(call.urls, call.urls.collection("/webhooks"), []) if more else None,
    )
    return json_response(body, headers=_retry_after(call, page))


async def create(call: Call) -> Response:
    body = await read_body(call, WebHookCreate, ENTITY)
    hook = WebHook(
        id=str(uuid.uuid4()),
        display_name=body.display_name,
        web_url=_web_url(body.web_url),
        events=_events(set(), body.events),
        version=call.version,
        endpoint=call.urls.endpoint,
        created=call.now,
        last_action=call.now,
        secret=(body.properties.secret or None) if body.properties else None,
        description=body.description,
        custom_properties=body.custom_properties,
    )
    call.state.notifier.hooks.add(hook)
    call.state.notifier.challenge(hook)
    rendered = render_webhook(hook, call.urls)
    return json_response(rendered, 201, headers={"Location": rendered.self_})


async def get_webhook(call: Call) -> Response:
    hook = _find(call)
    return json_response(render_webhook(hook, call.urls), headers=_retry_after(call, [hook]))


async def update(call: Call) -> Response:
    """Merge-patch; everything is validated before anything changes. A new webUrl is challenged again."""
    hook = _find(call)
    body = await read_body(call, WebHookUpdate, ENTITY)
    changed = body.model_fields_set
    if "display_name" in changed and body.display_name is None:
        raise invalid_request("The property webHook.displayName cannot be removed.", "InvalidPayload")
    web_url = _web_url(body.web_url) if "web_url" in changed else hook.web_url
    events = _events(hook.events, body.events) if "events" in changed else hook.events
    if body.display_name is not None:
        hook.display_name = body.display_name
    if "description" in changed:
        hook.description = body.description
    if "custom_properties" in changed:
        hook.custom_properties = body.custom_properties
    if "properties" in changed:
        hook.secret = (body.properties.secret or None) if body.properties else None
    hook.events = events
    hook.last_action = call.now
    if web_url != hook.web_url:
        hook.web_url = web_url
        call.state.notifier.challenge(hook)
    return json_response(render_webhook(hook, call.urls), headers=_retry_after(call, [hook]))


async def delete(call: Call) -> Response:
    """204 whether or not the hook existed, like a transcription's DELETE."""
    call.state.notifier.hooks.remove(call.path("id"))
    return Response(status_code=204)


async def ping(call: Call) -> Response:
    call.state.notifier.ping(_find(call))
    return Response(status_code=202, headers={"Retry-After": str(call.state.config.retry_after_seconds)})


async def test(call: Call) -> Response:
    """One callback per subscribed transcription event about the latest job; 204 when there is nothing to send."""
    hook = _find(call)
    jobs = call.state.store.oldest_first()
    sent = call.state.notifier.test(hook, jobs[-1] if jobs else None)
    return Response(status_code=202 if sent else 204)
