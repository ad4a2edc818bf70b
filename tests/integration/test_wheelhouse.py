"""A real wheelhouse, end to end: PyPI, dpkg-buildpackage, lintian, dpkg-deb."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from debian.changelog import Changelog
from debian.debfile import DebFile

from venvdeb.files import sha256_file

from .conftest import TINY_UC, both_distributions, debs_under

pytestmark = [pytest.mark.integration, pytest.mark.network]


def extract(deb: Path, dest: Path) -> Path:
    subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)
    return dest


def lintian(deb: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["lintian", "--fail-on", "error,warning", str(deb)], capture_output=True, text=True)


def test_tiny_wheelhouse_end_to_end(make_root, venvdeb, tmp_path):
    root = make_root(TINY_UC, {"svc": ("requests", "2.32.4")})
    code, result, err = venvdeb("wheelhouse", "build", "t1", root=root)
    assert code == 0, err
    assert result["wheels"] == 5 and result["version"] == "1+deb12" and result["changed"]
    deb = Path(result["deb"])
    assert deb.name == f"test-wheelhouse-t1_1+deb12_{result['architecture']}.deb"
    assert deb.with_name(deb.name + ".sha256").read_text() == f"{sha256_file(deb)}  {deb.name}\n"

    # charset-normalizer ships compiled wheels: the package is for this architecture.
    assert result["architecture"] != "all"
    control = DebFile(str(deb)).debcontrol()
    assert control["Architecture"] == result["architecture"]
    assert control["Version"] == "1+deb12"
    members = subprocess.run(["ar", "t", str(deb)], capture_output=True, text=True, check=True).stdout.split()
    assert members == ["debian-binary", "control.tar.zst", "data.tar.zst"]

    run = lintian(deb)
    assert run.returncode == 0, run.stdout + run.stderr

    tree = extract(deb, tmp_path / "x")
    wheelhouse = tree / "usr/share/venvdeb/wheelhouse/t1"
    wheels = sorted(p.name for p in wheelhouse.glob("*.whl"))
    assert len(wheels) == 5 and any(w.startswith("requests-2.32.4-") for w in wheels)
    assert not any(w.startswith("idna-2.5") for w in wheels)
    sums = dict(reversed(line.split("  ")) for line in (wheelhouse / "SHA256SUMS").read_text().splitlines())
    for name in wheels:
        assert hashlib.sha256((wheelhouse / name).read_bytes()).hexdigest() == sums[name]
    manifest = json.loads((wheelhouse / "manifest.json").read_text())
    for item in manifest["wheels"]:
        assert set(item) >= {"name", "version", "file", "sha256", "size", "origin"}
        assert item["origin"] == "downloaded" and item["size"] == (wheelhouse / item["file"]).stat().st_size
    assert (wheelhouse / "constraints.txt").read_text() == TINY_UC
    log = Changelog(subprocess.run(["zcat", str(tree / "usr/share/doc/test-wheelhouse-t1/changelog.gz")],
                                   capture_output=True, text=True, check=True).stdout)
    assert str(log.version) == "1+deb12"


def test_rebuild_is_idempotent_and_reproducible(make_root, venvdeb, tmp_path):
    root = make_root(TINY_UC, {"svc": ("requests", "2.32.4")})
    state = tmp_path / "state"
    code, first, err = venvdeb("wheelhouse", "build", "t1", root=root, state=state, out=tmp_path / "a")
    assert code == 0, err
    code, again, err = venvdeb("wheelhouse", "build", "t1", root=root, state=state, out=tmp_path / "a")
    assert code == 0, err
    assert (again["version"], again["changed"]) == ("1+deb12", False)
    assert again["stats"].get("downloads", 0) == 0 and again["stats"].get("index_requests", 0) == 0
    # Same inputs, another directory, later: the same bytes.
    code, other, err = venvdeb("wheelhouse", "build", "t1", root=root, state=state, out=tmp_path / "b")
    assert code == 0, err
    assert other["changed"] and other["version"] == "1+deb12"
    assert Path(first["deb"]).read_bytes() == Path(other["deb"]).read_bytes()


def test_one_pin_bumped_fetches_only_that_one(make_root, venvdeb, tmp_path, cache_dir):
    root = make_root(TINY_UC, {"svc": ("requests", "2.32.4")})
    # A cache of its own but for the session's chroot images: what an earlier test fetched (a
    # farm's master rebuilding a wheelhouse with idna 3.9) is not this test's.
    (cache_dir / "chroots").mkdir(parents=True, exist_ok=True)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "chroots").symlink_to(cache_dir / "chroots")
    code, first, err = venvdeb("wheelhouse", "build", "t1", root=root, cache=cache)
    assert code == 0, err
    (root / "upper-constraints.txt").write_text(TINY_UC.replace("idna===3.10", "idna===3.9"))
    code, bumped, err = venvdeb("wheelhouse", "build", "t1", root=root, cache=cache)
    assert code == 0, err
    assert bumped["version"] == "2+deb12" and bumped["changed"]
    assert bumped["stats"]["downloads"] == 1 and bumped["stats"].get("builds", 0) == 0
    tree = extract(Path(bumped["deb"]), tmp_path / "x")
    changes = subprocess.run(["zcat", str(tree / "usr/share/doc/test-wheelhouse-t1/changelog.gz")],
                             capture_output=True, text=True, check=True).stdout
    assert "Update idna 3.10 -> 3.9." in changes
    assert [str(v) for v in Changelog(changes).versions] == ["2+deb12", "1+deb12"]


def test_a_downloaded_wheel_is_shared_by_every_distribution(make_root, venvdeb, tmp_path, cache_dir):
    root = make_root(TINY_UC, {"svc": ("requests", "2.32.4")})
    both_distributions(root)
    # An empty cache but for the session's chroot images (a new image would only cost time here).
    (cache_dir / "chroots").mkdir(parents=True, exist_ok=True)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "chroots").symlink_to(cache_dir / "chroots")
    code, result, err = venvdeb("wheelhouse", "build", "t1", root=root, cache=cache)
    assert code == 0, err
    bookworm, trixie = result["distributions"]["bookworm"], result["distributions"]["trixie"]
    assert (bookworm["interpreter"], bookworm["wheels"], bookworm["stats"]["downloads"]) == ("cp311", 5, 5)
    # requests, urllib3, idna and certifi are pure Python: trixie reuses them, and only
    # charset-normalizer's cp313 wheel is new.
    assert (trixie["interpreter"], trixie["wheels"], trixie["stats"]["downloads"]) == ("cp313", 5, 1)
    assert len(list((cache / "wheels" / "requests").rglob("*.whl"))) == 1
    assert len(list((cache / "wheels" / "charset-normalizer").rglob("*.whl"))) == 2


def test_sdist_is_built_for_the_target(make_root, venvdeb, tmp_path):
    # simplegeneric has no wheel at all: it must be built with PEP 517 by /usr/bin/python3.
    root = make_root("simplegeneric===0.8.1\n", {"svc": ("simplegeneric", "0.8.1")})
    code, result, err = venvdeb("wheelhouse", "build", "t1", root=root)
    assert code == 0, err
    assert result["built"] == 1 and result["architecture"] == "all"
    manifest = json.loads(Path(result["deb"]).with_name("test-wheelhouse-t1_1+deb12.manifest.json").read_text())
    [item] = manifest["wheels"]
    assert item["origin"] == "built" and item["file"].endswith("-py3-none-any.whl")
    assert item["source"]["file"] == "simplegeneric-0.8.1.zip"
    assert lintian(Path(result["deb"])).returncode == 0


def test_all_pins_takes_every_applicable_pin(make_root, venvdeb):
    # 'six' is no dependency of the service: only --all brings it in.
    root = make_root(TINY_UC + "six===1.17.0\n", {"svc": ("idna", "3.10")})
    code, result, err = venvdeb("wheelhouse", "build", "t1", "--all", root=root)
    assert code == 0, err
    assert result["wheels"] == 6
    code, closure, err = venvdeb("wheelhouse", "build", "t1", root=root, state=root / "other-state")
    assert code == 0, err
    assert closure["wheels"] == 1


def test_the_embedded_default_release(venvdeb, tmp_path):
    from tests.conftest import PROJECT

    code, result, err = venvdeb("wheelhouse", "build", "2025.2", "--dist", "bookworm", root=PROJECT / "packaging")
    assert code == 0, err
    assert result["package"] == "openstack-wheelhouse-2025.2"
    assert result["wheels"] > 150 and result["built"] >= 1
    deb = Path(result["deb"])
    run = lintian(deb)
    assert run.returncode == 0, run.stdout + run.stderr
    names = {w["name"] for w in json.loads(deb.with_name(f"{deb.name.split('_')[0]}_{result['version']}.manifest.json").read_text())["wheels"]}
    assert {"nova", "glance", "keystone", "pymysql", "python-memcached", "oslo-config"} <= names
    assert debs_under(tmp_path / "out") == [deb]
