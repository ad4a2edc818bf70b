"""The build lock (issue 24): sdists are built only with build requirements pinned by hash.

An sdist of its own on a PEP 691 index on 127.0.0.1, ``tiny-flit``, declares flit_core as its
build backend, which the test releases' build lock (tests/integration/build-lock/) lacks:

- the wheelhouse build refuses it, naming the requirement, the sdist, the lock and the command
  that adds it; nothing reaches the output directory;
- ``venvdeb lock t1 --build-only`` reads what the sdist declares and compiles the lock again;
- the wheelhouse is then built, and its manifest records the build lock its wheel was built with.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import package_index, tiny_sdist

from .conftest import debs_under

pytestmark = [pytest.mark.integration, pytest.mark.network]

FLIT = """
[build-system]
requires = ["flit_core>=3.4,<4"]
build-backend = "flit_core.buildapi"
"""


def test_a_build_requirement_missing_from_the_build_lock_is_named_then_locked(make_root, venvdeb, tmp_path,
                                                                               cache_dir):
    published = {"tiny-flit": {"tiny_flit-1.0.tar.gz": tiny_sdist("tiny-flit", FLIT)}}
    with package_index(lambda: published) as index:
        root = make_root("tiny-flit===1.0\n", {"svc": ("tiny-flit", "1.0")},
                         release_extra=f'index_url = "{index}"\n')
        lock, lock_in = root / "locks" / "build.txt", root / "locks" / "build.in"
        assert "flit" not in lock.read_text()

        code, result, err = venvdeb("wheelhouse", "build", "t1", root=root)
        assert code != 0 and result is not None, err
        [failure] = result["failures"]
        assert failure["package"] == "tiny-flit" and failure["phase"] == "build", failure
        assert "build requirement 'flit_core>=3.4,<4' of tiny_flit-1.0.tar.gz" in failure["reason"], failure
        assert f"is not in the build lock {lock}" in failure["reason"], failure
        assert "venvdeb lock t1 --build-only" in failure["hint"], failure
        assert debs_under(tmp_path / "out") == []

        proc = subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(root), "lock", "t1", "--build-only",
                               "--cache-dir", str(cache_dir), "--json"], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        said = json.loads(proc.stdout)
        assert (said["build_lock"], said["distributions"], said["lock"]) == (str(lock), ["bookworm"], "")
        assert "flit_core<4,>=3.4  # tiny_flit-1.0.tar.gz\n" in lock_in.read_text()
        pins = [line for line in lock.read_text().splitlines() if line.startswith("flit-core==")]
        assert len(pins) == 1 and "--hash=sha256:" in lock.read_text().split(pins[0])[1].split("\n", 2)[1]

        code, result, err = venvdeb("wheelhouse", "build", "t1", root=root)
        assert code == 0, err
        assert result["built"] == 1
    manifest = json.loads(Path(result["deb"]).with_name("test-wheelhouse-t1_1+deb12.manifest.json").read_text())
    assert manifest["wheels"][0]["file"] == "tiny_flit-1.0-py2.py3-none-any.whl"
    toolchain = manifest["toolchain"]
    assert toolchain["lock"] == "locks/build.txt"
    assert toolchain["sha256"] == hashlib.sha256(lock.read_bytes()).hexdigest()
    assert pins[0].split()[0] in toolchain["pins"]
