"""Where commands run: the argv that enters a chroot, paths inside and out, variables, images."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from venvdeb.environment import Chroot, Host, images
from venvdeb.environment.base import without
from venvdeb.environment.chroot import enter_argv
from venvdeb.environment.enter import parse
from venvdeb.environment.host import codename


def test_entering_a_chroot_without_binds_goes_through_the_enter_helper_too():
    # It is the helper that makes the command root of a user namespace, not the host's root.
    argv = enter_argv(Path("/r"), ["apt-get", "update"], {"PATH": "/usr/bin"}, cwd="/tmp")
    assert argv == ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--",
                    sys.executable, "-m", "venvdeb.environment.enter", "/r", "--wd", "/tmp",
                    "--", "/usr/bin/env", "-i", "PATH=/usr/bin", "apt-get", "update"]


def test_entering_a_chroot_with_binds_goes_through_the_enter_helper():
    argv = enter_argv(Path("/r"), ["true"], {"A": "1"}, cwd="/c/w", binds=(Path("/c"),))
    assert argv[:6] == ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--"]
    assert argv[6:9] == [sys.executable, "-m", "venvdeb.environment.enter"]
    helper = argv[9:]
    assert parse(helper) == ("/r", [("/c", False)], [], "/c/w", ["/usr/bin/env", "-i", "A=1", "true"], None)


def test_a_build_chroot_sees_the_cache_read_only_and_its_scratch_writable():
    # Read-only first: the scratch directory, were it below, is attached over it, writable.
    argv = enter_argv(Path("/r"), ["true"], {}, binds=(Path("/s"),), read_only=(Path("/c"),))
    assert parse(argv[9:])[1] == [("/c", True), ("/s", False)]


def test_an_offline_command_gets_a_network_namespace_with_no_way_out():
    argv = enter_argv(Path("/r"), ["true"], {}, egress=Path("/run/e/proxy.sock"), offline=True)
    assert argv[:7] == ["unshare", "--mount", "--pid", "--net", "--fork", "--kill-child", "--"]
    assert "--egress" not in argv  # not even the proxy: debian/rules has no network


def test_a_chroot_with_egress_gets_a_network_namespace_and_the_proxy():
    argv = enter_argv(Path("/r"), ["true"], {"A": "1"}, egress=Path("/run/e/proxy.sock"))
    assert argv[:7] == ["unshare", "--mount", "--pid", "--net", "--fork", "--kill-child", "--"]
    assert parse(argv[10:]) == ("/r", [], [], "/", ["/usr/bin/env", "-i", "A=1", "true"], "/run/e/proxy.sock")


def test_enter_refuses_what_it_does_not_know():
    with pytest.raises(SystemExit):
        parse(["/r", "--bind", "/c", "true"])  # no --
    with pytest.raises(SystemExit):
        parse(["/r", "--mount", "/c", "--", "true"])


def test_a_bound_directory_is_the_same_path_inside(tmp_path):
    cache = tmp_path / "cache"
    chroot = Chroot(tmp_path / "root", "trixie", binds=(cache,))
    assert chroot.path(cache / "buildenv" / "x") == cache / "buildenv" / "x"
    assert chroot.path("/usr/share/venvdeb/wheelhouse/r") == tmp_path / "root" / "usr/share/venvdeb/wheelhouse/r"
    (cache).mkdir()
    deb = cache / "w.deb"
    deb.write_bytes(b"x")
    assert chroot.stage(deb) == str(deb.resolve())
    other = tmp_path / "o.deb"
    other.write_bytes(b"y")
    inside = chroot.stage(other)
    assert inside == "/tmp/venvdeb-files/o.deb" and chroot.path(inside).read_bytes() == b"y"


def test_variables_a_command_sees(monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "http://elsewhere.invalid")
    monkeypatch.setenv("MAKEFLAGS", "-j8")
    seen = Host().variables({"PIP_CONFIG_FILE": "/dev/null"}, ("PIP_*", "MAKEFLAGS"))
    assert "PIP_INDEX_URL" not in seen and "MAKEFLAGS" not in seen and seen["PIP_CONFIG_FILE"] == "/dev/null"
    assert without({"PIP_A": "1", "PIPX": "2", "B": "3"}, ("PIP_*",)) == {"PIPX": "2", "B": "3"}
    chroot = Chroot(Path("/r"), "trixie").variables({"X": "1"}, ())
    assert chroot["X"] == "1" and "PIP_INDEX_URL" not in chroot and chroot["PATH"].startswith("/usr/sbin")


def test_codename_of_os_release(tmp_path):
    (tmp_path / "os-release").write_text('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_CODENAME=trixie\n')
    assert codename(tmp_path / "os-release") == "trixie"
    (tmp_path / "none").write_text("ID=debian\n")
    assert codename(tmp_path / "none") == "" and codename(tmp_path / "missing") == ""


def test_images_of_each_kind():
    assert images.apt_sources("sid") == ["deb http://deb.debian.org/debian sid main"]
    smoke = images.smoke("trixie", Path("/c"), arch="amd64")
    assert smoke.path == Path("/c/chroots/trixie.tar")
    argv = smoke.argv(Path("/c/chroots/.t.tar"))
    assert "--variant=apt" in argv and "--include=python3,adduser,systemd,ca-certificates" in argv
    one, two = (images.build("trixie", Path("/c"), extra, arch="amd64") for extra in ((), ("libvirt-dev",)))
    assert one.path != two.path and one.path.parent == Path("/c/chroots")
    assert "libvirt-dev" in two.include and "dh-virtualenv" in one.include and one.variant == "buildd"
    assert images.build("trixie", Path("/c"), ("libvirt-dev",), arch="amd64").path == two.path


def test_build_chroots_are_made_in_memory_only_where_a_tmpfs_has_room(tmp_path):
    from venvdeb.environment import workdir

    shm = tmp_path / "shm"
    shm.mkdir()
    tmpfs = tmp_path / "mounts-tmpfs"
    tmpfs.write_text(f"/dev/vda / ext4 rw 0 0\ntmpfs {shm} tmpfs rw,nosuid,nodev 0 0\n")
    disk = tmp_path / "mounts-disk"
    disk.write_text(f"/dev/vda / ext4 rw 0 0\n/dev/vdb {shm} ext4 rw 0 0\n")
    room = workdir.os.statvfs(shm).f_bavail * workdir.os.statvfs(shm).f_frsize >= workdir.MIN_FREE
    assert workdir.build_dir({}, shm, tmpfs) == (shm if room else None)
    assert workdir.build_dir({}, shm, disk) is None  # a disk mounted there is no gain
    assert workdir.build_dir({}, tmp_path / "absent", tmpfs) is None
    # The operator's choice wins: a directory, or "" for the temporary directory.
    assert workdir.build_dir({"VENVDEB_BUILD_DIR": str(tmp_path)}, shm, tmpfs) == tmp_path
    assert workdir.build_dir({"VENVDEB_BUILD_DIR": ""}, shm, tmpfs) is None


def test_the_tmpfs_is_the_last_mount_at_its_place(tmp_path):
    from venvdeb.environment import workdir

    mounts = tmp_path / "mounts"
    mounts.write_text("tmpfs /dev/shm tmpfs rw 0 0\n/dev/vdb /dev/shm ext4 rw 0 0\n")
    assert not workdir.is_tmpfs(Path("/dev/shm"), mounts)
    mounts.write_text("/dev/vdb /dev/shm ext4 rw 0 0\ntmpfs /dev/shm tmpfs rw 0 0\n")
    assert workdir.is_tmpfs(Path("/dev/shm"), mounts)


def test_an_image_wanted_by_two_smoke_tests_at_once_is_made_once(tmp_path, monkeypatch):
    """On a new machine the two smoke tests of a point start together: the second waits for the
    first's mmdebstrap run (the boundary, faked here) and takes its tarball."""
    import threading
    import time

    made = []

    def make(self, log, log_file):
        made.append(threading.current_thread().name)
        time.sleep(0.3)  # mmdebstrap's minute
        self.path.write_bytes(b"tar")
        return self.path

    monkeypatch.setattr(images.Image, "_make", make)
    image = images.smoke("bookworm", tmp_path)
    threads = [threading.Thread(target=image.ensure, kwargs={"log": lambda _: None}) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and image.path.read_bytes() == b"tar"
