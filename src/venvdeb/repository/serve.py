"""`venvdeb repo serve`: the repository over HTTP, on 127.0.0.1, for apt and Buildbot workers.

Only what apt needs is served: dists/, pool/ and the public keyring, and each published
package's .buildinfo (buildinfo/: how to rebuild it); reprepro's conf/ and db/ and venvdeb's gate
records are not. A path is judged as the handler will open it: percent-decoded first.
"""

from __future__ import annotations

import functools
import threading
import urllib.parse
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .reprepro import BUILDINFO, KEYRING

PUBLIC = ("/dists/", "/pool/", f"/{BUILDINFO}/", f"/{KEYRING}")


class RepositoryHandler(SimpleHTTPRequestHandler):
    def send_head(self):
        # SimpleHTTPRequestHandler decodes %2e%2e into ".." when it maps the path to a file.
        path = urllib.parse.unquote(self.path.split("?", 1)[0].split("#", 1)[0])
        if ".." in path.split("/") or "\\" in path or not path.startswith(PUBLIC):
            self.send_error(404, "not part of the repository")
            return None
        return super().send_head()

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass  # apt's requests are not news


def server(base: Path, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    handler = functools.partial(RepositoryHandler, directory=str(base))
    return ThreadingHTTPServer((host, port), handler)


@contextmanager
def serving(base: Path, host: str = "127.0.0.1", port: int = 0):
    """Serve ``base`` in a thread for the duration of the block; yields the base URL."""
    httpd = server(base, host, port)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
