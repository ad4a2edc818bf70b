"""The content-addressed cache of wheels, sdists, index answers and metadata.

Layout under the cache root::

    wheels/<name>/<version>/downloaded/<sha256>/<file>.whl     a wheel from the index, by sha256
    wheels/<name>/<version>/<interpreter>/<sha256>/<file>.whl  a wheel built from an sdist
    sdists/<sha256>/<file>
    builds/<interpreter>/<sdist sha256>.json      which wheel an sdist built into
    choices/<interpreter>/<tags digest>/<name>/<version>.json   the file chosen for the target
    metadata/<sha256>.METADATA                    PEP 658 metadata, by the wheel's sha256
    buildenv/<interpreter identity>/              the target's build environment

A downloaded wheel is the same file for every interpreter that can use it, so every release and
distribution shares it: a pure-Python wheel is downloaded once for bookworm's 3.11 and trixie's
3.13. A wheel built from an sdist belongs to the interpreter that built it.

Every file is checked against the sha256 in its path before use: a corrupted entry is removed
and fetched again, never shipped.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..files import sha256_file, write_atomic
from ..progress import say


DOWNLOADED = "downloaded"  # the interpreter part of a downloaded wheel's path: any of them


class Cache:
    def __init__(self, root: Path, log=say):
        self.root = Path(root)
        self.log = log

    def wheel_path(self, name: str, version: str, interpreter: str, sha256: str, filename: str) -> Path:
        return self.root / "wheels" / name / version / interpreter / sha256 / filename

    def sdist_path(self, sha256: str, filename: str) -> Path:
        return self.root / "sdists" / sha256 / filename

    def build_record(self, interpreter: str, sdist_sha256: str) -> Path:
        return self.root / "builds" / interpreter / f"{sdist_sha256}.json"

    def choice_path(self, interpreter: str, tags_digest: str, name: str, version: str) -> Path:
        return self.root / "choices" / interpreter / tags_digest / name / f"{version}.json"

    def metadata_path(self, sha256: str) -> Path:
        return self.root / "metadata" / f"{sha256}.METADATA"

    def verified(self, path: Path, sha256: str) -> bool:
        """True if ``path`` exists with the expected content; a corrupted file is removed."""
        if not path.is_file():
            return False
        got = sha256_file(path)
        if got == sha256:
            return True
        self.log(f"cache: {path.name} is corrupted (sha256 {got[:12]}…, expected {sha256[:12]}…); fetching it again")
        path.unlink()
        return False

    def read_json(self, path: Path):
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def write_json(self, path: Path, data) -> None:
        write_atomic(path, json.dumps(data, sort_keys=True, indent=1).encode())
