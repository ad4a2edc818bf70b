"""`venvdeb wheelhouse verify`: a wheelhouse .deb checked by whoever publishes it, not its builder.

Every service build installs the wheelhouse as root, from staging; so it is a gate, and a
wheelhouse is published only once it passed (repository/gates.py). The builder's manifest is
believed for names only:

- the payload is exactly the manifest's wheels (beside manifest.json, SHA256SUMS and
  constraints.txt), each with the manifest's sha256, which SHA256SUMS repeats;
- each downloaded wheel's sha256 is the one the release's index publishes for that file;
- each wheel built from an sdist was built from a file whose sha256 the index publishes. The
  wheel's own bytes are its builder's: an independent rebuild of them is not done here.

The index is asked by the verifier itself (PEP 691 JSON), one page per project, in parallel.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from debian.debfile import DebFile

from ..errors import VenvdebError
from ..http import Client, NotFound
from ..model import Point
from ..model.manifest import Manifest, WheelItem, wheel_dir
from ..model.results import WheelhouseVerified
from .index import PEP691

EXTRA_FILES = {"manifest.json", "SHA256SUMS", "constraints.txt"}


def payload(deb: Path, install_dir: str) -> tuple[dict[str, str], dict[str, bytes]]:
    """The sha256 of each regular file of the wheelhouse directory in ``deb``, and the bytes of its
    small files (EXTRA_FILES). Anything else there (a link, a directory) is refused."""
    package = DebFile(str(deb))
    prefix = install_dir.strip("/") + "/"
    digests, small = {}, {}
    tar = package.data.tgz()
    for member in tar:
        name = member.name.removeprefix("./")
        if not name.startswith(prefix) or name == prefix.rstrip("/"):
            continue
        inside = name[len(prefix):].rstrip("/")
        if not member.isfile() or "/" in inside:
            raise VenvdebError(f"{deb}: {member.name} is not a file of the wheelhouse's own",
                               hint="build the wheelhouse again with venvdeb")
        digest = hashlib.sha256()
        with tar.extractfile(member) as src:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                if inside in EXTRA_FILES:
                    small[inside] = small.get(inside, b"") + chunk
        digests[inside] = digest.hexdigest()
    return digests, small


def payload_failures(digests: dict[str, str], small: dict[str, bytes], manifest: Manifest) -> list[str]:
    """What in the payload differs from its own manifest."""
    failures = []
    wheels = {w.file: w for w in manifest.wheels}
    for name in sorted(set(digests) - set(wheels) - EXTRA_FILES):
        failures.append(f"{name}: in the package, not in its manifest")
    for name, wheel in sorted(wheels.items()):
        if name not in digests:
            failures.append(f"{name}: in the manifest, not in the package")
        elif digests[name] != wheel.sha256:
            failures.append(f"{name}: sha256 {digests[name]}, the manifest says {wheel.sha256}")
    sums = {}
    for line in small.get("SHA256SUMS", b"").decode(errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        sums[name.strip()] = digest.strip()
    for name, wheel in sorted(wheels.items()):
        if sums.get(name) != wheel.sha256:
            failures.append(f"{name}: SHA256SUMS says {sums.get(name) or 'nothing'}, the manifest {wheel.sha256}")
    return failures


def published(index_url: str, wheel: WheelItem, client: Client) -> tuple[str, str]:
    """(the file the index is asked about, the sha256 it publishes for it, or why none)."""
    if wheel.origin == "built":
        source = wheel.source or {}
        if not source.get("url") or not source.get("file"):
            return wheel.file, f"no index file to check: built from {source.get('git') or 'an unknown source'}"
        name, expected = source["file"], source.get("sha256", "")
    else:
        name, expected = wheel.file, wheel.sha256
    try:
        files = json.loads(client.get_bytes(f"{index_url.rstrip('/')}/{wheel.name}/", accept=PEP691))["files"]
    except NotFound:
        return name, f"{wheel.name} is not on the index {index_url}"
    except (VenvdebError, ValueError, KeyError) as exc:
        return name, f"the index's page of {wheel.name} could not be read: {exc}"
    found = [f.get("hashes", {}).get("sha256") for f in files if f.get("filename") == name]
    if not found:
        return name, f"the index {index_url} has no {name}"
    if found[0] != expected:
        return name, f"the index publishes sha256 {found[0]}, the wheelhouse has {expected}"
    return name, ""


def verify(point: Point, deb: Path, client: Client | None = None, jobs: int = 8) -> WheelhouseVerified:
    control = DebFile(str(deb)).debcontrol()
    package, version = control["Package"], control["Version"]
    if package != point.wheelhouse_package:
        raise VenvdebError(f"{deb}: {package} is not release {point.name}'s wheelhouse ({point.wheelhouse_package})")
    install_dir = "/" + wheel_dir(point.name)
    digests, small = payload(deb, install_dir)
    if "manifest.json" not in small:
        raise VenvdebError(f"{deb}: no {install_dir}/manifest.json: not a venvdeb wheelhouse")
    manifest = Manifest.from_json(small["manifest.json"].decode(errors="replace"), f"{deb}: {install_dir}/manifest.json")
    failures = payload_failures(digests, small, manifest)
    client = client or Client()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        answers = list(pool.map(lambda w: (w, *published(point.index_url, w, client)), manifest.wheels))
    failures += [f"{w.file}: {problem}" for w, _, problem in answers if problem]
    return WheelhouseVerified(package=package, version=version, wheels=len(manifest.wheels),
                              downloaded=sum(1 for w in manifest.wheels if w.origin != "built"),
                              built=sum(1 for w in manifest.wheels if w.origin == "built"),
                              index=point.index_url, failures=failures)
