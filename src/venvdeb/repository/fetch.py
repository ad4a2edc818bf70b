"""`venvdeb wheelhouse fetch`: take a release's wheelhouse .deb from the signed staging suite.

A Buildbot worker builds a service against the wheelhouse that was published, not against one it
built itself, so any worker can build any service. The chain of trust is apt's: InRelease is
checked with gpgv against a keyring given out of band (Buildbot sends the master's copy over the
authenticated worker connection, not over this HTTP), the Packages index is checked against the
SHA256 that InRelease lists for it, and the .deb against the SHA256 that the index lists for it.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import subprocess
import tempfile
from pathlib import Path

from debian.deb822 import Packages, Release
from debian.debian_support import Version

from ..environment import Host
from ..errors import VenvdebError
from ..http import Client, NotFound
from ..model import Release as VenvdebRelease
from ..model.results import FetchResult

# Tried in this order: reprepro writes all three by default; the compressed ones are smaller.
INDEX_NAMES = (("Packages.xz", lzma.decompress), ("Packages.gz", gzip.decompress), ("Packages", bytes))


def verified_release(inrelease: bytes, keyring: Path) -> Release:
    """The content of InRelease, only if its signature is good and made by a key of ``keyring``."""
    with tempfile.TemporaryDirectory(prefix="venvdeb-gpgv-") as tmp:
        signed = Path(tmp) / "InRelease"
        signed.write_bytes(inrelease)
        out = Path(tmp) / "Release"
        proc = subprocess.run(["gpgv", "--keyring", str(Path(keyring).resolve()), "--output", str(out), str(signed)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise VenvdebError(f"InRelease: bad or unknown signature:\n{proc.stderr.strip()[-1500:]}",
                               hint="is --keyring the repository's keyring (venvdeb-archive-keyring.gpg)?")
        return Release(out.read_bytes())


def index_digests(release: Release) -> dict[str, tuple[str, int]]:
    return {entry["name"]: (entry["sha256"], int(entry["size"])) for entry in release.get("SHA256", [])}


def pick(stanzas: list[Packages], package: str, version: str | None) -> Packages:
    found = [s for s in stanzas if s["Package"] == package and (version is None or s["Version"] == version)]
    if not found:
        raise VenvdebError(f"the staging suite has no {package}{' ' + version if version else ''}",
                           hint="publish the wheelhouse first (the wheelhouse builder does)")
    return max(found, key=lambda s: Version(s["Version"]))


def fetch(release: VenvdebRelease, repo_url: str, keyring: Path, out_dir: Path, version: str | None = None,
          architecture: str | None = None, client: Client | None = None) -> FetchResult:
    client = client or Client()
    base = repo_url.rstrip("/")
    suite = release.staging_suite
    arch = architecture or Host().architecture
    try:
        inrelease = client.get_bytes(f"{base}/dists/{suite}/InRelease")
    except NotFound:
        raise VenvdebError(f"{base}: no suite {suite}", hint="run 'venvdeb repo init' on the master") from None
    digests = index_digests(verified_release(inrelease, keyring))
    stanzas = None
    for name, decompress in INDEX_NAMES:
        path = f"main/binary-{arch}/{name}"
        if path not in digests:
            continue
        raw = client.get_bytes(f"{base}/dists/{suite}/{path}")
        sha, size = digests[path]
        if hashlib.sha256(raw).hexdigest() != sha or len(raw) != size:
            raise VenvdebError(f"{base}/dists/{suite}/{path}: does not match the signed InRelease",
                               hint="the repository is being written or was tampered with; try again")
        stanzas = list(Packages.iter_paragraphs(decompress(raw).decode(), use_apt_pkg=False))
        break
    if stanzas is None:
        raise VenvdebError(f"{suite}: InRelease lists no Packages index for main/binary-{arch}")
    stanza = pick(stanzas, release.wheelhouse_package, version)
    dest = Path(out_dir) / Path(stanza["Filename"]).name
    client.download(f"{base}/{stanza['Filename']}", dest, sha256=stanza["SHA256"])
    if dest.stat().st_size != int(stanza["Size"]):
        dest.unlink()
        raise VenvdebError(f"{stanza['Filename']}: size differs from the index")
    return FetchResult(package=stanza["Package"], version=stanza["Version"], deb=str(dest), sha256=stanza["SHA256"],
                       deb_size=int(stanza["Size"]), suite=suite, repo_url=base)
