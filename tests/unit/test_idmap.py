"""A chroot's root is a subordinate id on the host: the range read, a tree shifted, host writes handed over."""

from __future__ import annotations

import os
import stat

import pytest

from venvdeb.environment import idmap
from venvdeb.errors import VenvdebError

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")


def test_roots_range_is_read_from_subuid_and_subgid(tmp_path):
    subuid, subgid = tmp_path / "subuid", tmp_path / "subgid"
    subuid.write_text("builder:200000:65536\nroot:300000:65536\nroot:500000:10\n")
    subgid.write_text("root:300000:65536\n")
    assert idmap.subordinate_range("root", (subuid, subgid)) == (300000, 65536)
    assert idmap.subordinate_range("root", (tmp_path / "none", tmp_path / "neither")) == idmap.DEFAULT_RANGE


def test_different_ranges_for_uids_and_gids_are_refused(tmp_path):
    subuid, subgid = tmp_path / "subuid", tmp_path / "subgid"
    subuid.write_text("root:100000:65536\n")
    subgid.write_text("root:200000:65536\n")
    with pytest.raises(VenvdebError) as exc:
        idmap.subordinate_range("root", (subuid, subgid))
    assert str(subgid) in exc.value.message and "root:100000:65536" in exc.value.hint


def test_a_tree_is_shifted_once_each_entry_and_keeps_its_set_id_bits(tmp_path):
    tree = tmp_path / "tree"
    (tree / "usr" / "bin").mkdir(parents=True)
    su = tree / "usr" / "bin" / "su"
    su.write_text("#!/bin/sh\n")
    os.chown(su, 0, 42)
    su.chmod(0o4755)
    (tree / "bin").symlink_to("usr/bin")
    os.lchown(tree / "bin", 0, 0)
    idmap.shift(tree, 100000)
    assert (tree.stat().st_uid, (tree / "usr").stat().st_uid, (tree / "usr" / "bin").stat().st_uid) == (100000,) * 3
    assert (su.stat().st_uid, su.stat().st_gid) == (100000, 100042)
    assert stat.S_IMODE(su.stat().st_mode) == 0o4755  # chown cleared it; put back
    assert (tree / "bin").lstat().st_uid == 100000


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
