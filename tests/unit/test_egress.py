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
