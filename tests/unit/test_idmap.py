"""A chroot's root is a subordinate id on the host: the range read, a tree shifted, host writes handed over."""

from __future__ import annotations

import os
import stat

import pytest

from venvdeb.environment import idmap
from venvdeb.errors import VenvdebError

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")


def files(tmp_path, subuid: str, subgid: str):
    (tmp_path / "subuid").write_text(subuid)
    (tmp_path / "subgid").write_text(subgid)
    return tmp_path / "subuid", tmp_path / "subgid"


def test_roots_range_is_read_from_subuid_and_subgid(tmp_path):
    both = files(tmp_path, "builder:200000:65536\nroot:300000:65536\nroot:500000:10\n", "root:300000:65536\n")
    assert idmap.subordinate_range("root", both) == (300000, 65536)


def test_no_range_and_a_small_one_are_refused_not_guessed(tmp_path):
    with pytest.raises(VenvdebError) as exc:
        idmap.subordinate_range("root", files(tmp_path, "alice:100000:65536\n", "alice:100000:65536\n"))
    assert "give root no subordinate ids" in exc.value.message and "root:100000:65536" in exc.value.hint
    with pytest.raises(VenvdebError, match="smaller than a Debian system's ids need"):
        idmap.subordinate_range("root", files(tmp_path, "root:100000:1000\n", "root:100000:1000\n"))


def test_different_ranges_for_uids_and_gids_are_refused(tmp_path):
    subuid, subgid = files(tmp_path, "root:100000:65536\n", "root:200000:65536\n")
    with pytest.raises(VenvdebError) as exc:
        idmap.subordinate_range("root", (subuid, subgid))
    assert str(subgid) in exc.value.message and "root:100000:65536" in exc.value.hint


@as_root
def test_a_tree_is_shifted_once_each_entry_and_keeps_its_set_id_bits(tmp_path):
    tree = tmp_path / "tree"
    (tree / "usr" / "bin").mkdir(parents=True)
    su = tree / "usr" / "bin" / "su"
    su.write_text("#!/bin/sh\n")
    os.chown(su, 0, 42)
    su.chmod(0o4755)
    (tree / "bin").symlink_to("usr/bin")
    os.lchown(tree / "bin", 0, 0)
    os.link(su, tree / "usr" / "bin" / "su-too")  # one file, two names: shifted once
    idmap.shift(tree, 100000)
    assert (tree / "usr" / "bin" / "su-too").stat().st_uid == 100000
    assert (tree.stat().st_uid, (tree / "usr").stat().st_uid, (tree / "usr" / "bin").stat().st_uid) == (100000,) * 3
    assert (su.stat().st_uid, su.stat().st_gid) == (100000, 100042)
    assert stat.S_IMODE(su.stat().st_mode) == 0o4755  # chown cleared it; put back
    assert (tree / "bin").lstat().st_uid == 100000


@as_root
def test_what_the_host_writes_into_a_chroot_is_handed_to_its_root(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    os.chown(root, 100000, 100000)
    os.chown(root / "etc", 100000, 100000)
    written = root / "etc" / "venvdeb" / "conf.d" / "x.conf"
    written.parent.mkdir(parents=True)
    written.write_text("x")
    idmap.own(written, root, 100000)
    for path in (written, written.parent, written.parent.parent):
        assert (path.stat().st_uid, path.stat().st_gid) == (100000, 100000)
    outside = tmp_path / "outside"
    outside.write_text("y")
    idmap.own(outside, root, 100000)
    assert outside.stat().st_uid == 0  # not the chroot's: left alone


def test_a_path_through_a_symlink_in_the_chroot_is_refused(tmp_path):
    root = tmp_path / "root"
    (root / "tmp").mkdir(parents=True)
    (root / "tmp" / "link").symlink_to(tmp_path)  # a command's doing: it leads out of the chroot
    assert idmap.inside(root, root / "tmp" / "file") == root / "tmp" / "file"
    for path in (root / "tmp" / "link", root / "tmp" / "link" / "x"):
        with pytest.raises(VenvdebError, match="a symlink in the chroot"):
            idmap.inside(root, path)
