"""The build lock's pure parts: what an sdist declares, the lock's input, pip's refusal read."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from venvdeb.errors import VenvdebError
from venvdeb.model import load_release
from venvdeb.model import build_lock


TOP = "demo-1.0"


def tar_sdist(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_an_sdist_declares_its_build_requirements_in_its_own_pyproject(tmp_path):
    sdist = tar_sdist(tmp_path / "demo-1.0.tar.gz", {
        f"{TOP}/pyproject.toml": b'[build-system]\nrequires = ["flit_core >=3.4,<4", "Cython"]\n',
        # a pyproject.toml deeper in the tree is a vendored project's, not the sdist's
        f"{TOP}/vendor/pyproject.toml": b'[build-system]\nrequires = ["hatchling"]\n'})
    assert build_lock.declared(sdist) == ["flit_core<4,>=3.4", "Cython"]


def test_an_sdist_without_pyproject_or_build_system_gets_the_legacy_backend(tmp_path):
    with zipfile.ZipFile(tmp_path / "old-1.0.zip", "w") as z:
        z.writestr("old-1.0/setup.py", "import setuptools\n")
    assert build_lock.declared(tmp_path / "old-1.0.zip") == ["setuptools>=40.8.0"]
    tool_only = tar_sdist(tmp_path / "t.tar.gz", {f"{TOP}/pyproject.toml": b"[tool.black]\nline-length = 99\n"})
    assert build_lock.declared(tool_only) == ["setuptools>=40.8.0"]


@pytest.mark.parametrize("pyproject, said", [
    (b'[build-system]\nrequires = ["not a requirement!"]\n', "'not a requirement!', which is not a requirement"),
    (b'[build-system]\nrequires = "setuptools"\n', "build-system.requires is not a list"),
    (b"[build-system\n", "pyproject.toml cannot be read"),
])
def test_a_bad_declaration_names_the_sdist(tmp_path, pyproject, said):
    sdist = tar_sdist(tmp_path / "demo-1.0.tar.gz", {f"{TOP}/pyproject.toml": pyproject})
    with pytest.raises(VenvdebError) as caught:
        build_lock.declared(sdist)
    assert caught.value.message.startswith("demo-1.0.tar.gz: pyproject.toml") and said in caught.value.message


def test_the_lock_input_is_the_base_then_who_asks_for_what(make_root):
    root = make_root("idna===3.10\n", {"svc": ("idna", "3.10")})
    release = root / "releases" / "t1.toml"
    release.write_text(release.read_text().replace('build_lock = "locks/build.txt"',
                                                   'build_lock = "locks/build.txt"\nbuild_requires = ["numpy"]'))
    point = load_release(root, "t1").at("bookworm")
    text = build_lock.requirements_in(point, {"Cython": {"b-1.0.tar.gz", "a-2.0.tar.gz"}, "wheel": {"a-2.0.tar.gz"}})
    lines = text.splitlines()
    assert lines[0].startswith("# The build toolchain of release t1")
    assert [line.split()[0] for line in lines[1:5]] == list(build_lock.BASE)
    # the base's own requirement is not repeated; every other one says who asks
    assert lines[5:] == ["Cython  # a-2.0.tar.gz, b-1.0.tar.gz", "numpy  # t1.toml: constraints.build_requires"]


def test_a_release_without_a_build_lock_builds_nothing_from_source(make_root):
    root = make_root("idna===3.10\n", {"svc": ("idna", "3.10")})
    release = root / "releases" / "t1.toml"
    release.write_text(release.read_text().replace('build_lock = "locks/build.txt"\n', ""))
    with pytest.raises(VenvdebError) as caught:
        build_lock.of(load_release(root, "t1").at("bookworm"))
    assert "key 'constraints.build_lock'" in caught.value.message
    assert "venvdeb lock t1 --build-only" in caught.value.hint

    release.write_text(release.read_text().replace("[constraints]\n", '[constraints]\nbuild_lock = "locks/none.txt"\n'))
    with pytest.raises(VenvdebError) as caught:
        build_lock.of(load_release(root, "t1").at("bookworm"))
    assert "locks/none.txt does not exist" in caught.value.message


def test_pips_refusal_is_read_as_the_requirement_the_lock_lacks(make_root):
    point = load_release(make_root("idna===3.10\n", {"svc": ("idna", "3.10")}), "t1").at("bookworm")
    log = ("Processing /cache/sdists/ab/demo-1.0.tar.gz\nERROR: Some build dependencies for demo==1.0 from "
           "file:///cache/sdists/ab/demo-1.0.tar.gz are missing: 'Cython>=3', 'flit_core<4'.\n")
    what, fix = build_lock.missing(point, log, "demo-1.0.tar.gz")
    assert what == f"build requirement 'Cython>=3', 'flit_core<4' of demo-1.0.tar.gz is not in the build lock " \
                   f"{point.constraints.build_lock}"
    assert "venvdeb lock t1 --build-only" in fix and "constraints.build_requires" in fix
    conflict = "ERROR: Some build dependencies for demo==1.0 conflict with the backend dependencies: " \
               "setuptools==80.10.2 is incompatible with setuptools>=81.\n"
    assert "setuptools==80.10.2 is incompatible with setuptools>=81" in build_lock.missing(point, conflict, "d")[0]
    assert build_lock.missing(point, "error: command 'gcc' failed\n", "d") is None
