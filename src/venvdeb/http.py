"""HTTP GET with retries and exponential backoff, and atomic downloads to files.

The only network boundary of the wheelhouse stage: unit tests replace it, integration tests use
PyPI for real, and the network-failure test points it at a closed port on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import NetworkError

USER_AGENT = f"venvdeb/{__version__}"
RETRIABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


class NotFound(Exception):
    """The server answered 404: retrying will not help."""


@dataclass
class Client:
    attempts: int = 4
    backoff: float = 0.5  # seconds; doubles after each failed attempt
    timeout: float = 60.0

    def _open(self, url: str, accept: str | None):
        headers = {"User-Agent": USER_AGENT}
        if accept:
            headers["Accept"] = accept
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=self.timeout)

    def _retry(self, url: str, action):
        delay = self.backoff
        last: Exception | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                return action()
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    raise NotFound(url) from None
                if exc.code not in RETRIABLE_STATUS:
                    raise NetworkError(f"GET {url}: HTTP {exc.code} {exc.reason}") from None
                last = exc
            except (urllib.error.URLError, socket.timeout, ConnectionError, TimeoutError) as exc:
                last = exc
            if attempt < self.attempts:
                time.sleep(delay)
                delay *= 2
        reason = getattr(last, "reason", last)
        raise NetworkError(
            f"GET {url}: failed after {self.attempts} attempts: {reason}",
            hint="check the network or the index URL of the release; the build can simply be run again",
        )

    def get_bytes(self, url: str, accept: str | None = None) -> bytes:
        def action():
            with self._open(url, accept) as response:
                return response.read()

        return self._retry(url, action)

    def download(self, url: str, dest: Path, sha256: str | None = None) -> str:
        """Download ``url`` to ``dest`` atomically; verify ``sha256`` if given; return the sha256."""
        dest.parent.mkdir(parents=True, exist_ok=True)

        def action():
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
            digest = hashlib.sha256()
            try:
                with os.fdopen(fd, "wb") as out, self._open(url, None) as response:
                    while chunk := response.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
                got = digest.hexdigest()
                if sha256 and got != sha256:
                    raise NetworkError(
                        f"GET {url}: sha256 mismatch (expected {sha256}, got {got})",
                        hint="the index served different bytes than it lists; the file was discarded",
                    )
                os.replace(tmp, dest)
                return got
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)

        return self._retry(url, action)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, for a server started next (or, left
    closed, for a request that must be refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
