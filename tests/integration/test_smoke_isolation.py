"""What a package under smoke can reach: its maintainer scripts run as root of a user namespace
(a subordinate id on the host) in the chroot, which is the whole file system they see, in a
network namespace of their own. apt reaches Debian's mirror and the suite under test through the
egress proxy; the host's services on 127.0.0.1 (here a stand-in for the web UI) and its files
(here a stand-in for the signing key) are out of reach."""

from __future__ import annotations

import json
import subprocess
from http.server import BaseHTTPRequestHandler

import pytest

from tests.conftest import http_server, write
from venvdeb.environment import idmap, images
from venvdeb.environment.egress import host_port

pytestmark = [pytest.mark.integration, pytest.mark.network]

POSTINST = """#!/usr/bin/python3
import json, os, socket, urllib.request
found = {{"uid_map": open("/proc/self/uid_map").read().split()}}
for name, path in (("key", "{key}"), ("key_via_pid1", "/proc/1/root{key}")):
    try:
        found[name] = open(path).read()
    except OSError as exc:
        found[name] = "refused: " + type(exc).__name__
# The classic way out of a chroot, for a root that may call chroot(2): there is no host above.
os.makedirs("/tmp/out", exist_ok=True)
real_root = os.open("/", os.O_RDONLY)
os.chroot("/tmp/out")
os.fchdir(real_root)
for _ in range(64):
    os.chdir("..")
os.chroot(".")
found["key_after_escape"] = os.path.exists("{key}")
try:  # the invoking terminal, if venvdeb has one, is not the command's (it runs in a session of its own)
    open("/dev/tty").close()
    found["tty"] = "opened"
except OSError as exc:
    found["tty"] = "refused: " + type(exc).__name__
found["console"] = os.path.exists("/dev/console")
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=5).close()
    found["web_ui"] = "connected"
except OSError as exc:
    found["web_ui"] = "refused: " + type(exc).__name__
try:
    urllib.request.urlopen("http://pypi.org/simple/", timeout=10)
    found["elsewhere"] = "reached"
except Exception as exc:
    found["elsewhere"] = "refused: " + str(exc)[:80]
open("/var/lib/curious.json", "w").write(json.dumps(found))
"""


class Answer(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_postinst_cannot_read_the_masters_key_nor_reach_its_web_ui_while_apt_reaches_the_mirror(tmp_path, cache_dir):
    key = write(tmp_path / "gnupg" / "private-keys-v1.d" / "master.key", "SECRET SIGNING KEY\n")
    with http_server(Answer) as port:
        tree = tmp_path / "curious"
        write(tree / "DEBIAN" / "control", """
            Package: curious
            Version: 1.0
            Architecture: all
            Maintainer: Test <test@example.org>
            Depends: python3
            Description: a package whose postinst looks around
        """)
        postinst = tree / "DEBIAN" / "postinst"
        postinst.write_text(POSTINST.format(key=key, port=port))
        postinst.chmod(0o755)
        deb = tmp_path / "curious_1.0_all.deb"
        subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(deb)], check=True, capture_output=True)
        # From the host, both are there: the checks below can fail.
        assert key.read_text() == "SECRET SIGNING KEY\n"
        subprocess.run(["python3", "-c", f"import socket; socket.create_connection(('127.0.0.1', {port}), 5)"],
                       check=True)

        image = images.smoke("bookworm", cache_dir)
        with image.fresh(egress=image.mirrors()) as ch:
            update = ch.run(["apt-get", "update"])
            assert update.returncode == 0, update.stdout + update.stderr  # the mirror, through the proxy
            ch.write("/tmp/curious.deb", deb.read_bytes())
            install = ch.run(["apt-get", "install", "-y", "/tmp/curious.deb", "hello"])
            assert install.returncode == 0, install.stdout + install.stderr
            assert ch.run(["/usr/bin/hello"]).stdout.startswith("Hello, world!")  # hello came from the mirror
            found = json.loads(ch.path("/var/lib/curious.json").read_text())
            owner = ch.path("/var/lib/curious.json").stat().st_uid
    # The postinst ran as root of a user namespace: root there is a subordinate id on the host.
    base, count = idmap.subordinate_range()
    assert found["uid_map"] == ["0", str(base), str(count)]
    assert owner == base
    assert found["key_after_escape"] is False
    assert found["key"] == "refused: FileNotFoundError"
    # PID 1 in the command's PID namespace is venvdeb's: its root is the chroot too, and its
    # /proc entries are not the command's to read (its ids changed: the kernel made it non-dumpable).
    assert found["key_via_pid1"] in ("refused: PermissionError", "refused: FileNotFoundError")
    assert found["tty"].startswith("refused: ") and found["console"] is False
    assert found["web_ui"].startswith("refused: ")
    assert found["elsewhere"].startswith("refused: ")
    assert host_port("http://deb.debian.org/debian") in image.mirrors()


