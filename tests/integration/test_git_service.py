"""A service from a git stable branch: its own wheel from the checkout, with pbr's version."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest
from debian.debfile import DebFile

from tests.conftest import write
from .conftest import TINY_UC
from .test_service_build import purge_test_wheelhouses, run  # noqa: F401 (fixture)

pytestmark = [pytest.mark.integration, pytest.mark.network]


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin",
                        "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)})


@pytest.fixture
def upstream(tmp_path) -> Path:
    """A bare repository with a pbr project: tagged 1.0.0 on stable/2025.2, then two commits."""
    work = tmp_path / "work"
    write(work / "pyproject.toml", """
        [build-system]
        requires = ["pbr>=6.0.0", "setuptools>=64"]
        build-backend = "pbr.build"
    """)
    write(work / "setup.cfg", """
        [metadata]
        name = gitsvc
        summary = A service from git
        author = Test
        license = Apache-2.0

        [files]
        packages = gitsvc

        [entry_points]
        console_scripts =
            gitsvc = gitsvc:main
    """)
    write(work / "setup.py", "import setuptools\nsetuptools.setup(pbr=True)\n")
    write(work / "requirements.txt", "idna>=3\n")
    write(work / "gitsvc" / "__init__.py", "def main():\n    print('gitsvc works')\n")
    git("init", "-q", "-b", "stable/2025.2", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "Initial", cwd=work)
    git("tag", "-a", "1.0.0", "-m", "1.0.0", cwd=work)
    for n in (1, 2):
        (work / "gitsvc" / f"m{n}.py").write_text(f"X = {n}\n")
        git("add", ".", cwd=work)
        git("commit", "-q", "-m", f"Fix number {n}", cwd=work)
    bare = tmp_path / "gitsvc.git"
    git("clone", "-q", "--bare", str(work), str(bare), cwd=tmp_path)
    return bare


def test_git_service_builds_its_own_wheel_with_its_git_version(make_root, tmp_path, cache_dir, upstream):
    root = make_root(TINY_UC, {}, name="g1")
    release = root / "releases" / "g1.toml"
    release.write_text(release.read_text().replace("services = []", 'services = ["gitsvc"]'))
    write(root / "services" / "gitsvc.toml", f"""
        name = "gitsvc"
        summary = "Service from a stable branch"
        console_scripts = ["gitsvc"]
        smoke_commands = ["gitsvc"]

        [source]
        git = "{upstream}"
        branch = "stable/2025.2"
    """)
    code, wh, err = run("wheelhouse", "build", "g1", root=root, tmp=tmp_path, cache=cache_dir)
    assert wh["wheels"] == 1  # idna, from the checkout's requirements

    code, result, err = run("build", "g1", "gitsvc", root=root, tmp=tmp_path, cache=cache_dir)
    assert result["version"] == "1.0.1~dev2-1"
    assert result["reason"].startswith("Build stable/2025.2 at ") and result["reason"].endswith(": Fix number 2.")
    deb = Path(result["deb"])
    assert DebFile(str(deb)).debcontrol()["Version"] == "1.0.1~dev2-1"
    names = [str(m) for m in DebFile(str(deb)).data.tgz().getnames() if ".dist-info" in m and m.endswith("METADATA")]
    assert any("gitsvc-1.0.1.dev2.dist-info" in n for n in names) and any("idna-3.10.dist-info" in n for n in names)
