"""`venvdeb wheelhouse fetch`: take a release's wheelhouse .deb from the signed staging suite.

A Buildbot worker builds a service against the wheelhouse that was published, not against one it
built itself, so any worker can build any service. The chain of trust is apt's: InRelease is
checked with gpgv against a keyring given out of band (Buildbot sends the master's copy over the
authenticated worker connection, not over this HTTP), the Packages index is checked against the
SHA256 that InRelease lists for it, and the .deb against the SHA256 that the index lists for it.

A good signature is not enough over plain HTTP: an old InRelease, once signed, stays signed. So
InRelease must name the suite asked for (Codename and Suite), carry a Valid-Until still in the
future, and (with ``seen``, a directory the worker keeps) be no older than the newest one this
worker has already accepted from that repository and suite.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import subprocess
import tempfile
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote

from debian.deb822 import Packages, Release
from debian.debian_support import Version

from ..environment import Host
from ..errors import VenvdebError
from ..files import write_atomic
from ..http import Client, NotFound
from ..model import Point
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


def _date(release: Release, field: str, suite: str) -> datetime:
    try:
        return _utc(parsedate_to_datetime(release[field]))
    except (KeyError, TypeError, ValueError):
        raise VenvdebError(f"{suite}: InRelease has no valid {field} field",
                           hint="run 'venvdeb repo init' then 'venvdeb repo refresh' on the master "
                           "(suites are signed with a Valid-Until)") from None


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)  # "-0000": UTC, says RFC 2822


def _seen(mark: Path) -> datetime | None:
    try:
        return _utc(parsedate_to_datetime(mark.read_text().strip())) if mark.is_file() else None
    except (TypeError, ValueError):
        return None  # a mark this worker cannot read protects nothing: the next fetch rewrites it


def check_fresh(release: Release, suite: str, seen: Path | None = None, now: datetime | None = None) -> datetime:
    """Refuse an InRelease of another suite, an expired one, and one older than the last seen.
    Returns its Date."""
    names = {release.get("Codename"), release.get("Suite")}
    if names != {suite}:
        raise VenvdebError(f"InRelease for {suite} is signed for {', '.join(sorted(n for n in names if n))}",
                           hint="the server answered with another suite's InRelease: misconfigured, or an attack")
    now = now or datetime.now(timezone.utc)
    date, valid_until = _date(release, "Date", suite), _date(release, "Valid-Until", suite)
    if valid_until <= now:
        raise VenvdebError(f"{suite}: InRelease expired at {release['Valid-Until']}",
                           hint="run 'venvdeb repo refresh' on the master (Buildbot runs it nightly); "
                           "or the server replays an old InRelease")
    if seen is not None:
        mark = seen / f"{suite}.date"
        newest = _seen(mark)
        if newest is not None:
            if date < newest:
                raise VenvdebError(f"{suite}: InRelease of {release['Date']} is older than one already seen "
                                   f"({mark.read_text().strip()})", hint="the server replays an old InRelease")
    return date


def index_digests(release: Release) -> dict[str, tuple[str, int]]:
    return {entry["name"]: (entry["sha256"], int(entry["size"])) for entry in release.get("SHA256", [])}


def pick(stanzas: list[Packages], package: str, version: str | None) -> Packages:
    found = [s for s in stanzas if s["Package"] == package and (version is None or s["Version"] == version)]
    if not found:
        raise VenvdebError(f"the staging suite has no {package}{' ' + version if version else ''}",
                           hint="publish the wheelhouse first (the wheelhouse builder does)")
    return max(found, key=lambda s: Version(s["Version"]))


def fetch(point: Point, repo_url: str, keyring: Path, out_dir: Path, version: str | None = None,
          architecture: str | None = None, client: Client | None = None, seen_dir: Path | None = None) -> FetchResult:
    """``seen_dir``: where this worker keeps the Date of the newest InRelease it accepted, per repository."""
    client = client or Client()
    base = repo_url.rstrip("/")
    suite = point.staging_suite
    arch = architecture or Host().architecture
    try:
        inrelease = client.get_bytes(f"{base}/dists/{suite}/InRelease")
    except NotFound:
        raise VenvdebError(f"{base}: no suite {suite}", hint="run 'venvdeb repo init' on the master") from None
    signed = verified_release(inrelease, keyring)
    seen = Path(seen_dir) / quote(base, safe="") if seen_dir else None
    check_fresh(signed, suite, seen)
    digests = index_digests(signed)
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
    stanza = pick(stanzas, point.wheelhouse_package, version)
    dest = Path(out_dir) / Path(stanza["Filename"]).name
    client.download(f"{base}/{stanza['Filename']}", dest, sha256=stanza["SHA256"])
    if dest.stat().st_size != int(stanza["Size"]):
        dest.unlink()
        raise VenvdebError(f"{stanza['Filename']}: size differs from the index")
    if seen is not None:
        newest = _seen(seen / f"{suite}.date")
        if newest is None or _date(signed, "Date", suite) > newest:  # a fetch beside this one may have seen a newer
            write_atomic(seen / f"{suite}.date", signed["Date"].encode())
    return FetchResult(package=stanza["Package"], version=stanza["Version"], deb=str(dest), sha256=stanza["SHA256"],
                       deb_size=int(stanza["Size"]), suite=suite, repo_url=base)
