"""A service that follows a stable series: a new point release on the package index is built.

The package index is a real HTTP server on 127.0.0.1 speaking PEP 691 (JSON), holding a small real
project's wheels; the release takes everything from it and follows the project's 1.0.* series.
"""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
import zipfile
from contextlib import contextmanager

import pytest

from tests.conftest import package_index as serve_index

from .test_buildbot import published as in_the_repository

pytestmark = [pytest.mark.integration, pytest.mark.network]

PROJECT = "prdemo"


def wheel(version: str) -> tuple[str, bytes]:
    """A real wheel of a one-module project with a console script."""
    dist = f"{PROJECT}-{version}.dist-info"
    files = {
        f"{PROJECT}/__init__.py": f"def main():\n    print('{PROJECT} {version}')\n".encode(),
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {PROJECT}\nVersion: {version}\nSummary: A demo\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: venvdeb-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist}/entry_points.txt": f"[console_scripts]\n{PROJECT} = {PROJECT}:main\n".encode(),
    }

    def digest(data: bytes) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

    record = "".join(f"{name},sha256={digest(data)},{len(data)}\n" for name, data in files.items())
    files[f"{dist}/RECORD"] = (record + f"{dist}/RECORD,,\n").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return f"{PROJECT}-{version}-py3-none-any.whl", out.getvalue()


def package_index(published: dict[str, bytes]):
    """A PEP 691 index of ``published`` (file name -> bytes, changed by the test as it goes)."""
    return serve_index(lambda: {PROJECT: dict(published)})


def changelog(deb: str) -> str:
    control = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], capture_output=True, check=True).stdout
    import gzip
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(control)) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("changelog.Debian.gz"))
        return gzip.decompress(tar.extractfile(member).read()).decode()


def test_the_farm_builds_the_point_release_its_poller_finds_on_the_index(make_root, tmp_path, cache_dir):
    from .conftest import _farm

    published = dict([wheel("1.0.0")])
    with package_index(published) as index:
        root = make_root("", {"svc": (PROJECT, "1.0.*")}, scripts=(PROJECT,),
                         release_extra=f'index_url = "{index}"\nlint_fail_on = ["error"]')
        with contextmanager(_farm)(make_root, tmp_path, cache_dir, None, smoke=False, packaging=root) as (_, api, pw):
            api.login("admin", pw)
            first = api.wait_request(api.force("force_wheelhouse_t1_bookworm", "wheelhouse-t1-bookworm",
                                               reason="First", trigger_services=True))
            assert first["results"] == 0, api.steps(first)
            service = api.wait(lambda: [b for b in api.builds("t1-bookworm-venv-svc") if b["complete"]], 600,
                               "the first service build")[0]
            assert service["results"] == 0 and service["properties"]["version"][0] == "1.0.0-deb12u1"

            # 1.0.1 appears on the index, with a pre-release of the next point release and a release
            # of the next series: the poller (every 2 s here) finds 1.0.1, the wheelhouse is
            # rebuilt with it, and the service after it.
            published.update([wheel("1.0.1"), wheel("1.0.2rc1"), wheel("1.1.0")])
            wheelhouse = api.wait(lambda: [b for b in api.builds("wheelhouse-t1-bookworm")[1:] if b["complete"]],
                                  600, "the wheelhouse build of the point release")[0]
            assert wheelhouse["results"] == 0, api.steps(wheelhouse)
            assert wheelhouse["properties"]["scheduler"][0] == "point_releases_t1_bookworm"
            assert wheelhouse["properties"]["point_release"][0] == "prdemo==1.0.1"
            service = api.wait(lambda: [b for b in api.builds("t1-bookworm-venv-svc")[1:] if b["complete"]], 600,
                               "the service build of the point release")[0]
            assert service["results"] == 0, api.steps(service)
            assert service["properties"]["version"][0] == "1.0.1-deb12u1"
            deb = in_the_repository(tmp_path, "venv-svc", "1.0.1-deb12u1")  # (the build's upload is gone)
            text = changelog(str(deb))
            assert text.splitlines()[2].strip() == "* New upstream point release 1.0.1.", text
            assert "Update prdemo 1.0.0 -> 1.0.1." in text
            assert "point release: prdemo (not pinned) -> 1.0.1 (series 1.0.*)" in api.log_text(wheelhouse, "wheelhouse")
