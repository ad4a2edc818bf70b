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


def trip_deb(where: Path) -> Path:
    """A package made to trip lintian at every severity: no changelog or copyright file (errors),
    a synopsis starting with an article, a script without a manual page, a file writable by all
    (warnings), no md5sums (info), a repeated path segment (pedantic)."""
    root = where / "trip"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN/control").write_text(CONTROL.replace("tiny", "trip").replace(
        "Description: smallest package", "Description: a smallest package"))
    script = root / "usr/bin/trip"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\necho trip\n")
    script.chmod(0o755)
    data = root / "usr/share/trip/trip/data"
    data.parent.mkdir(parents=True)
    data.write_text("data\n")
    data.chmod(0o666)
    deb = where / "trip_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(root), str(deb)], check=True, capture_output=True)
    return deb


def test_the_gate_reports_every_tag_lintian_reports_at_its_severity(tmp_path):
    """The gate runs lintian its own way (as nobody, offline, on a copy): what lintian itself says
    of the same package, run plainly, is what the gate reports, tag for tag and severity for
    severity; and the gate fails at each severity it is told to fail on."""
    deb = trip_deb(tmp_path)
    everything = lint.FAIL_ON_SEVERITIES
    gate = lint.run(deb, everything)
    plain = subprocess.run(lint.argv(deb, everything), capture_output=True, text=True,
                           env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    said = {(t["severity"], t["tag"]) for t in gate.tags}
    assert said == {(t["severity"], t["tag"]) for t in lint.parse(plain.stdout)}
    assert {("error", "no-copyright-file"), ("error", "no-changelog"),
            ("warning", "description-synopsis-starts-with-article"), ("warning", "no-manual-page"),
            ("warning", "non-standard-file-perm"), ("info", "no-md5sums-control-file"),
            ("pedantic", "repeated-path-segment")} <= said, said
    for severity in ("error", "warning", "info", "pedantic"):
        assert not lint.run(deb, (severity,)).passed, severity
