"""A local managed-identity endpoint speaking the App Service / Functions protocol.

In Azure the platform sets IDENTITY_ENDPOINT and IDENTITY_HEADER, and azure-identity's ManagedIdentityCredential
(alone or inside DefaultAzureCredential) asks `GET {IDENTITY_ENDPOINT}?resource=<audience>&api-version=2019-08-01`
(`&client_id=<id>` for a user-assigned identity) with header `X-IDENTITY-HEADER`. This server answers the same
way, so the app's unchanged credential code gets tokens locally: JWTs with the requested audience, an Entra
issuer, iat/nbf/exp, signed RS256 with a key made per run. Azurite (`--oauth basic`) accepts them for
https://storage.azure.com; the Speech emulator checks them for https://cognitiveservices.azure.com.

Only the identities it is told about exist: a user-assigned client id it does not know, or a system-assigned
request when there is none, gets the 400 the platform gives, so tests prove which identity the app asked for.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from local.json_reply import send_json

API_VERSION = "2019-08-01"
TOKEN_LIFETIME_SECONDS = 3600
STORAGE_AUDIENCE = "https://storage.azure.com"
COGNITIVE_SERVICES_AUDIENCE = "https://cognitiveservices.azure.com"


@dataclass(frozen=True)
class Issued:
    """One token handed out: for which audience and which identity (None: system-assigned)."""

    resource: str
    client_id: str | None


@dataclass
class IdentityEndpoint:
    """The endpoint; use as a context manager. `environ()` gives the two settings the platform would set."""

    client_ids: tuple[str, ...] = ()
    system_assigned: bool = False
    tenant_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    host: str = "127.0.0.1"
    header: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    issued: list[Issued] = field(default_factory=list)
    _key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), repr=False
    )
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "not started"
        return f"http://{self.host}:{self._server.server_address[1]}/msi/token"

    @property
    def public_key_pem(self) -> str:
        """What a resource (the Speech emulator) uses to verify the tokens' signatures."""
        return (
            self._key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )

    @property
    def issuer(self) -> str:
        return f"https://sts.windows.net/{self.tenant_id}/"

    def environ(self) -> dict[str, str]:
        return {"IDENTITY_ENDPOINT": self.endpoint, "IDENTITY_HEADER": self.header}

    def token(self, resource: str, client_id: str | None, *, now: float | None = None) -> tuple[str, int]:
        """A signed access token for `resource` and its expiry (epoch seconds)."""
        issued_at = int(time.time() if now is None else now)
        expires = issued_at + TOKEN_LIFETIME_SECONDS
        principal = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.tenant_id}/{client_id or 'system'}"))
        claims = {
            "aud": resource,
            "iss": self.issuer,
            "iat": issued_at,
            "nbf": issued_at - 300,
            "exp": expires,
            "tid": self.tenant_id,
            "oid": principal,
            "sub": principal,
            "appid": client_id or principal,
            "idtyp": "app",
            "ver": "1.0",
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": "local"}), expires

    def answer(self, query: str, header: str | None) -> tuple[int, dict[str, Any]]:
        """The platform's answer to one token request (status, JSON body)."""
        if header is None or not hmac.compare_digest(header.encode(), self.header.encode()):
            return 401, {"statusCode": 401, "message": "X-IDENTITY-HEADER is missing or not valid"}
        params = {name: values[0] for name, values in parse_qs(query).items()}
        if params.get("api-version") != API_VERSION:
            return 400, {"statusCode": 400, "message": f"api-version must be {API_VERSION}"}
        resource = params.get("resource", "").strip()
        if not resource:
            return 400, {"statusCode": 400, "message": "resource is required"}
        client_id = params.get("client_id")
        known = client_id in self.client_ids if client_id is not None else self.system_assigned
        if not known:
            return 400, {
                "statusCode": 400,
                "message": "No User Assigned or Delegated Managed Identity found for specified ClientId",
            }
        token, expires = self.token(resource, client_id)
        with self._lock:
            self.issued.append(Issued(resource, client_id))
        body = {
            "access_token": token,
            "expires_on": str(expires),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": client_id or "",
        }
        return 200, body

    def start(self) -> IdentityEndpoint:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != "/msi/token":
                    status, body = 404, {"statusCode": 404, "message": "not found"}
                else:
                    status, body = endpoint.answer(parts.query, self.headers.get("X-IDENTITY-HEADER"))
                send_json(self, status, body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: token requests are counted in `issued`, not printed."""

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="identity")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> IdentityEndpoint:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
