"""A constraint override end to end: `venvdeb lock` compiles the lock under the upstream file with
the override applied (the closure resolved around it, with the index's hashes), and the
wheelhouse built from that lock says so in its changelog and its manifest."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from debian.changelog import Changelog

from venvdeb.model.constraints import load_file
from .conftest import TINY_UC

pytestmark = [pytest.mark.integration, pytest.mark.network]

REASON = "idna 3.10 is the fixed release; upstream's file still pins 3.9"
LOCKED = """
[constraints]
kind = "lock"
path = "locks/t1.txt"
requirements_in = "locks/t1.in"

[constraints.overrides.idna]
version = "3.10"
reason = "{reason}"
"""


def test_an_override_is_compiled_into_the_lock_and_shown_by_the_wheelhouse(make_root, venvdeb, tmp_path, cache_dir):
    root = make_root(TINY_UC.replace("idna===3.10", "idna===3.9"), {"svc": ("requests", "2.32.4")})
    release = root / "releases" / "t1.toml"
    text = release.read_text()
    start, end = text.index("[constraints]"), text.index("[suites]")
    release.write_text(text[:start] + LOCKED.format(reason=REASON).lstrip() + "\n" + text[end:])
    (root / "locks").mkdir(exist_ok=True)  # (make_root wrote the build lock there)
    lock = subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(root), "lock", "t1", "--constraint",
                           str(root / "upper-constraints.txt"), "--cache-dir", str(cache_dir)],
                          capture_output=True, text=True)
    assert lock.returncode == 0, lock.stderr
    pins = {p.name: p for p in load_file(root / "locks" / "t1.txt").pins}
    assert pins["idna"].version == "3.10" and pins["idna"].hashes  # the override, with the index's hashes
    assert pins["urllib3"].version == "1.26.20" and pins["requests"].version == "2.32.4"  # nothing else moved

    code, result, err = venvdeb("wheelhouse", "build", "t1", root=root)
    assert code == 0, err
    changelog = Changelog(shipped_changelog(Path(result["deb"]), tmp_path))
    assert f"Constraint override: idna 3.10: {REASON}" in " ".join(" ".join(changelog[0].changes()).split())
    manifest = json.loads(Path(result["deb"]).with_name(f"test-wheelhouse-t1_{result['version']}.manifest.json").read_text())
    assert manifest["overrides"] == [{"name": "idna", "version": "3.10", "reason": REASON}]
    assert {w["name"]: w["version"] for w in manifest["wheels"]}["idna"] == "3.10"

    # upstream catches up: the next compile says the override is no longer needed.
    (root / "upper-constraints.txt").write_text(TINY_UC)
    again = subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(root), "lock", "t1", "--constraint",
                            str(root / "upper-constraints.txt"), "--cache-dir", str(cache_dir)],
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "pins idna 3.10 itself: the override in" in again.stderr and "is no longer needed" in again.stderr


def shipped_changelog(deb: Path, tmp_path: Path) -> str:
    """The package's debian/changelog, as dpkg installs it."""
    dest = tmp_path / "unpacked"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)
    (found,) = dest.glob("usr/share/doc/*/changelog*.gz")
    return gzip.decompress(found.read_bytes()).decode()
