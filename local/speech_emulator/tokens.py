"""Entra ID tokens as a Speech resource checks them: right audience, inside their lifetime, and (when the
emulator is told the issuer's public key) signed by that issuer.

Only when the emulator runs without keys, like a resource with local authentication disabled: then a token is
the only way in, so it is checked; with keys, any bearer token is accepted, as before.
"""

from __future__ import annotations

import jwt
import jwt.types

COGNITIVE_SERVICES_AUDIENCE = "https://cognitiveservices.azure.com"
_LEEWAY_SECONDS = 300


class TokenRejected(ValueError):
    """The token would not be accepted by the service; the message says why (never the token)."""


def check_token(token: str, *, audience: str, public_key_pem: str | None) -> dict[str, object]:
    """The token's claims if the service would accept it, else TokenRejected."""
    options: jwt.types.Options = {
        "require": ["exp", "aud", "iss"],
        "verify_signature": public_key_pem is not None,
    }
    try:
        claims: dict[str, object] = jwt.decode(
            token,
            key=public_key_pem or "",
            algorithms=["RS256"],
            audience=[audience, audience + "/"],
            leeway=_LEEWAY_SECONDS,
            options=options,
        )
    except jwt.InvalidAudienceError:
        raise TokenRejected(f"the token's audience is not {audience}") from None
    except jwt.ExpiredSignatureError:
        raise TokenRejected("the token has expired") from None
    except jwt.InvalidSignatureError:
        raise TokenRejected("the token's signature is not valid") from None
    except jwt.PyJWTError as error:
        raise TokenRejected(f"the token is not valid: {type(error).__name__}") from None
    issuer = str(claims.get("iss", ""))
    if not issuer.startswith(("https://sts.windows.net/", "https://login.microsoftonline.com/")):
        raise TokenRejected("the token was not issued by Entra ID")
    return claims
