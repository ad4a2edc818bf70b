"""The package index (PEP 691 JSON simple API) as a resolver provider, backed by the cache.

It answers which files a release has, fetches PEP 658 metadata, downloads wheels and sdists
(verified by sha256) and hands sdists to the builder. Answers that cannot change for a given
version (the chosen file, metadata by hash, wheels by hash) are cached on disk, so a warm build
asks the network nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from ..environment import Target, stale
from ..errors import ProviderFailure
from ..files import take, write_atomic
from ..http import Client, NotFound
from ..model.closure import Artifact
from ..model.wheelmeta import metadata as wheel_metadata, requires_dist
from . import artifacts
from .cache import DOWNLOADED, Cache
from .sdist import SdistBuilder

PEP691 = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class Materialized:
    """A wheel in the cache, ready to ship."""

    name: str
    version: str
    path: Path
    sha256: str
    size: int
    origin: str  # "downloaded" or "built"
    source: Artifact


class IndexProvider:
    def __init__(self, index_url: str, target: Target, cache: Cache, client: Client,
                 builder: SdistBuilder | None, work: Path | None, stats: dict | None = None,
                 fresh_builds: bool = False):
        """``fresh_builds``: every sdist is built again, whatever the cache holds, and the cache's
        record of what each built is left as it was (a rebuild, which must owe nothing to the
        build it checks)."""
        self.index_url = index_url.rstrip("/")
        self.fresh_builds = fresh_builds
        self._built_now: dict[str, Materialized] = {}  # this build's, by sdist sha256: one build each
        self.target = target
        self.cache = cache
        self.client = client
        self.builder = builder
        self.work = work
        # The file chosen for a pin is the index's and the interpreter's: another index (a mirror,
        # a test's) may publish other bytes under the same name, and its choice is its own.
        self.tags_digest = hashlib.sha256("\n".join([self.index_url, *target.tags]).encode()).hexdigest()[:12]
        self._rank = target.tag_rank()
        self._pages: dict[str, list[dict]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.stats = stats if stats is not None else {}

    def _count(self, what: str, n: int = 1) -> None:
        with self._guard:
            self.stats[what] = self.stats.get(what, 0) + n

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    # -- the index -------------------------------------------------------------------------
    def files(self, name: str) -> list[dict]:
        with self._lock("page:" + name):
            if name not in self._pages:
                url = f"{self.index_url}/{name}/"
                try:
                    data = self.client.get_bytes(url, accept=PEP691)
                except NotFound:
                    raise ProviderFailure(
                        "resolve", f"{name} is not on the index {self.index_url}",
                        "check the name's spelling in the constraints or the service file",
                    ) from None
                self._count("index_requests")
                self._pages[name] = json.loads(data)["files"]
            return self._pages[name]

    def versions(self, name: str) -> list[Version]:
        return artifacts.versions(self.files(name), self.target.version)

    def artifact(self, name: str, version: str) -> Artifact:
        path = self.cache.choice_path(self.target.interpreter, self.tags_digest, name, version)
        cached = self.cache.read_json(path)
        if cached:
            return Artifact(**cached)
        files = self.files(name)
        chosen = artifacts.choose(name, version, files, self._rank, self.target.version)
        if chosen is None:
            exists = any((artifacts.file_version(f["filename"]) or (None, None))[1] == Version(version) for f in files)
            if not exists:
                raise ProviderFailure(
                    "resolve", f"{name}=={version} does not exist on {self.index_url}",
                    f"fix the pin of {name}: see {self.index_url}/{name}/ for its releases",
                )
            excluded = artifacts.python_excluded(version, files, self.target.version)
            if excluded:
                raise ProviderFailure(
                    "resolve",
                    f"{name}=={version} has Requires-Python {' or '.join(excluded)}, which excludes the target "
                    f"interpreter, Python {self.target.version} ({self.target.interpreter}, {self.target.python} "
                    f"on {self.target.environment.distribution})",
                    f"pin a version of {name} whose Requires-Python admits Python {self.target.version}, "
                    "or build this release for a distribution whose python3 it admits",
                )
            raise ProviderFailure(
                "resolve",
                f"{name}=={version} has no wheel for {self.target.interpreter} on {self.target.platform} "
                f"(Python {self.target.version}) and no sdist",
                f"pin a version of {name} that supports Python {self.target.version}",
            )
        self.cache.write_json(path, chosen.as_dict())
        return chosen

    # -- metadata ---------------------------------------------------------------------------
    def requirements(self, artifact: Artifact) -> list[Requirement]:
        if artifact.kind == "wheel" and artifact.has_metadata:
            path = self.cache.metadata_path(artifact.sha256)
            if not path.is_file():
                try:
                    data = self.client.get_bytes(artifact.url + ".metadata")
                except NotFound:
                    data = wheel_metadata(self.materialize(artifact).path)
                self._count("metadata_requests")
                write_atomic(path, data)
            return requires_dist(path.read_bytes())
        return requires_dist(wheel_metadata(self.materialize(artifact).path))

    # -- files ------------------------------------------------------------------------------
    def materialize(self, artifact: Artifact) -> Materialized:
        """The cached wheel for ``artifact``: downloaded, or built from the sdist, once."""
        with self._lock("file:" + artifact.sha256):
            if artifact.kind == "wheel":
                return self._wheel(artifact)
            return self._built(artifact)

    def _wheel(self, a: Artifact) -> Materialized:
        path = self.cache.wheel_path(a.name, a.version, DOWNLOADED, a.sha256, a.filename)
        if not self.cache.verified(path, a.sha256):
            self.client.download(a.url, path, a.sha256)
            files, size_counter = "downloads", "downloaded_bytes"
        else:  # another point of the matrix (or an earlier build) fetched it: what sharing saves
            files, size_counter = "cache_hits", "cache_hit_bytes"
        size = path.stat().st_size
        self._count(files)
        self._count(size_counter, size)
        return Materialized(a.name, a.version, path, a.sha256, size, "downloaded", a)

    def _built(self, a: Artifact) -> Materialized:
        if a.sha256 in self._built_now:
            return self._built_now[a.sha256]
        record_path = self.cache.build_record(self.target.interpreter, a.sha256)
        record = self.cache.read_json(record_path)
        # A wheel built by another build lock than the release's is built again: the manifest
        # says which toolchain built the wheels, and must be true.
        lock = self.builder.lock
        if record and record.get("toolchain") == lock.sha256 and not self.fresh_builds:
            path = self.cache.wheel_path(a.name, a.version, self.target.interpreter, record["sha256"], record["filename"])
            if self.cache.verified(path, record["sha256"]):
                return Materialized(a.name, a.version, path, record["sha256"], path.stat().st_size, "built", a)
        sdist = self.sdist(a)
        work = Path(tempfile.mkdtemp(dir=self.work, prefix="sdist-"))
        try:
            built = self.builder.build(a.name, a.version, sdist, work)
            self._count("builds")
            self._check_built(a, built)
            # Taken by copy as it is hashed (the build chroot wrote it, and may still be writing
            # beside it): the cache holds the host's own file, under the digest of its bytes.
            incoming = self.cache.root / "incoming"  # the host's: build chroots see the cache read-only
            incoming.mkdir(parents=True, exist_ok=True)
            slot = Path(tempfile.mkdtemp(dir=incoming, prefix=stale.owned(stale.TAKE)))
            try:  # a refused or failed take leaves nothing there
                taken = slot / built.name
                digest = take(built, taken, self.target.environment.scratch)
                path = self.cache.wheel_path(a.name, a.version, self.target.interpreter, digest, built.name)
                path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(taken, path)
            finally:
                shutil.rmtree(slot, ignore_errors=True)
            if not self.fresh_builds:
                self.cache.write_json(record_path, {"filename": built.name, "sha256": digest, "sdist": a.filename,
                                                    "toolchain": lock.sha256})
        finally:
            shutil.rmtree(work, ignore_errors=True)
        made = self._built_now[a.sha256] = Materialized(a.name, a.version, path, digest, path.stat().st_size,
                                                        "built", a)
        return made

    def sdist(self, a: Artifact) -> Path:
        """The sdist in the cache, downloaded if need be; its sha256 the index's."""
        sdist = self.cache.sdist_path(a.sha256, a.filename)
        if not self.cache.verified(sdist, a.sha256):
            self.client.download(a.url, sdist, a.sha256)
            self._count("downloads")
            self._count("downloaded_bytes", sdist.stat().st_size)
        return sdist

    def _check_built(self, a: Artifact, wheel: Path) -> None:
        name, version, _, tags = parse_wheel_filename(wheel.name)
        if canonicalize_name(name) != a.name or version != Version(a.version):
            raise ProviderFailure("build", f"{a.filename} built {wheel.name}, not {a.name} {a.version}",
                                  # pbr's sdists without pbr build as 0.0.0: setup_requires, which only the
                                  # build itself says, is not in the build lock
                                  "if the sdist asks for a build requirement only as it builds (setup.py's "
                                  "setup_requires), add it to constraints.build_requires and run "
                                  "'venvdeb lock <release> --build-only'")
        if not any(str(t) in self._rank for t in tags):
            raise ProviderFailure("build", f"{a.filename} built {wheel.name}, which the target cannot install")