def test_a_build_chroot_writes_the_bound_cache_as_root_but_neither_its_images_nor_through_planted_links(tmp_path, cache_dir):
    from venvdeb.errors import VenvdebError

    cache = tmp_path / "cache"
    (cache / "chroots").mkdir(parents=True)
    (cache / "chroots" / "image.tar").write_text("an image the host unpacks as its root\n")
    host_file = tmp_path / "host-file"
    host_file.write_text("the host's\n")
    image = images.smoke("bookworm", cache_dir)
    with image.fresh(binds=(cache,), hides=(cache / "chroots",)) as ch:
        wrote = ch.run(["/bin/sh", "-c", f"echo built > {cache}/built && ls -A {cache}/chroots"])
        assert wrote.returncode == 0 and wrote.stdout == "", wrote.stdout + wrote.stderr  # the images are out of sight
        poison = ch.run(["/bin/sh", "-c", f"echo poison > {cache}/chroots/image.tar"])
        assert poison.returncode != 0 and "Read-only file system" in poison.stderr
        unhide = ch.run(["/bin/sh", "-c", f"umount {cache}/chroots"])
        assert unhide.returncode != 0, unhide.stdout  # locked to the bind above it
        planted = ch.run(["/bin/ln", "-s", str(host_file), "/tmp/planted"])
        assert planted.returncode == 0, planted.stderr
        with pytest.raises(VenvdebError, match="a symlink in the chroot"):
            ch.write("/tmp/planted", "overwritten by the host's root\n")
    assert (cache / "built").read_text() == "built\n" and (cache / "built").stat().st_uid == 0
    assert (cache / "chroots" / "image.tar").read_text() == "an image the host unpacks as its root\n"
    assert host_file.read_text() == "the host's\n"


def test_the_mirrors_packages_are_kept_for_the_next_chroot_and_apt_still_checks_them(cache_dir):
    """The second chroot's apt gets hello from the machine's cache, not the mirror: a copy made
    wrong there is refused by apt (the signed index's hash), and the right one installs."""
    image = images.smoke("bookworm", cache_dir)

    def install_hello():
        with image.fresh(egress=image.mirrors()) as ch:
            assert ch.run(["apt-get", "update"]).returncode == 0
            return ch.run(["apt-get", "install", "-y", "--no-install-recommends", "hello"])

    first = install_hello()
    assert first.returncode == 0, first.stdout + first.stderr
    kept = list((cache_dir / "chroots" / images.DEBS).rglob("hello_*.deb"))
    assert len(kept) == 1 and kept[0].stat().st_mode & 0o777 == 0o644
    good = kept[0].read_bytes()
    try:
        kept[0].write_bytes(good[:-64] + bytes(64))  # the same size, other bytes
        refused = install_hello()
        assert refused.returncode != 0 and "Hash Sum mismatch" in refused.stdout + refused.stderr
    finally:
        kept[0].write_bytes(good)
    again = install_hello()
    assert again.returncode == 0, again.stdout + again.stderr
