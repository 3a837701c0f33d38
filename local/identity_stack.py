"""The platform of a Flex Consumption app with identity only, on one machine: for tests and `make demo IDENTITY=1`.

- Azurite over HTTPS with `--oauth basic`, its certificate from a CA made for this run (local.tls) and trusted
  through REQUESTS_CA_BUNDLE;
- a managed-identity endpoint speaking the App Service protocol (local.identity_endpoint) with one
  user-assigned identity, as the Flex templates create;
- the app settings those give: `AzureWebJobsStorage__credential=managedidentity`, `__clientId`,
  `__blobServiceUri` / `__queueServiceUri` / `__tableServiceUri`, plus IDENTITY_ENDPOINT and IDENTITY_HEADER,
  which the platform sets. No key, no connection string, no SAS.

The app's storage is an account of its own (`harvester`) whose key is random and never given to the app, so
nothing could reach it by falling back to Azurite's well-known development key: only a token works. The Speech
emulator for this platform runs without keys and verifies tokens with the endpoint's public key; its own
result storage (Microsoft's side, not the app's) uses the development account and its key.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.azurite import Azurite
from local.identity_endpoint import IdentityEndpoint
from local.speech_emulator import EmulatorConfig
from local.tls import TlsFiles, make_tls

# The user-assigned identity's client id (a fixed, made-up value: it names an identity, it grants nothing).
USER_ASSIGNED_CLIENT_ID = "5b1a6c8e-7f0d-4c2e-9a3b-1d2e3f405162"
CA_BUNDLE = "REQUESTS_CA_BUNDLE"
APP_ACCOUNT = "harvester"


@dataclass(frozen=True)
class IdentityStack:
    tls: TlsFiles
    azurite: Azurite
    identity: IdentityEndpoint
    app_account_key: str = field(repr=False)  # for observers (tests, the demo's viewer); never the app's

    @property
    def app_account_credential(self) -> dict[str, str]:
        """The app account's shared key, as an SDK credential: what an observer reads results with."""
        return {"account_name": APP_ACCOUNT, "account_key": self.app_account_key}

    @property
    def app_account_connection_string(self) -> str:
        """The same for observers that take a connection string (the demo's viewer and example consumer)."""
        return self.azurite.connection_string_for(APP_ACCOUNT, self.app_account_key)

    @property
    def app_blob_endpoint(self) -> str:
        return self.azurite.endpoint("blob", APP_ACCOUNT)

    def storage_settings(self, name: str = "AzureWebJobsStorage") -> dict[str, str]:
        """An identity-based connection `name` to the app's account, as a Flex deployment sets it."""
        return {
            **self.azurite.identity_settings(name, APP_ACCOUNT),
            f"{name}__credential": "managedidentity",
            f"{name}__clientId": USER_ASSIGNED_CLIENT_ID,
        }

    def platform_settings(self) -> dict[str, str]:
        """What the platform itself provides to the app's process: the identity endpoint and the trusted CA."""
        return {**self.identity.environ(), CA_BUNDLE: str(self.tls.ca_path)}

    def app_settings(self, **overrides: str) -> dict[str, str]:
        """Every storage and identity setting of an identity-only app; the destination is a container URL
        without SAS on the same account."""
        settings = {
            **self.storage_settings(),
            **self.platform_settings(),
            "DESTINATION_CONTAINER_URL": f"{self.app_blob_endpoint}/transcripts",
        }
        settings.update(overrides)
        return settings

    def emulator_config(self, **options: Any) -> EmulatorConfig:
        """A Speech resource with local authentication disabled, trusting this endpoint's tokens."""
        return EmulatorConfig(
            storage_connection_string=self.azurite.connection_string,
            keys=(),
            token_public_key_pem=self.identity.public_key_pem,
            **options,
        )


@contextmanager
def identity_stack() -> Iterator[IdentityStack]:
    """Start the platform; this process trusts the run's CA (REQUESTS_CA_BUNDLE) until it stops."""
    workdir = Path(tempfile.mkdtemp(prefix="identity-stack-"))
    previous = os.environ.get(CA_BUNDLE)
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        tls = make_tls(workdir)
        os.environ[CA_BUNDLE] = str(tls.ca_path)
        stack.callback(_restore, CA_BUNDLE, previous)
        key = base64.b64encode(secrets.token_bytes(64)).decode("ascii")
        azurite = stack.enter_context(Azurite(tls=tls, oauth=True, accounts={APP_ACCOUNT: key}))
        identity = stack.enter_context(IdentityEndpoint(client_ids=(USER_ASSIGNED_CLIENT_ID,)))
        yield IdentityStack(tls, azurite, identity, key)


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
