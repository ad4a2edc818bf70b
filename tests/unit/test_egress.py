"""The egress proxy, against a real server on 127.0.0.1: what it lets through, and how."""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler

import pytest

from tests.conftest import http_server
from venvdeb.environment.egress import proxy


class Echo(BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"host={self.headers['Host']} path={self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def upstream():
    with http_server(Echo) as port:
        yield port


def ask(sock_path, request: str) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(20)
        s.connect(str(sock_path))
        s.sendall(request.encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data.decode(errors="replace")


def test_an_allowed_host_is_reached_with_its_own_host_header(upstream):
    with proxy({("127.0.0.1", upstream)}) as sock:
        said = ask(sock, f"GET http://127.0.0.1:{upstream}/dists/x/InRelease HTTP/1.1\r\n"
                         "Host: elsewhere.example\r\nConnection: keep-alive\r\n\r\n")
    assert said.startswith("HTTP/1.0 200") or said.startswith("HTTP/1.1 200")
    assert f"host=127.0.0.1:{upstream} path=/dists/x/InRelease" in said


def test_other_hosts_ports_tunnels_and_bodies_are_refused(upstream):
    with proxy({("127.0.0.1", upstream)}) as sock:
        other_port = ask(sock, f"GET http://127.0.0.1:{upstream + 1}/ HTTP/1.1\r\n\r\n")
        other_host = ask(sock, "GET http://pypi.org/simple/ HTTP/1.1\r\n\r\n")
        tunnel = ask(sock, "CONNECT pypi.org:443 HTTP/1.1\r\n\r\n")
        body = ask(sock, f"GET http://127.0.0.1:{upstream}/ HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
        relative = ask(sock, "GET /etc/passwd HTTP/1.1\r\n\r\n")
    for said in (other_port, other_host, tunnel, body, relative):
        assert said.startswith("HTTP/1.1 403"), said
    assert "pypi.org:443 is not reachable from the chroot" in tunnel


class Mirror(BaseHTTPRequestHandler):
    """A mirror whose pool has one package; it counts what it is asked for. A file named
    ``cut_*.deb`` is cut short: its answer promises more bytes than it sends."""
    asked: list[str] = []
    package = b"!<arch>\ndebian-binary   " + bytes(range(256)) * 400

    def do_GET(self):
        Mirror.asked.append(self.path)
        if self.path.endswith("missing_1_all.deb"):
            self.send_error(404)
            return
        body = self.package if self.path.endswith(".deb") else b"Origin: Debian\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) + (10 if "/cut_" in self.path else 0)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def body_of(said: str) -> str:
    return said.partition("\r\n\r\n")[2]


def test_the_mirrors_packages_are_fetched_once_kept_whole_and_served_again(tmp_path):
    from venvdeb.environment.egress import DebCache

    Mirror.asked = []
    with http_server(Mirror) as port:
        mirror = f"http://127.0.0.1:{port}/debian"
        cache = DebCache(tmp_path / "debs", frozenset({("127.0.0.1", port)}))
        deb = f"{mirror}/pool/main/s/sudo/sudo_1.9.13p3-1+deb12u1_amd64.deb"
        with proxy({("127.0.0.1", port)}, cache) as sock:
            first, second = (ask(sock, f"GET {deb} HTTP/1.1\r\n\r\n") for _ in range(2))
            index = [ask(sock, f"GET {mirror}/dists/bookworm/InRelease HTTP/1.1\r\n\r\n") for _ in range(2)]
            cut = ask(sock, f"GET {mirror}/pool/main/c/cut/cut_1_all.deb HTTP/1.1\r\n\r\n")
            missing = ask(sock, f"GET {mirror}/pool/main/m/missing/missing_1_all.deb HTTP/1.1\r\n\r\n")
    package = Mirror.package.decode(errors="replace")
    assert first.startswith("HTTP/1.1 200") and body_of(first) == body_of(second) == package
    assert Mirror.asked.count("/debian/pool/main/s/sudo/sudo_1.9.13p3-1+deb12u1_amd64.deb") == 1
    assert (cache.path_for(deb)).read_bytes() == Mirror.package
    # Indices are the mirror's each time; a package cut short or missing is relayed, never kept.
    assert Mirror.asked.count("/debian/dists/bookworm/InRelease") == 2 and all("Origin: Debian" in i for i in index)
    assert missing.startswith("HTTP/1.1 404") and cut.startswith("HTTP/1.1 502")
    kept = sorted(p.name for p in (tmp_path / "debs").rglob("*") if p.is_file())
    assert kept == ["sudo_1.9.13p3-1+deb12u1_amd64.deb"]


@pytest.mark.parametrize("url", [
    "http://deb.debian.org/debian/pool/main/s/sudo/../../../../etc/x.deb",
    "http://deb.debian.org/debian/pool/main/s/sudo/%2e%2e/x.deb",
    "http://deb.debian.org/debian/pool/main/s/sudo/sudo_1_amd64.deb?x=1",
    "https://deb.debian.org/debian/pool/main/s/sudo/sudo_1_amd64.deb",
    "http://127.0.0.1:8080/pool/main/v/venv-nova/venv-nova_1_amd64.deb",
    "http://deb.debian.org/debian/dists/bookworm/main/binary-amd64/Packages.xz",
    "http://deb.debian.org/debian/pool/main/s/sudo/sudo_1.dsc",
])
def test_only_pool_packages_of_the_mirrors_are_cached(tmp_path, url):
    from venvdeb.environment.egress import DebCache

    cache = DebCache(tmp_path, frozenset({("deb.debian.org", 80)}))
    assert cache.path_for(url) is None
    assert cache.path_for("http://deb.debian.org/debian/pool/main/s/sudo/sudo_1_amd64.deb") == \
        tmp_path / "deb.debian.org_80/debian/pool/main/s/sudo/sudo_1_amd64.deb"
