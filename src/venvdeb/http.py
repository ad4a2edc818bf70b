"""HTTP GET through urllib3: pooled connections, retries with exponential backoff that honour
Retry-After, and atomic downloads to files.

The only network boundary of the wheelhouse stage: unit tests replace it, integration tests use
PyPI for real, and the network-failure test points it at a closed port on 127.0.0.1.
urllib3's Retry handles what fails before a response (refused connections, timeouts) and
retriable statuses; a body that breaks off (IncompleteRead, an SSL error mid-stream) is retried
here, and whatever still fails ends as a NetworkError that names the URL, never a traceback.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import urllib3
from urllib3.exceptions import HTTPError, MaxRetryError
from urllib3.util import Retry

from . import __version__
from .errors import NetworkError

USER_AGENT = f"venvdeb/{__version__}"
RETRIABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0  # seconds: a server asking for longer gets a failed build, not a hung one
HINT = "check the network or the index URL of the release; the build can simply be run again"


class NotFound(Exception):
    """The server answered 404: retrying will not help."""


class _Retry(Retry):
    def get_retry_after(self, response):
        asked = super().get_retry_after(response)
        return None if asked is None else min(asked, MAX_RETRY_AFTER)


@dataclass
class Client:
    attempts: int = 4
    backoff: float = 0.5  # seconds; doubles after each failed attempt
    timeout: float = 60.0
    pool_size: int = 8  # connections kept per host: the wheelhouse downloads in parallel
    _pool: urllib3.PoolManager = field(init=False, repr=False)
    _proxies: dict = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self):
        retries = _Retry(total=self.attempts - 1, backoff_factor=self.backoff, status_forcelist=RETRIABLE_STATUS,
                         allowed_methods={"GET"}, respect_retry_after_header=True, raise_on_status=True)
        self._options = dict(num_pools=4, maxsize=self.pool_size, retries=retries, headers={"User-Agent": USER_AGENT},
                             timeout=urllib3.Timeout(total=None, connect=self.timeout, read=self.timeout))
        self._pool = urllib3.PoolManager(**self._options)

    def _pool_for(self, url: str) -> urllib3.PoolManager:
        """The proxy the environment names for this URL (http_proxy, https_proxy, no_proxy, as
        urllib, pip and uv read them), else a direct connection."""
        parts = urllib.parse.urlsplit(url)
        proxy = urllib.request.getproxies().get(parts.scheme)
        local = parts.hostname in ("localhost", "127.0.0.1", "::1")  # the farm's repository, a test's index
        if not proxy or local or urllib.request.proxy_bypass(parts.hostname or ""):
            return self._pool
        if proxy not in self._proxies:
            self._proxies[proxy] = urllib3.ProxyManager(proxy, **self._options)
        return self._proxies[proxy]

    def _get(self, url: str, accept: str | None, stream: bool) -> urllib3.BaseHTTPResponse:
        headers = {"User-Agent": USER_AGENT, **({"Accept": accept} if accept else {})}
        response = self._pool_for(url).request("GET", url, headers=headers, preload_content=not stream)
        if response.status == 404:
            response.release_conn()
            raise NotFound(url)
        if response.status >= 400:
            response.release_conn()
            raise NetworkError(f"GET {url}: HTTP {response.status} {response.reason}", hint=HINT)
        return response

    def _retry(self, url: str, action):
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return action()
            except MaxRetryError as exc:  # urllib3 made every attempt already
                raise NetworkError(f"GET {url}: failed after {self.attempts} attempts: {exc.reason}", hint=HINT) from None
            except HTTPError as exc:  # the response broke off: IncompleteRead, SSL, a read timeout
                if attempt == self.attempts:
                    raise NetworkError(f"GET {url}: failed after {self.attempts} attempts: "
                                       f"{type(exc).__name__}: {exc}", hint=HINT) from None
            time.sleep(delay)
            delay *= 2

    def get_bytes(self, url: str, accept: str | None = None) -> bytes:
        return self._retry(url, lambda: self._get(url, accept, stream=False).data)

    def download(self, url: str, dest: Path, sha256: str | None = None) -> str:
        """Download ``url`` to ``dest`` atomically; verify ``sha256`` if given; return the sha256."""
        dest.parent.mkdir(parents=True, exist_ok=True)

        def action():
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
            digest = hashlib.sha256()
            try:
                with os.fdopen(fd, "wb") as out:
                    response = self._get(url, None, stream=True)
                    try:
                        for chunk in response.stream(1 << 20):
                            digest.update(chunk)
                            out.write(chunk)
                    finally:
                        response.release_conn()
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
