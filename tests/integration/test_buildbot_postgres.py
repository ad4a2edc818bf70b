"""The master on a real PostgreSQL server, as docs/farm.md's production setting has it: Debian's
postgresql, a cluster of its own on 127.0.0.1, and Buildbot's tables made and used there."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from buildbot.process.results import SUCCESS

from venvdeb.http import free_port

from .conftest import _farm

pytestmark = [pytest.mark.integration, pytest.mark.network]


def as_postgres(*argv: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(["runuser", "-u", "postgres", "--", *argv], capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, f"{' '.join(argv)}: {proc.stdout}{proc.stderr}"
    return proc


@pytest.fixture
def postgres():
    """A throwaway cluster (trust on 127.0.0.1 only) with a database for Buildbot; its URL."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.fail("Debian's postgresql is not installed: make setup installs it")
    bin_dir = found[-1].parent
    # Not under pytest's tmp_path: the postgres user must reach its data directory.
    data = Path(tempfile.mkdtemp(prefix="venvdeb-pg-", dir="/tmp"))
    shutil.chown(data, "postgres", "postgres")
    port = free_port()
    as_postgres(str(bin_dir / "initdb"), "-D", str(data / "db"), "-U", "buildbot", "-A", "trust")
    as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-w", "-l", str(data / "log"), "start",
                "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {data}")
    try:
        as_postgres(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "buildbot", "buildbot")
        yield f"postgresql://buildbot@127.0.0.1:{port}/buildbot", (bin_dir, port)
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(bin_dir / "pg_ctl"), "-D", str(data / "db"),
                        "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def test_the_master_keeps_its_state_in_postgresql(postgres, make_root, tmp_path, cache_dir, upstream):
    url, (bin_dir, port) = postgres
    farm = _farm(make_root, tmp_path, cache_dir, upstream, smoke=False, settings=f'db_url = "{url}"')
    _, api, password = next(farm)
    try:
        api.login("admin", password)
        build = api.wait_request(api.force("force_wheelhouse_b1_bookworm", "wheelhouse-b1-bookworm",
                                           reason="on PostgreSQL"))
        assert build["results"] == SUCCESS, api.steps(build)
        # What the API shows is what PostgreSQL holds.
        rows = as_postgres(str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "buildbot", "-At",
                           "-c", "SELECT b.number, b.results FROM builds b JOIN builders r ON r.id = b.builderid "
                                 "WHERE r.name = 'wheelhouse-b1-bookworm'", "buildbot").stdout.split()
        assert rows == [f"{build['number']}|{SUCCESS}"]
    finally:
        farm.close()
