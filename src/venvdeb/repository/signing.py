"""The repository's signing key: a GNUPGHOME and a fingerprint.

Production gives both (a key made and guarded elsewhere). The demo and the tests make a
throwaway key with no passphrase, and export its public keyring for apt's Signed-By.
"""

from __future__ import annotations

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


def make_throwaway(home: Path, name: str = "venvdeb throwaway repository key") -> Key:
    """A new ed25519 signing key without passphrase, for the demo and tests only."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(home, 0o700)
    gpg(home, "--passphrase", "", "--quick-generate-key", f"{name} <repo@venvdeb.invalid>", "ed25519", "sign", "never")
    return Key(home, fingerprints(home)[-1])


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


def export_keyring(key: Key, dest: Path) -> Path:
    """The public key as a binary keyring file, as apt's Signed-By wants it."""
    write_atomic(dest, gpg(key.gnupghome, "--export", key.fingerprint))  # apt may be reading it now
    return dest


def stop_agent(home: Path) -> None:
    """gpg starts an agent per home directory; whoever made a throwaway home stops it."""
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True)


def sign_release(key: Key, release: Path) -> None:
    """InRelease and Release.gpg beside ``release``, as reprepro's SignWith writes them: the
    Release inline-signed, and a detached armoured signature of it."""
    data = release.read_bytes()
    sign = ("--local-user", key.fingerprint, "--digest-algo", "SHA512")
    write_atomic(release.with_name("InRelease"), gpg(key.gnupghome, *sign, "--clearsign", input=data))
    write_atomic(release.with_name("Release.gpg"), gpg(key.gnupghome, *sign, "--detach-sign", "--armor", input=data))
