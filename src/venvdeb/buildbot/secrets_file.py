"""The farm's secrets, through Buildbot's secrets mechanism: a secret provider that reads the
secrets file (TOML, mode 0600, never committed) when a secret is asked for, so nothing secret is
kept in the loaded configuration. Worker passwords are ``util.Secret("workers/<name>")``, rendered
by Buildbot; web logins are checked against ``users/<login>`` by the same provider, which holds
each login's password hashed (scrypt, salted: ``hash_password``), never the password itself.
Worker passwords stay as they are: Buildbot's worker protocol needs them to answer its challenge."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
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


SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # the cost the standard library's hashlib.scrypt documents


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$<n>$<r>$<p>$<salt>$<hash>``: what the secrets file keeps of a login's password."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT, dklen=32)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${_b64(salt)}${_b64(digest)}"


def hashed(value: str) -> bool:
    return value.startswith("scrypt$") and value.count("$") == 5


def password_matches(stored: str, password: bytes) -> bool:
    """``password`` is the one ``stored`` (hash_password's) was made from; compared in constant time."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest, validate=True)
        got = hashlib.scrypt(password, salt=base64.b64decode(salt, validate=True), n=int(n), r=int(r), p=int(p),
                             dklen=len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


class SecretsFileAuth(CustomAuth):
    """Basic auth against the provider's ``users/<login>``: the hash of its password."""

    def __init__(self, provider: SecretsFile, **kwargs):
        super().__init__(**kwargs)
        self.provider = provider

    def check_credentials(self, username: bytes, password: bytes) -> bool:
        known = self.provider.get(f"users/{username.decode(errors='replace')}")
        return known is not None and hashed(known) and password_matches(known, password)


def main() -> None:
    """``python -m venvdeb.buildbot.secrets_file``: the hash of a password typed (or piped), for a
    login's line in the secrets file's [users] table."""
    import getpass
    import sys

    typed = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if not typed:
        sys.exit("no password given")
    print(hash_password(typed))


if __name__ == "__main__":
    main()
