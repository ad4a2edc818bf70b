"""What the host takes out of a build chroot's scratch directory: regular files, by copy, hashed."""

import hashlib
import os

import pytest

from venvdeb.errors import VenvdebError
from venvdeb.files import take


def test_a_regular_file_is_copied_with_the_digest_of_the_bytes_copied(tmp_path):
    scratch, host = tmp_path / "scratch", tmp_path / "host"
    (scratch / "build").mkdir(parents=True)
    host.mkdir()
    (scratch / "build" / "x.deb").write_bytes(b"package")
    digest = take(scratch / "build" / "x.deb", host / "x.deb", within=scratch)
    assert digest == hashlib.sha256(b"package").hexdigest() and (host / "x.deb").read_bytes() == b"package"
    (scratch / "build" / "x.deb").write_bytes(b"changed afterwards")
    assert (host / "x.deb").read_bytes() == b"package"  # the host's own copy


@pytest.mark.parametrize("plant", ["file", "directory", "fifo"])
def test_a_link_or_anything_but_a_regular_file_is_refused(tmp_path, plant):
    scratch, host, secret = tmp_path / "scratch", tmp_path / "host", tmp_path / "secret"
    scratch.mkdir()
    host.mkdir()
    (secret / "dir").mkdir(parents=True)
    (secret / "dir" / "x.deb").write_text("the host's own")
    if plant == "file":  # a link to a host file, where the build's output should be
        (scratch / "x.deb").symlink_to(secret / "dir" / "x.deb")
        src = scratch / "x.deb"
    elif plant == "directory":  # a link on the way to it
        (scratch / "build").symlink_to(secret / "dir")
        src = scratch / "build" / "x.deb"
    else:
        os.mkfifo(scratch / "x.deb")  # would block a reader forever
        src = scratch / "x.deb"
    with pytest.raises(VenvdebError, match="cannot be taken|not a regular file"):
        take(src, host / "x.deb", within=scratch)
    assert list(host.iterdir()) == []


def test_an_atomic_write_reaches_the_disk_before_it_replaces_the_file_and_its_rename_after(tmp_path, monkeypatch):
    """After a power loss a ledger or a gate record is the old one or the new one, never empty:
    the data is synced before the rename, and the directory after it."""
    from venvdeb import files

    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", "directory" if os.path.isdir(f"/proc/self/fd/{fd}") else
                       os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", str(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / "ledger.json"
    files.write_atomic(target, b"{}")
    assert [kind for kind, _ in events] == ["fsync", "replace", "fsync"]
    assert ".part-" in events[0][1] and events[1][1] == str(target) and events[2][1] == "directory"
    assert target.read_bytes() == b"{}"
