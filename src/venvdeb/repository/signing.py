"""The repository's signing keys: a GNUPGHOME and fingerprints.

Production gives both (a key made and guarded elsewhere). The demo and the tests make a
throwaway key with no passphrase, and export its public keyring for apt's Signed-By. A key
venvdeb makes expires (``EXPIRES``): `venvdeb repo rotate-key` brings in the next one, and for a
while the repository is signed by both.
"""

from __future__ import annotations

import datetime
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import ToolError
from ..files import write_atomic


@dataclass(frozen=True)
class Key:
    gnupghome: Path
    fingerprint: str

    def env(self) -> dict:
        return {**os.environ, "GNUPGHOME": str(self.gnupghome)}


def gpg(home: Path, *args: str, input: bytes | None = None) -> bytes:
    proc = subprocess.run(["gpg", "--batch", "--no-tty", "--homedir", str(home), *args], input=input,
                          capture_output=True)
    if proc.returncode != 0:
        raise ToolError(f"gpg {' '.join(args)} failed: {proc.stderr.decode(errors='replace')[-800:]}")
    return proc.stdout


EXPIRES = "2y"  # a key venvdeb makes is rotated before then (repo rotate-key)


def make_throwaway(home: Path, name: str = "venvdeb throwaway repository key", expires: str = EXPIRES) -> Key:
    """A new ed25519 signing key without passphrase, for the demo and tests only."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(home, 0o700)
    before = set(fingerprints(home)) if (home / "pubring.kbx").exists() else set()
    # --yes: a key of the same name may be there already (the one a rotation replaces).
    gpg(home, "--yes", "--passphrase", "", "--quick-generate-key", f"{name} <repo@venvdeb.invalid>", "ed25519", "sign",
        expires)
    (made,) = set(fingerprints(home)) - before
    return Key(home, made)


def expiry(home: Path, fingerprint: str) -> datetime.datetime | None:
    """When the key expires (UTC), or None if it never does."""
    for line in gpg(home, "--with-colons", "--list-keys", fingerprint).decode().splitlines():
        fields = line.split(":")
        if fields[0] == "pub":
            return datetime.datetime.fromtimestamp(int(fields[6]), datetime.timezone.utc) if fields[6] else None
    return None


def user_id(home: Path, fingerprint: str) -> str:
    """The key's first user id ("name <email>")."""
    for line in gpg(home, "--with-colons", "--list-keys", fingerprint).decode().splitlines():
        fields = line.split(":")
        if fields[0] == "uid":
            return fields[9].replace("\\x3a", ":")
    return fingerprint


def fingerprints(home: Path) -> list[str]:
    """Fingerprints of the primary secret keys (not of their subkeys)."""
    found, primary = [], False
    for line in gpg(home, "--with-colons", "--list-secret-keys").decode().splitlines():
        kind = line.split(":")[0]
        if kind == "sec":
            primary = True
        elif kind == "fpr" and primary:
            found.append(line.split(":")[9])
            primary = False
    return found


def public_keyring(home: Path, fingerprints_: list[str]) -> bytes:
    """The public keys as a binary keyring, as apt's Signed-By wants it."""
    return gpg(home, "--export", *fingerprints_)


def export_keyring(key: Key, dest: Path, fingerprints_: list[str] | None = None) -> Path:
    """The public keys (the key's own, or those given) as a keyring file."""
    write_atomic(dest, public_keyring(key.gnupghome, fingerprints_ or [key.fingerprint]))  # apt may be reading it now
    return dest


def stop_agent(home: Path) -> None:
    """gpg starts an agent per home directory; whoever made a throwaway home stops it."""
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True)


def sign_release(key: Key, release: Path, fingerprints_: list[str] | None = None) -> None:
    """InRelease and Release.gpg beside ``release``, as reprepro's SignWith writes them: the
    Release inline-signed, and a detached armoured signature of it; by each key of
    ``fingerprints_`` (the repository's SignWith), or by ``key``."""
    data = release.read_bytes()
    users = [option for fpr in (fingerprints_ or [key.fingerprint]) for option in ("--local-user", fpr)]
    sign = (*users, "--digest-algo", "SHA512")
    write_atomic(release.with_name("InRelease"), gpg(key.gnupghome, *sign, "--clearsign", input=data))
    write_atomic(release.with_name("Release.gpg"), gpg(key.gnupghome, *sign, "--detach-sign", "--armor", input=data))
