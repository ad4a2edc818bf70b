"""The lint gate with real lintian on the smallest real package: dpkg-deb builds it here."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from venvdeb.gates import lint

pytestmark = [pytest.mark.integration]

CONTROL = """\
Package: tiny
Version: 1.0
Architecture: all
Section: misc
Priority: optional
Maintainer: Venvdeb Test <test@example.org>
Description: smallest package for checking lint severities
 This package exists only so that a test can show which lintian
 severities make the gate fail. It ships one data file and its
 documentation, and nothing else at all.
"""
CHANGELOG = """\
tiny (1.0) unstable; urgency=medium

  * Initial release.

 -- Venvdeb Test <test@example.org>  Mon, 23 Nov 2026 00:00:00 +0000
"""


def tiny_deb(where: Path) -> Path:
    """Clean at lintian's default levels; one pedantic tag: repeated-path-segment (usr/share/tiny/tiny/)."""
    import gzip
    import hashlib

    root = where / "tiny"
    doc = root / "usr/share/doc/tiny"
    doc.mkdir(parents=True)
    (doc / "copyright").write_bytes(Path("/usr/share/doc/dpkg/copyright").read_bytes())
    (doc / "changelog.gz").write_bytes(gzip.compress(CHANGELOG.encode(), mtime=0))
    data = root / "usr/share/tiny/tiny/data"
    data.parent.mkdir(parents=True)
    data.write_text("data\n")
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN/control").write_text(CONTROL)
    files = sorted(p for p in root.rglob("*") if p.is_file() and "DEBIAN" not in p.parts)
    (root / "DEBIAN/md5sums").write_text("".join(
        f"{hashlib.md5(p.read_bytes()).hexdigest()}  {p.relative_to(root)}\n" for p in files))
    deb = where / "tiny_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(root), str(deb)], check=True, capture_output=True)
    return deb


def test_a_gate_that_fails_on_pedantic_sees_pedantic_tags(tmp_path):
    deb = tiny_deb(tmp_path)
    assert lint.run(deb).passed  # errors and warnings: none
    strict = lint.run(deb, ("error", "warning", "pedantic"))
    assert not strict.passed
    assert strict.failing() == ["pedantic: tiny: repeated-path-segment tiny [usr/share/tiny/tiny/]"]


def test_the_hosts_lintianrc_does_not_change_the_gate(tmp_path):
    """A host lintianrc that suppresses the tag hides it from plain lintian, not from the gate."""
    rc = Path("/etc/lintianrc")
    kept = rc.read_bytes() if rc.exists() else None
    deb = tiny_deb(tmp_path)
    try:
        rc.write_text("suppress-tags = repeated-path-segment\n")
        plain = subprocess.run(["lintian", "--pedantic", str(deb)], capture_output=True, text=True,
                               env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"})
        assert "repeated-path-segment" not in plain.stdout  # the host's file is read by lintian...
        assert not lint.run(deb, ("error", "warning", "pedantic")).passed  # ...and not by the gate
    finally:
        if kept is None:
            rc.unlink()
        else:
            rc.write_bytes(kept)
