"""Smoke loads each console script's entry point as the command would: in a process of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write

from .conftest import TINY_UC, git, pipeline_in_a_new_repository

pytestmark = [pytest.mark.integration, pytest.mark.network]

# Like nova 33: each command picks a process-wide backend when its module is imported, and a
# second, different choice in the same interpreter is refused.
BACKEND = """
SELECTED = None


def select(name):
    global SELECTED
    if SELECTED not in (None, name):
        raise RuntimeError(f"BackendAlreadySelected: {SELECTED}, not {name}")
    SELECTED = name
"""


def two_backends(tmp_path: Path) -> tuple[Path, Path]:
    work = tmp_path / "twoback-work"
    write(work / "pyproject.toml", """
        [build-system]
        requires = ["pbr>=6.0.0", "setuptools>=64"]
        build-backend = "pbr.build"
    """)
    write(work / "setup.cfg", """
        [metadata]
        name = twoback
        summary = Two commands, two backends
        author = Test
        license = Apache-2.0

        [files]
        packages = twoback

        [entry_points]
        console_scripts =
            twoback-green = twoback.green:main
            twoback-threads = twoback.threads:main
    """)
    write(work / "setup.py", "import setuptools\nsetuptools.setup(pbr=True)\n")
    write(work / "requirements.txt", "idna>=3\n")
    write(work / "twoback" / "__init__.py", "")
    write(work / "twoback" / "backend.py", BACKEND)
    for module, backend in (("green", "eventlet"), ("threads", "threading")):
        write(work / "twoback" / f"{module}.py",
              f"from twoback import backend\n\nbackend.select({backend!r})\n\n\ndef main():\n    print({backend!r})\n")
    git("init", "-q", "-b", "stable/2026.1", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "Initial", cwd=work)
    git("tag", "-a", "2.0.0", "-m", "2.0.0", cwd=work)
    bare = tmp_path / "twoback.git"
    git("clone", "-q", "--bare", str(work), str(bare), cwd=tmp_path)
    return work, bare


def test_commands_whose_modules_cannot_share_an_interpreter_pass_smoke(make_root, tmp_path, cache_dir):
    work, upstream = two_backends(tmp_path)
    # The case is real: the two commands' modules cannot be imported in one interpreter.
    both = subprocess.run([sys.executable, "-c", "import twoback.green, twoback.threads"], cwd=work,
                          capture_output=True, text=True)
    assert both.returncode != 0 and "BackendAlreadySelected" in both.stderr

    root = make_root(TINY_UC, {}, name="k1")
    release = root / "releases" / "k1.toml"
    release.write_text(release.read_text().replace("services = []", 'services = ["twoback"]'))
    write(root / "services" / "twoback.toml", f"""
        name = "twoback"
        summary = "Two commands with two backends"
        console_scripts = ["twoback-green", "twoback-threads"]
        smoke_commands = ["twoback-green", "twoback-threads"]

        [source]
        git = "{upstream}"
        branch = "stable/2026.1"
    """)
    proc = pipeline_in_a_new_repository(root, "k1", tmp_path, cache_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "smoke: ok   console scripts' entry points import" in proc.stderr
