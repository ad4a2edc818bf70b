"""Retries with backoff, against a real HTTP server on 127.0.0.1."""

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from venvdeb.errors import NetworkError
from venvdeb.http import Client, NotFound, free_port


class Flaky(BaseHTTPRequestHandler):
    failures_left = {}
    hits = []

    def do_GET(self):
        self.hits.append(self.path)
        left = self.failures_left.get(self.path, 0)
        if self.path.startswith("/missing"):
            self.send_response(404)
            self.end_headers()
            return
        if left > 0:
            self.failures_left[self.path] = left - 1
            self.send_response(503)
            self.end_headers()
            return
        body = b"payload:" + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Flaky.failures_left, Flaky.hits = {}, []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


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
