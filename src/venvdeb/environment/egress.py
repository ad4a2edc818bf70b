"""What a chroot in a network namespace of its own may reach: an HTTP proxy on the host that
lets through only the hosts it is given (Debian's mirror and venvdeb's repository).

The chroot has nothing but loopback. enter.py listens on 127.0.0.1:PROXY_PORT inside the
namespace and passes every connection to this proxy's Unix socket on the host; apt in the chroot
is configured to use that address. The proxy answers absolute-URI requests (plain HTTP: the
mirror and the repository) and CONNECT (HTTPS), each only to an allowed host and port; anything
else gets 403, and a maintainer script or a service has no other way out.

With a ``DebCache``, the proxy also keeps the Debian packages it fetches from the mirror, for every
chroot of the machine: a package already there is served from the host's copy, and a warm machine
downloads nothing twice. Only the proxy writes the cache (a chroot never sees it), only with what
the mirror sent, whole; and apt checks each package it is served against the signed index, as it
checks what the mirror sends. The key is the URL: a file of Debian's pool never changes under its
name (a new version is a new name).
"""

from __future__ import annotations

import http.client
import http.server
import os
import re
import selectors
import shutil
import socket
import socketserver
import tempfile
import threading
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import stale

PROXY_PORT = 3128  # inside the namespace
# One request per connection through the proxy: apt is told not to pipeline.
APT_CONFIG = (f'Acquire::http::Proxy "http://127.0.0.1:{PROXY_PORT}/";\n'
              f'Acquire::https::Proxy "http://127.0.0.1:{PROXY_PORT}/";\n'
              'Acquire::http::Pipeline-Depth "0";\n')
# Headers that belong to one hop, or would let a request say something else than its URL does.
HOP_BY_HOP = {"connection", "proxy-connection", "keep-alive", "proxy-authorization", "proxy-authenticate",
              "te", "trailer", "transfer-encoding", "upgrade", "host"}


def proxy_variables() -> dict[str, str]:
    url = f"http://127.0.0.1:{PROXY_PORT}"
    return {"http_proxy": url, "https_proxy": url, "HTTP_PROXY": url, "HTTPS_PROXY": url,
            "no_proxy": "127.0.0.1,localhost,::1", "NO_PROXY": "127.0.0.1,localhost,::1"}


