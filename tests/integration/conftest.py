"""Integration tests: real PyPI, real dpkg-buildpackage, real lintian."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.network]

# A small real closure: requests and what it needs, pinned as upper-constraints are.
TINY_UC = """\
requests===2.32.4
urllib3===1.26.20
idna===3.10
certifi===2025.8.3
charset-normalizer===3.4.2
# not for this interpreter: must be skipped
idna===2.5;python_version=='2.7'
"""


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One cache for the session: the build environment is made once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def venvdeb(tmp_path, cache_dir):
    """Run the real CLI; returns (exit code, parsed JSON stdout or None, stderr)."""

    def run(*args, root: Path, state: Path | None = None, out: Path | None = None, cache: Path | None = None):
        argv = [sys.executable, "-m", "venvdeb", "--packaging", str(root), *args,
                "--cache-dir", str(cache or cache_dir), "--out-dir", str(out or tmp_path / "out"),
                "--state-dir", str(state or tmp_path / "state"), "--json"]
        proc = subprocess.run(argv, capture_output=True, text=True)
        try:
            data = json.loads(proc.stdout) if proc.stdout.strip() else None
        except json.JSONDecodeError:
            data = None
        return proc.returncode, data, proc.stderr

    return run


def debs_under(path: Path) -> list[Path]:
    return sorted(path.rglob("*.deb")) if path.exists() else []
