"""`venvdeb repo serve` serves what apt and rebuilders need, and nothing of the repository's own
state, however the path is spelled."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from venvdeb.repository.serve import serving


def test_only_the_public_parts_are_served_whatever_the_spelling(tmp_path):
    for name, text in {"conf/distributions": "Codename: x\n", "gates/venv-a_1.json": "{}\n", "db/checksums.db": "x",
                       "dists/s/Release": "Origin: venvdeb\n", "buildinfo/venv-a_1_all.buildinfo": "Format: 1.0\n"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    with serving(tmp_path) as url:
        where = urlsplit(url)

        def status(path: str) -> int:
            connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
            try:
                connection.request("GET", path)  # sent as written: no client normalises it
                return connection.getresponse().status
            finally:
                connection.close()

        assert status("/dists/s/Release") == 200
        assert status("/buildinfo/venv-a_1_all.buildinfo") == 200
        for path in ("/conf/distributions", "/gates/venv-a_1.json", "/db/checksums.db",
                     "/dists/../conf/distributions", "/dists/%2e%2e/conf/distributions",
                     "/dists/%2E%2E/gates/venv-a_1.json", "/pool/..%2fdb/checksums.db",
                     "/dists/s/%2e%2e/%2e%2e/conf/distributions"):
            assert status(path) == 404, path


def test_a_file_written_again_within_a_second_is_not_answered_304(tmp_path):
    """apt keeps an index's Last-Modified and sends it back as If-Modified-Since; HTTP dates count
    whole seconds, so a file younger than a second is said to be a second older than it is."""
    import os
    import time
    from email.utils import parsedate_to_datetime

    release = tmp_path / "dists" / "s" / "InRelease"
    release.parent.mkdir(parents=True)
    release.write_text("first\n")
    with serving(tmp_path) as url:
        where = urlsplit(url)

        def get(headers=None):
            connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
            try:
                connection.request("GET", "/dists/s/InRelease", headers=headers or {})
                response = connection.getresponse()
                return response.status, response.getheader("Last-Modified"), response.read()
            finally:
                connection.close()

        status, young, _ = get()
        assert status == 200 and parsedate_to_datetime(young).timestamp() < int(release.stat().st_mtime)
        release.write_text("second\n")  # written again, in the same second
        assert get({"If-Modified-Since": young})[::2] == (200, b"second\n")
        old = time.time() - 60
        os.utime(release, (old, old))
        status, modified, _ = get()
        assert status == 200 and parsedate_to_datetime(modified).timestamp() == int(old)
        assert get({"If-Modified-Since": modified})[0] == 304  # unchanged since: not sent again