def host_port(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # not a port number: matches nothing allowed
        return "", 0
    return parts.hostname or "", port or (443 if parts.scheme == "https" else 80)


# A package of an archive's pool: its path has no other characters than Debian's file names do,
# and no ".." (the cache's path is made from it).
POOL_FILE = re.compile(r"^/(?:[A-Za-z0-9_.+~-]+/)*pool/(?:[A-Za-z0-9_.+~-]+/)+[A-Za-z0-9_.+~%-]+\.u?deb$")
CHUNK = 1 << 16


@dataclass(frozen=True)
class DebCache:
    """Where the proxy keeps the packages it fetched from ``hosts`` (Debian's mirrors: never
    venvdeb's own repository, whose test suites reuse names)."""

    directory: Path
    hosts: frozenset[tuple[str, int]]

    def path_for(self, url: str) -> Path | None:
        """The cached file of ``url``, if it is a package of a cached host's pool; else None. The
        proxy asks the mirror for exactly this path (``mirror_path``): a chroot cannot have one
        file's bytes kept under another's name by spelling a path two ways."""
        parts = urllib.parse.urlsplit(url)
        path = urllib.parse.unquote(parts.path)
        where = host_port(url)
        if parts.scheme != "http" or parts.query or where not in self.hosts or not POOL_FILE.match(path) \
                or {".", ".."} & set(path.split("/")):
            return None
        return self.directory / f"{where[0]}_{where[1]}" / path.lstrip("/")

    @staticmethod
    def mirror_path(url: str) -> str:
        """The path the mirror is asked for: the one the cache keeps it under, quoted again."""
        return urllib.parse.quote(urllib.parse.unquote(urllib.parse.urlsplit(url).path), safe="/+~")


def relay(a: socket.socket, b: socket.socket) -> None:
    """Copy both ways until both sides have finished sending (or five quiet minutes); a side that
    finishes has its peer's writing half shut, so nothing still in flight is lost."""
    selector = selectors.DefaultSelector()
    peer = {a: b, b: a}
    try:
        for s in (a, b):
            selector.register(s, selectors.EVENT_READ)
        open_sides = 2
        while open_sides:
            events = selector.select(300)
            if not events:
                return
            for key, _ in events:
                s = key.fileobj
                data = s.recv(65536)
                if data:
                    peer[s].sendall(data)
                    continue
                selector.unregister(s)
                open_sides -= 1
                try:
                    peer[s].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
    except (OSError, ValueError):
        return
    finally:
        selector.close()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    allowed: frozenset = frozenset()
    cache: DebCache | None = None

    def log_message(self, *args):  # apt's requests are not the build log's business
        pass

    def _refuse(self, what: str) -> None:
        body = f"venvdeb: {what} is not reachable from the chroot\n".encode()
        self.send_response(403)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        target = (host.strip("[]"), int(port) if port.isdigit() else 0)
        if target not in self.allowed:
            return self._refuse(self.path)
        try:
            upstream = socket.create_connection(target, timeout=60)
        except OSError as exc:
            self.send_error(502, f"{self.path}: {exc}")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        with upstream:
            relay(self.connection, upstream)
        self.close_connection = True

    def _forward(self):
        parts = urllib.parse.urlsplit(self.path)
        if parts.scheme != "http" or not parts.hostname:
            return self._refuse(self.path)
        target = host_port(self.path)
        if target not in self.allowed:
            return self._refuse(f"{target[0]}:{target[1]}")
        if self.headers.get("Transfer-Encoding") or (self.headers.get("Content-Length") or "0") != "0":
            return self._refuse("a request with a body")  # apt and pip only GET and HEAD
        named = {h.strip().lower() for h in (self.headers.get("Connection") or "").split(",")}
        cached = self.cache.path_for(self.path) if self.cache and self.command == "GET" else None
        if cached is not None:
            return self._from_cache(cached, named)
        try:
            upstream = socket.create_connection(target, timeout=60)
        except OSError as exc:
            self.send_error(502, f"{target[0]}:{target[1]}: {exc}")
            return
        with upstream:
            # One request per connection: the answer is relayed as it comes, then both close.
            # Host is the URL's, whatever the client said: a CDN must not be asked for another site.
            path = parts.path or "/"
            head = [f"{self.command} {path}{'?' + parts.query if parts.query else ''} HTTP/1.1",
                    f"Host: {parts.netloc.rpartition('@')[2]}"]
            head += [f"{k}: {v}" for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | named]
            head.append("Connection: close")
            try:
                upstream.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
                while data := upstream.recv(65536):
                    self.connection.sendall(data)
            except OSError:  # a timeout or a reset, on either side: this request ends here
                pass
        self.close_connection = True

    do_GET = do_HEAD = _forward

    def _from_cache(self, cached: Path, named: set[str]) -> None:
        """A pool file from the cache; fetched first, and kept, if it is not there yet."""
        self.close_connection = True
        if not cached.is_file():
            self._fetch(cached, named)
            if not cached.is_file():
                return  # the mirror's answer was relayed as it was (or a 502 said why), and not kept
        with cached.open("rb") as f:
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.debian.binary-package")
            self.send_header("Content-Length", str(os.fstat(f.fileno()).st_size))
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                shutil.copyfileobj(f, self.wfile, CHUNK)
            except OSError:
                pass

    def _fetch(self, cached: Path, named: set[str]) -> None:
        """The mirror's file into the cache, whole or not at all: a complete 200 answer is kept (and
        then served from it); any other answer goes to the client as it came."""
        host, port = host_port(self.path)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_BY_HOP | named | {"range", "if-range", "if-modified-since"}}
        connection = http.client.HTTPConnection(host, port, timeout=60)
        try:
            connection.request("GET", DebCache.mirror_path(self.path), headers=headers)
            answer = connection.getresponse()
            length = answer.getheader("Content-Length")
            if answer.status != 200 or not (length or "").isdigit():
                body = answer.read()
                self.send_response(answer.status, answer.reason)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                return
            cached.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=cached.parent, prefix=".partial-")
            try:
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(answer, out, CHUNK)
                if os.path.getsize(name) != int(length):
                    raise http.client.IncompleteRead(b"", int(length) - os.path.getsize(name))
                os.chmod(name, 0o644)
                os.replace(name, cached)
            finally:
                if os.path.exists(name):
                    os.unlink(name)
        except (OSError, http.client.HTTPException) as exc:
            self.send_error(502, f"{host}:{port}: {exc}")
        finally:
            connection.close()


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        request, _ = super().get_request()
        return request, ("chroot", 0)  # BaseHTTPRequestHandler wants an address to log


@contextmanager
def proxy(allowed: set[tuple[str, int]], cache: DebCache | None = None):
    """The proxy's Unix socket, for as long as the block runs; with ``cache``, the pool files of
    its hosts are served from it, and kept there."""
    where = Path(tempfile.mkdtemp(prefix=stale.owned(stale.EGRESS), dir="/tmp"))  # short: a socket path has 107 bytes
    handler = type("Handler", (_Handler,), {"allowed": frozenset(allowed), "cache": cache})
    server = _Server(str(where / "proxy.sock"), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield where / "proxy.sock"
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(where, ignore_errors=True)
