"""Retries with backoff, against a real HTTP server on 127.0.0.1."""

import hashlib
import time
from http.server import BaseHTTPRequestHandler

import pytest

from tests.conftest import http_server
from venvdeb.errors import NetworkError
from venvdeb.http import Client, NotFound, free_port


class Flaky(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as PyPI's CDN
    failures_left = {}
    hits = []
    seen = []  # (path, client port, time)

    def _empty(self, status: int, **headers):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.hits.append(self.path)
        self.seen.append((self.path, self.client_address[1], time.monotonic()))
        left = self.failures_left.get(self.path, 0)
        if self.path.startswith("/missing"):
            return self._empty(404)
        body = b"payload:" + self.path.encode()
        if left > 0:
            self.failures_left[self.path] = left - 1
            if self.path.startswith("/cut"):  # promises more than it sends, then hangs up
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) + 1000))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True
                return
            if self.path.startswith("/later"):
                return self._empty(503, Retry_After="1")
            return self._empty(503)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Flaky.failures_left, Flaky.hits, Flaky.seen = {}, [], []
    with http_server(Flaky) as port:
        yield f"http://127.0.0.1:{port}"


def test_transient_errors_are_retried(server):
    Flaky.failures_left["/a"] = 2
    client = Client(attempts=4, backoff=0.01)
    assert client.get_bytes(server + "/a") == b"payload:/a"
    assert Flaky.hits.count("/a") == 3


def test_gives_up_after_the_last_attempt_with_a_clear_error(server):
    Flaky.failures_left["/b"] = 10
    with pytest.raises(NetworkError) as exc:
        Client(attempts=3, backoff=0.01).get_bytes(server + "/b")
    assert "failed after 3 attempts" in str(exc.value) and "/b" in str(exc.value)
    assert Flaky.hits.count("/b") == 3


def test_connection_refused_is_retried_then_reported():
    url = f"http://127.0.0.1:{free_port()}/simple/x/"
    with pytest.raises(NetworkError) as exc:
        Client(attempts=2, backoff=0.01).get_bytes(url)
    assert "failed after 2 attempts" in str(exc.value)


def test_not_found_is_not_retried(server):
    with pytest.raises(NotFound):
        Client(attempts=4, backoff=0.01).get_bytes(server + "/missing")
    assert Flaky.hits == ["/missing"]


def test_download_verifies_and_leaves_nothing_on_mismatch(server, tmp_path):
    client = Client(attempts=1, backoff=0.01)
    good = hashlib.sha256(b"payload:/f").hexdigest()
    assert client.download(server + "/f", tmp_path / "f", good) == good
    assert (tmp_path / "f").read_bytes() == b"payload:/f"
    with pytest.raises(NetworkError):
        client.download(server + "/g", tmp_path / "g", "0" * 64)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_a_body_that_breaks_off_is_fetched_again(server, tmp_path):
    Flaky.failures_left["/cut"] = 1
    Flaky.failures_left["/cut-file"] = 1
    client = Client(attempts=3, backoff=0.01)
    assert client.get_bytes(server + "/cut") == b"payload:/cut"
    assert client.download(server + "/cut-file", tmp_path / "f") == hashlib.sha256(b"payload:/cut-file").hexdigest()
    assert Flaky.hits == ["/cut", "/cut", "/cut-file", "/cut-file"]


def test_a_body_that_always_breaks_off_is_a_clear_error(server):
    Flaky.failures_left["/cut"] = 10
    with pytest.raises(NetworkError) as exc:
        Client(attempts=2, backoff=0.01).get_bytes(server + "/cut")
    assert "GET " + server + "/cut: failed after 2 attempts" in str(exc.value)


def test_retry_after_is_honoured(server):
    Flaky.failures_left["/later"] = 1
    assert Client(attempts=3, backoff=0.01).get_bytes(server + "/later") == b"payload:/later"
    (_, _, first), (_, _, second) = Flaky.seen
    assert second - first >= 0.9  # the server asked for 1 s; the client's own backoff is 0.01 s


def test_one_connection_serves_many_requests(server):
    client = Client()
    for n in range(5):
        client.get_bytes(f"{server}/p{n}")
    assert len({port for _, port, _ in Flaky.seen}) == 1


def test_the_environments_proxy_is_used_and_no_proxy_honoured(server, monkeypatch):
    """The server here plays the proxy: asked for an absolute URL of another host."""
    monkeypatch.setenv("http_proxy", server)
    monkeypatch.setenv("no_proxy", "pypi.local.test")
    assert Client(attempts=1).get_bytes(server + "/direct") == b"payload:/direct"  # 127.0.0.1: never proxied
    Flaky.hits.clear()
    client = Client(attempts=1)
    assert client.get_bytes("http://index.example.test/simple/x/") == b"payload:http://index.example.test/simple/x/"
    assert Flaky.hits == ["http://index.example.test/simple/x/"]
    monkeypatch.setenv("no_proxy", "index.example.test")
    with pytest.raises(NetworkError):  # direct, and that host does not exist
        Client(attempts=1).get_bytes("http://index.example.test/simple/x/")
