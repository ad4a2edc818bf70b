"""Fresh chroots are overlays on an image's tree, unpacked once: a chroot's writes are its own,
the shared tree is never written, a remade image gets a new tree and the old one goes once no
chroot uses it. Real tar, mount and overlayfs, on a small image."""

from __future__ import annotations

import os
import subprocess

import pytest

from venvdeb.environment import chroot, idmap, rootfs

pytestmark = pytest.mark.integration


@pytest.fixture
def image(tmp_path):
    tree = tmp_path / "tree"
    for d in ("etc", "usr/sbin", "srv"):
        (tree / d).mkdir(parents=True)
    (tree / "etc/resolv.conf").write_text("nameserver 192.0.2.1\n")
    (tree / "srv/data").write_text("from the image\n")
    tarball = tmp_path / "cache" / "chroots" / "tiny.tar"
    tarball.parent.mkdir(parents=True)
    subprocess.run(["tar", "--create", "--file", str(tarball), "--directory", str(tree), "."], check=True)
    return tarball


def mounts() -> str:
    with open("/proc/self/mounts") as f:
        return f.read()


def test_each_chroot_writes_its_own_layer_and_the_shared_tree_stays_as_unpacked(image, tmp_path):
    with chroot.fresh(image, "tiny", work_dir=tmp_path) as one, chroot.fresh(image, "tiny", work_dir=tmp_path) as two:
        assert f" {one.root} overlay " in mounts()
        (one.root / "srv/data").write_text("changed in one\n")
        (one.root / "srv/new").write_text("only in one\n")
        os.unlink(one.root / "etc/resolv.conf")
        assert (two.root / "srv/data").read_text() == "from the image\n"
        assert not (two.root / "srv/new").exists()
        # Each chroot gets the host's resolver and no daemon starts in it.
        assert (two.root / "usr/sbin/policy-rc.d").read_text() == "#!/bin/sh\nexit 101\n"
        roots = (one.root, two.root)
    (tree,) = [p for p in (image.parent / "tiny.tar.rootfs").iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert (tree / "srv/data").read_text() == "from the image\n" and not (tree / "srv/new").exists()
    assert (tree / "etc/resolv.conf").read_text() == "nameserver 192.0.2.1\n"
    assert not (tree / "usr/sbin/policy-rc.d").exists()
    assert all(f" {root} " not in mounts() and not root.exists() for root in roots)


def test_the_chroots_root_has_the_images_mode_whatever_the_umask(image, tmp_path):
    """A Buildbot master runs with umask 077: / of a chroot it made must still be 0755, or no user
    but root reaches /bin/sh there (smoke's commands run as the service's user)."""
    old = os.umask(0o077)
    try:
        with chroot.fresh(image, "tiny", work_dir=tmp_path) as ch:
            assert ch.root.stat().st_mode & 0o777 == 0o755
            # The host's resolver, which apt's _apt user reads.
            assert (ch.root / "etc/resolv.conf").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)


def test_a_remade_image_gets_a_new_tree_and_the_old_one_goes_when_no_chroot_uses_it(image, tmp_path):
    trees = image.parent / "tiny.tar.rootfs"
    base = idmap.subordinate_range()[0]  # the chroot's trees are shifted to it
    with chroot.fresh(image, "tiny", work_dir=tmp_path) as old_chroot:
        with rootfs.shared_tree(image, base) as old:
            pass
        os.utime(image, ns=(1, 1))  # as if mmdebstrap had made it again
        with rootfs.shared_tree(image, base) as new:
            assert new != old and old.is_dir()  # in use: kept
        assert (old_chroot.root / "srv/data").read_text() == "from the image\n"
    with rootfs.shared_tree(image, base) as tree:
        assert tree == new
    assert sorted(p.name for p in trees.iterdir() if p.is_dir()) == [new.name]


def test_where_no_overlay_can_be_mounted_the_chroot_is_a_copy_of_the_tree(image, tmp_path):
    odd = tmp_path / "a:b"  # overlayfs cannot be told this path in its options
    odd.mkdir()
    with chroot.fresh(image, "tiny", work_dir=odd) as ch:
        assert f" {ch.root} " not in mounts()
        assert (ch.root / "srv/data").read_text() == "from the image\n"
        assert (ch.root / "usr/sbin/policy-rc.d").is_file()
    assert not list(odd.iterdir())


def test_a_chroots_files_belong_to_its_user_namespaces_root_on_the_host(image, tmp_path):
    base = idmap.subordinate_range()[0]
    with chroot.fresh(image, "tiny", work_dir=tmp_path) as ch:
        assert ch.root.stat().st_uid == base
        assert (ch.root / "srv/data").stat().st_uid == base
        # What the host writes there afterwards (resolv.conf, files for a test) is handed over too.
        assert (ch.root / "etc/resolv.conf").stat().st_uid == base
        ch.write("/etc/venvdeb-test/x.conf", "x")
        assert (ch.root / "etc/venvdeb-test").stat().st_uid == (ch.root / "etc/venvdeb-test/x.conf").stat().st_uid == base
