"""The farm's secrets, through Buildbot's secrets mechanism: a secret provider that reads the
secrets file (TOML, mode 0600, never committed) when a secret is asked for, so nothing secret is
kept in the loaded configuration. Worker passwords are ``util.Secret("workers/<name>")``, rendered
by Buildbot; web logins are checked against ``users/<login>`` by the same provider."""

from __future__ import annotations

import hmac
from pathlib import Path

from buildbot.secrets.providers.base import SecretProviderBase
from buildbot.www.auth import CustomAuth

from .settings import load_secrets

KINDS = ("workers", "users")


class SecretsFile(SecretProviderBase):
    """``workers/<name>`` and ``users/<login>`` from the secrets file."""

    name: str | None = "venvdeb-secrets-file"  # type: ignore[assignment]

    def __init__(self, path=None, **kwargs):
        self.path = Path(path) if path else None  # the web login checks before any reconfig
        super().__init__(path=path, **kwargs)

    def checkConfig(self, path=None, **kwargs):
        if not path:
            from buildbot import config

            config.error("SecretsFile: path is required")

    def reconfigService(self, path=None, **kwargs):
        self.path = Path(path)

    def get(self, entry: str) -> str | None:
        """Synchronous, as SecretInAFile's: Buildbot's secrets manager and the web login both call it."""
        kind, _, key = entry.partition("/")
        if kind not in KINDS:
            return None
        secrets = load_secrets(self.path)
        return (secrets.workers if kind == "workers" else secrets.users).get(key)


class SecretsFileAuth(CustomAuth):
    """Basic auth against the provider's ``users/<login>``, compared in constant time."""

    def __init__(self, provider: SecretsFile, **kwargs):
        super().__init__(**kwargs)
        self.provider = provider

    def check_credentials(self, username: bytes, password: bytes) -> bool:
        known = self.provider.get(f"users/{username.decode(errors='replace')}")
        return known is not None and hmac.compare_digest(known.encode(), password)
