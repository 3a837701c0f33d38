"""Redaction of secrets in URLs and free text: the one place the whole app masks keys, tokens and SAS.

Result URLs carry a SAS whose `sig` grants read access to the customer's data, user-delegation SAS fields
(`skoid`, `sktid`, ...) identify the signing principal, and error messages may quote either. Anything that
reaches a log line, an exception message, a ledger row or a manifest goes through these functions first.
They are pure and never parse-and-reencode what they keep, so a redacted URL still reads like the original.
"""

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REDACTED = "REDACTED"

# The signature: the only SAS field that is a secret by itself; masked so the URL still shows it had one.
_MASKED_PARAMS = frozenset({"sig"})
# User-delegation key fields: they identify the signing principal and its key; dropped outright.
_DROPPED_PARAMS = frozenset({"skoid", "sktid", "skt", "ske", "sks", "skv", "sdd"})
# The only query parameter a manifest's "source" keeps: it is part of the API address, not of a grant.
_KEPT_BY_STRIP = frozenset({"api-version"})

# `sig=` or `sig%3D` (a URL quoted inside another URL), not preceded by a letter (so `xsig=` is left alone);
# the value runs until a separator, a quote, whitespace or an encoded `&`.
_SIG_IN_TEXT = re.compile(r"(?i)(?<![a-z])(sig(?:=|%3D))(?:(?!%26)[^&\s\"'<>])+")
# A URL inside free text: any case of the scheme, up to whitespace, a quote or an angle bracket.
_URL_IN_TEXT = re.compile(r"(?i)\bhttps?://[^\s\"'<>]+")
_BEARER_IN_TEXT = re.compile(r"(?i)(\bbearer\s+)[a-z0-9\-._~+/]+=*")


def _param_name(pair: str) -> str:
    return pair.split("=", 1)[0].lower()


def _without_userinfo(netloc: str) -> str:
    return netloc.rpartition("@")[2]


def redact_url(url: str) -> str:
    """Mask the SAS signature, drop user-delegation fields and credentials in the authority part."""
    parts = urlsplit(url)
    kept: list[str] = []
    for pair in parts.query.split("&") if parts.query else []:
        name = _param_name(pair)
        if name in _DROPPED_PARAMS:
            continue
        kept.append(f"{pair.split('=', 1)[0]}={REDACTED}" if name in _MASKED_PARAMS else pair)
    return urlunsplit(parts._replace(netloc=_without_userinfo(parts.netloc), query="&".join(kept)))


def strip_sas(url: str) -> str:
    """The URL without any grant: no query (except api-version), no credentials, no fragment.

    Used for the manifest's `source` fields, which must identify an input without ever granting access to it.
    """
    parts = urlsplit(url)
    kept = [pair for pair in parts.query.split("&") if pair and _param_name(pair) in _KEPT_BY_STRIP]
    return urlunsplit(
        parts._replace(netloc=_without_userinfo(parts.netloc), query="&".join(kept), fragment="")
    )


def redact_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Mask each given secret value, any SAS signature and any bearer token found in free text."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _SIG_IN_TEXT.sub(rf"\1{REDACTED}", text)
    return _BEARER_IN_TEXT.sub(rf"\1{REDACTED}", text)


def strip_sas_in_text(text: str) -> str:
    """Every URL in the text without its grant (as strip_sas, whatever the scheme's case), and any SAS
    signature left outside a URL masked."""
    text = _URL_IN_TEXT.sub(lambda found: _same_scheme(found.group(0), strip_sas(found.group(0))), text)
    return _SIG_IN_TEXT.sub(rf"\1{REDACTED}", text)


def _same_scheme(original: str, stripped: str) -> str:
    """urlunsplit lowers the scheme; text keeps it as written."""
    end = original.index(":")
    return original[:end] + stripped[end:]


def scrub_json(value: Any) -> Any:
    """A JSON value with every string (values and names) passed through strip_sas_in_text: what the service
    echoes (the job's `contentUrls`, a description someone pasted a SAS URL into) never carries a grant."""
    if isinstance(value, dict):
        return {scrub_json(name): scrub_json(item) for name, item in value.items()}
    if isinstance(value, list):
        return [scrub_json(item) for item in value]
    if isinstance(value, str):
        return strip_sas_in_text(value)
    return value
