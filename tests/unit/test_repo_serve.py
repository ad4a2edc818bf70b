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
