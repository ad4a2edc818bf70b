"""Clean-room builds for real: mmdebstrap's chroot, sbuild's unshare mode, the wheelhouse as an extra package.

The chroot tarball is made once in the session's cache (about 25-40 s); each build then takes
about 35 s, most of it installing the Build-Depends in the fresh chroot.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from debian.deb822 import Deb822
from debian.debfile import DebFile

from venvdeb.errors import VenvdebError
from venvdeb.environment import images
from venvdeb.service.sbuild import build_in_sbuild

from .conftest import TINY_UC

# Long (its own mmdebstrap image, two builds; several minutes on CI's machine): make test-fleet.
pytestmark = [pytest.mark.integration, pytest.mark.network, pytest.mark.fleet]


@pytest.fixture(scope="module", autouse=True)
def purge_test_wheelhouse():
    # `venvdeb render` installs the wheelhouse on this host (it is the tree's Build-Depends).
    yield
    subprocess.run(["dpkg", "--purge", "test-wheelhouse-s1"], capture_output=True)


def venvdeb(*args, root: Path, tmp: Path, cache: Path) -> str:
    argv = [sys.executable, "-m", "venvdeb", "--packaging", str(root), *args, "--cache-dir", str(cache),
            "--out-dir", str(tmp / "out"), "--state-dir", str(tmp / "state"), "--json"]
    proc = subprocess.run(argv, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def rendered(make_root, tmp_path, cache_dir):
    """Release 's1' (service 'svc' = charset-normalizer): its wheelhouse .deb and a rendered tree."""
    root = make_root(TINY_UC, {"svc": ("charset-normalizer", "3.4.2")}, name="s1", scripts=("normalizer",))
    venvdeb("wheelhouse", "build", "s1", root=root, tmp=tmp_path, cache=cache_dir)
    tree = tmp_path / "work" / "venv-svc-3.4.2"
    tree.parent.mkdir()
    venvdeb("render", "s1", "svc", "-o", str(tree), root=root, tmp=tmp_path, cache=cache_dir)
    (wheelhouse,) = (tmp_path / "out" / "s1").glob("test-wheelhouse-s1_1+deb12_*.deb")
    return tree, wheelhouse


def test_clean_room_build(rendered, tmp_path, cache_dir, monkeypatch):
    tree, wheelhouse = rendered
    # Were it passed into the chroot, debian/rules would run this uv and fail: pip must do the work.
    monkeypatch.setenv("VENVDEB_UV", "/nonexistent/uv")
    log = tmp_path / "logs" / "sbuild.log"
    deb = build_in_sbuild(tree, wheelhouse, "bookworm", cache_dir, log)

    assert images.buildd("bookworm", cache_dir).path.is_file()
    assert deb.parent == tree.parent and deb.is_file()
    # The chroot's network is cut off while debian/rules runs, and the wheelhouse came in as an
    # extra package at the exact version the tree asks for.
    text = log.read_text()
    assert "--chroot-mode=unshare" in text and "test-wheelhouse-s1 (= 1+deb12)" in text

    # The .deb is the one the tree declares.
    control = DebFile(str(deb)).debcontrol()
    source, binary = Deb822.iter_paragraphs((tree / "debian" / "control").read_text())
    for field in ("Package", "Section", "Priority", "Maintainer", "Homepage", "Description"):
        assert control[field] == (binary.get(field) or source[field]), field
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    assert control["Architecture"] == (arch if binary["Architecture"] == "any" else binary["Architecture"])
    assert control["Version"] == "3.4.2-deb12u1"
    assert deb.name == f"venv-svc_3.4.2-deb12u1_{control['Architecture']}.deb"
    assert "adduser" in control["Depends"] and "python3 (>= 3.11)" in control["Depends"]

    files = tmp_path / "x"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(files)], check=True)
    venv = files / "usr/lib/venvs/svc"
    # bin/python links to the system's python3, absent from the extracted tree: it exists as a link.
    assert os.path.lexists(venv / "bin/python")
    assert os.readlink(venv / "bin/python") == "python3"
    assert (venv / "bin/normalizer").read_text().startswith("#!/usr/lib/venvs/svc/bin/python\n")
    dist_info = next(venv.glob("lib/python3.11/site-packages/charset_normalizer-3.4.2.dist-info"))
    assert (dist_info / "INSTALLER").read_text().strip() == "pip"

    # The .buildinfo of the clean chroot comes along; the work directory does not stay behind.
    buildinfo = Deb822((tree.parent / deb.name.replace(".deb", ".buildinfo")).read_text())
    assert "test-wheelhouse-s1 (= 1+deb12)" in buildinfo["Installed-Build-Depends"]
    assert sorted(p.name for p in tree.parent.iterdir()) == sorted([tree.name, deb.name, deb.name.replace(".deb", ".buildinfo")])


def test_unsatisfiable_build_depends_says_where_the_log_is(rendered, tmp_path, cache_dir):
    tree, wheelhouse = rendered
    control = tree / "debian" / "control"
    control.write_text(control.read_text().replace("test-wheelhouse-s1 (= 1+deb12)", "test-wheelhouse-s1 (= 2+deb12)"))
    log = tmp_path / "sbuild.log"
    with pytest.raises(VenvdebError) as error:
        build_in_sbuild(tree, wheelhouse, "bookworm", cache_dir, log)
    assert f"sbuild failed for venv-svc-3.4.2 (log: {log})" in error.value.message
    assert "test-wheelhouse-s1 (= 2+deb12)" in log.read_text()
    assert not list(tree.parent.glob("*.deb")) and not list(tree.parent.glob(".sbuild-*"))
