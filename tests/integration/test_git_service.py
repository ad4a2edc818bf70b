"""A service from a git stable branch: its own wheel from the checkout, with pbr's version."""

from __future__ import annotations

from pathlib import Path

import pytest
from debian.debfile import DebFile

from .conftest import git_release
from .test_service_build import run

pytestmark = [pytest.mark.integration, pytest.mark.network]


def test_git_service_builds_its_own_wheel_with_its_git_version(make_root, tmp_path, cache_dir, upstream):
    root = git_release(make_root, "g1", upstream)
    code, wh, err = run("wheelhouse", "build", "g1", root=root, tmp=tmp_path, cache=cache_dir)
    assert wh["wheels"] == 1  # idna, from the checkout's requirements

    code, result, err = run("build", "g1", "gitsvc", root=root, tmp=tmp_path, cache=cache_dir)
    assert result["version"] == "1.0.1~~dev2-deb12u1"
    assert result["reason"].startswith("Build stable/2025.2 at ") and result["reason"].endswith(": Fix number 2.")
    deb = Path(result["deb"])
    assert DebFile(str(deb)).debcontrol()["Version"] == "1.0.1~~dev2-deb12u1"
    names = [str(m) for m in DebFile(str(deb)).data.tgz().getnames() if ".dist-info" in m and m.endswith("METADATA")]
    assert any("gitsvc-1.0.1.dev2.dist-info" in n for n in names) and any("idna-3.10.dist-info" in n for n in names)
