"""`venvdeb repo serve`: the repository over HTTP, on 127.0.0.1, for apt and Buildbot workers.

Only what apt needs is served: dists/, pool/ and the public keyring, and each published
package's .buildinfo (buildinfo/: how to rebuild it); reprepro's conf/ and db/ and venvdeb's gate
records are not. A path is judged as the handler will open it: percent-decoded first.
"""

from __future__ import annotations

import functools
import os
import threading
import time
import urllib.parse
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .reprepro import BUILDINFO, KEYRING

PUBLIC = ("/dists/", "/pool/", f"/{BUILDINFO}/", f"/{KEYRING}")


class RepositoryHandler(SimpleHTTPRequestHandler):
    _young = None  # the served file's mtime, when it was written less than a second ago

    def send_head(self):
        # SimpleHTTPRequestHandler decodes %2e%2e into ".." when it maps the path to a file.
        path = urllib.parse.unquote(self.path.split("?", 1)[0].split("#", 1)[0])
        if ".." in path.split("/") or "\\" in path or not path.startswith(PUBLIC):
            self.send_error(404, "not part of the repository")
            return None
        try:
            mtime = os.stat(self.translate_path(self.path)).st_mtime
            self._young = mtime if time.time() - mtime < 1 else None
        except OSError:
            self._young = None
        return super().send_head()

    def send_header(self, keyword, value):
        # HTTP dates count whole seconds, and apt sends a Last-Modified back as If-Modified-Since
        # (without one, the response's Date): an InRelease written again in the second it was
        # fetched (publish, then promote) would be answered 304, the new one never fetched. A file
        # that young is said to be a second older: asked again, it is sent whole, changed or not.
        if keyword == "Last-Modified" and self._young is not None:
            value = self.date_time_string(int(self._young) - 1)
        super().send_header(keyword, value)

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
