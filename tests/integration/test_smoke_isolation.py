"""What a package under smoke can reach: its maintainer scripts run as root in the chroot, in a
network namespace of their own. apt reaches Debian's mirror and the suite under test through the
egress proxy; the host's services on 127.0.0.1 (here a stand-in for the web UI) and its files
(here a stand-in for the signing key) are out of reach."""

from __future__ import annotations

import json
import subprocess
from http.server import BaseHTTPRequestHandler

import pytest

from tests.conftest import http_server, write
from venvdeb.environment import images
from venvdeb.environment.egress import host_port

pytestmark = [pytest.mark.integration, pytest.mark.network]

POSTINST = """#!/usr/bin/python3
import json, socket, urllib.request
found = {{}}
for name, path in (("key", "{key}"), ("key_via_pid1", "/proc/1/root{key}")):
    try:
        found[name] = open(path).read()
    except OSError as exc:
        found[name] = "refused: " + type(exc).__name__
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
    assert found["key"] == "refused: FileNotFoundError"
    assert found["key_via_pid1"] == "refused: FileNotFoundError"  # the namespace's PID 1 is in the chroot too
    assert found["web_ui"].startswith("refused: ")
    assert found["elsewhere"].startswith("refused: ")
    assert host_port("http://deb.debian.org/debian") in image.mirrors()
