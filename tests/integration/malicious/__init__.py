"""A malicious upstream, for issue 24 (upstream code never runs with the builder's privileges).

Two projects on a package index of their own (a PEP 691 JSON simple API on 127.0.0.1):

- ``evil-build`` 1.0, an sdist only, whose setup.py tries every attack when pip builds it
  (upstream/setup.py); its package is the service's, with the commands smoke runs;
- ``evil-pth`` 1.0, a wheel that ships ``evil_pth.pth`` (``import evil_pth``): every interpreter
  whose site-packages has it tries every attack as it starts (upstream/evil_pth/).

Both carry upstream/attacks.py and a ``targets.json`` made for one test (``Targets``): the paths
and port it attacks are the test's own, baked in when the sdist and the wheel are made, in the
test's directory, with the standard library. Without a targets.json the code does nothing.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import package_index as serve_index

UPSTREAM = Path(__file__).parent / "upstream"
ATTACKS = ("write_host_file", "read_key", "plant_in_cache", "reach_repository")
# Fixed times for the archives' members: nothing here depends on when the test ran.
EPOCH = (2026, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Targets:
    """What the upstream code attacks, as the host has it."""

    host_dir: Path  # attack 1: it writes a file here (named after the run), which must not appear
    gnupghome: Path  # attack 2: it reads the repository's signing key from here
    cache_plant_dir: Path  # attack 3: it plants a file here (in --cache-dir's wheels/), which must not appear
    repo_port: int  # attack 4: the repository's HTTP server on 127.0.0.1
    server_says: str  # what that server answers to /evil/..., so a reply from it is known
    token: str  # in the names of what it leaves: this test's, and no other's

    @property
    def marks_dir(self) -> str:
        """Where the code leaves its marks where it runs (a chroot's own /tmp, inside one)."""
        return f"/tmp/evil-marks-{self.token}"

    def as_json(self) -> bytes:
        return json.dumps({"host_dir": str(self.host_dir), "gnupghome": str(self.gnupghome),
                           "cache_plant_dir": str(self.cache_plant_dir), "repo_port": self.repo_port,
                           "server_says": self.server_says, "token": self.token,
                           "marks_dir": self.marks_dir}, indent=1).encode()


def _code(name: str) -> bytes:
    return (UPSTREAM / name).read_bytes()


def sdist(targets: Targets, dest: Path) -> Path:
    """evil-build-1.0.tar.gz in ``dest``."""
    top = "evil-build-1.0"
    files = {
        "PKG-INFO": b"Metadata-Version: 2.1\nName: evil-build\nVersion: 1.0\nSummary: Tries everything\n",
        "pyproject.toml": b'[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n',
        "setup.py": _code("setup.py"),
        "evil_build/__init__.py": _code("evil_build/__init__.py"),
        "evil_build/attacks.py": _code("attacks.py"),
        "evil_build/targets.json": targets.as_json(),
    }
    path = dest / f"{top}.tar.gz"
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size, info.mode, info.mtime = len(data), 0o644, 1767225600
            tar.addfile(info, io.BytesIO(data))
    return path


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def wheel(targets: Targets, dest: Path) -> Path:
    """evil_pth-1.0-py3-none-any.whl in ``dest``: the .pth, the package it imports, and the
    .dist-info a wheel needs (METADATA, WHEEL, RECORD)."""
    dist = "evil_pth-1.0.dist-info"
    files = {
        "evil_pth.pth": b"import evil_pth\n",
        "evil_pth/__init__.py": _code("evil_pth/__init__.py"),
        "evil_pth/attacks.py": _code("attacks.py"),
        "evil_pth/targets.json": targets.as_json(),
        f"{dist}/METADATA": b"Metadata-Version: 2.1\nName: evil-pth\nVersion: 1.0\nSummary: A .pth that tries\n",
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: venvdeb-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in files.items())
    files[f"{dist}/RECORD"] = (record + f"{dist}/RECORD,,\n").encode()
    path = dest / "evil_pth-1.0-py3-none-any.whl"
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name, date_time=EPOCH), data)
    return path


PROJECTS = {"evil-build": "evil-build-1.0.tar.gz", "evil-pth": "evil_pth-1.0-py3-none-any.whl"}


def package_index(files: Path):
    """A PEP 691 index on 127.0.0.1 of the two projects, from their files in ``files``, each with
    its sha256 as the index states it; yields the index URL."""
    published = {name: {filename: (files / filename).read_bytes()} for name, filename in PROJECTS.items()}
    return serve_index(lambda: published)
