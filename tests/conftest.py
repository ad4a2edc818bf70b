"""Shared helpers: writing packaging roots for tests."""

from __future__ import annotations

import hashlib
import json
import textwrap
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from venvdeb.wheelhouse.index import PEP691

PROJECT = Path(__file__).resolve().parents[1]


@contextmanager
def http_server(handler):
    """A real HTTP server on 127.0.0.1 with ``handler``, in a thread, for as long as the block
    runs; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def package_index(projects):
    """A PEP 691 package index on 127.0.0.1 of ``projects()`` (project name -> {file name: bytes}),
    asked at each request (a test may publish more as it goes), every file with its sha256;
    yields the index's URL."""
    class Index(BaseHTTPRequestHandler):
        def do_GET(self):
            published = projects()
            name = self.path.removeprefix("/simple/").rstrip("/")
            files = {f: data for found in published.values() for f, data in found.items()}
            if self.path.startswith("/simple/") and name in published:
                port = self.server.server_address[1]
                body = json.dumps({"meta": {"api-version": "1.0"}, "name": name, "files": [
                    {"filename": f, "url": f"http://127.0.0.1:{port}/files/{f}",
                     "hashes": {"sha256": hashlib.sha256(data).hexdigest()}, "requires-python": None, "yanked": False}
                    for f, data in sorted(published[name].items())]}).encode()
                kind = PEP691
            elif self.path.startswith("/files/") and self.path[7:] in files:
                body, kind = files[self.path[7:]], "application/octet-stream"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with http_server(Index) as port:
        yield f"http://127.0.0.1:{port}/simple"


def tiny_sdist(name: str, build_system: str, marker: bytes = b"") -> bytes:
    """An sdist of ``name`` 1.0, one module, built by the backend its pyproject's ``build_system``
    table names (``marker``: bytes more in the module, for another sdist of the same name)."""
    import io
    import tarfile

    module = name.replace("-", "_")
    pyproject = f'{build_system.strip()}\n\n[project]\nname = "{name}"\nversion = "1.0"\ndescription = "Tiny"\n'
    files = {"PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
             "pyproject.toml": pyproject.encode(), f"{module}/__init__.py": b'"""Tiny."""\n' + marker}
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        for path, content in files.items():
            info = tarfile.TarInfo(f"{module}-1.0/{path}")
            info.size, info.mode, info.mtime = len(content), 0o644, 1767225600
            tar.addfile(info, io.BytesIO(content))
    return data.getvalue()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


BUILD_LOCK = Path(__file__).parent / "integration" / "build-lock"

RELEASE = """
name = "{name}"
distribution = "bookworm"
services = {services}
wheelhouse_package = "test-wheelhouse-{name}"
build_depends = {build_depends}
{extra}
[constraints]
kind = "upper-constraints"
path = "upper-constraints.txt"
build_lock = "locks/build.txt"

[suites]
staging = "bookworm-{name}-staging"
production = "bookworm-{name}"
"""

SERVICE = """
name = "{name}"
summary = "Test service"
console_scripts = {scripts}
smoke_commands = ["{name} --version"]
{extra}
[source]
pypi = "{pypi}"
version = "{version}"
"""


def toml_list(items) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


@pytest.fixture
def make_root(tmp_path):
    """Write a packaging root: make_root(constraints="...", services={"svc": ("requests", "2.32.4")})."""

    def make(constraints: str, services: dict, name: str = "t1", release_extra: str = "",
             build_depends=(), service_extra: str = "", scripts=("svc",)) -> Path:
        root = tmp_path / "packaging"
        write(root / "upper-constraints.txt", constraints)
        for lock in BUILD_LOCK.iterdir():  # what builds sdists: make lock compiles it
            (root / "locks").mkdir(parents=True, exist_ok=True)
            (root / "locks" / lock.name).write_bytes(lock.read_bytes())
        write(root / "releases" / f"{name}.toml", RELEASE.format(
            name=name, services=toml_list(services), build_depends=toml_list(build_depends), extra=release_extra))
        for svc, (pypi, version) in services.items():
            write(root / "services" / f"{svc}.toml", SERVICE.format(
                name=svc, pypi=pypi, version=version, scripts=toml_list(scripts), extra=service_extra))
        return root

    return make
