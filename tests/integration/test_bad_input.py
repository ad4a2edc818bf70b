"""Bad input: a clear error naming the package, a non-zero exit, and no .deb."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from venvdeb.http import free_port

from .conftest import TINY_UC, both_distributions, debs_under

pytestmark = [pytest.mark.integration, pytest.mark.network]


def test_constraint_conflicting_with_a_service_requirement(make_root, venvdeb, tmp_path):
    # requests 2.32.4 requires urllib3>=1.21.1,<3: pin one below.
    root = make_root(TINY_UC.replace("urllib3===1.26.20", "urllib3===1.20"), {"svc": ("requests", "2.32.4")})
    code, error, err = venvdeb("wheelhouse", "build", "t1", root=root)
    assert code == 2
    [failure] = error["failures"]
    assert failure["package"] == "urllib3" and failure["phase"] == "conflict"
    assert "urllib3==1.20" in failure["reason"] and "requests 2.32.4 requires urllib3" in failure["reason"]
    assert "upper-constraints.txt:2" in failure["reason"]
    assert debs_under(tmp_path / "out") == []


def test_service_version_conflicting_with_the_constraints(make_root, venvdeb, tmp_path):
    root = make_root(TINY_UC, {"svc": ("requests", "2.32.3")})
    code, error, err = venvdeb("wheelhouse", "build", "t1", root=root)
    assert code == 2
    assert any(f["package"] == "requests" and "service svc" in f["reason"] for f in error["failures"])
    assert debs_under(tmp_path / "out") == []


def test_pin_that_does_not_exist(make_root, venvdeb, tmp_path):
    root = make_root(TINY_UC.replace("idna===3.10", "idna===3.999"), {"svc": ("requests", "2.32.4")})
    code, error, err = venvdeb("wheelhouse", "build", "t1", root=root)
    assert code == 2
    [failure] = error["failures"]
    assert failure["package"] == "idna" and "idna==3.999 does not exist" in failure["reason"]
    assert "idna" in err and "does not exist" in err
    assert debs_under(tmp_path / "out") == []


def test_a_service_version_the_index_does_not_have_is_refused_before_anything_runs(make_root, venvdeb, tmp_path,
                                                                                   cache_dir):
    root = make_root(TINY_UC, {"svc": ("requests", "2.32.99")})
    said = "key 'services.svc.version': https://pypi.org/simple has no release 2.32.99 of requests (its newest: "
    code, error, err = venvdeb("wheelhouse", "build", "t1", root=root)
    assert code == 2, err
    assert "releases/t1.toml: release t1 cannot be built" in error["message"] and said in error["message"]
    assert not (tmp_path / "out").exists() and not (tmp_path / "state").exists()
    # venvdeb lock says so before it compiles anything for either distribution.
    lock = subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(root), "lock", "t1", "--constraint",
                           str(root / "upper-constraints.txt"), "--cache-dir", str(cache_dir)],
                          capture_output=True, text=True)
    assert lock.returncode == 2 and said in lock.stderr, lock.stderr
    assert sorted(p.name for p in root.iterdir()) == ["locks", "releases", "services", "upper-constraints.txt"]
    assert sorted(p.name for p in (root / "locks").iterdir()) == ["build.in", "build.txt"]  # as make_root wrote them


def test_unbuildable_sdist_and_missing_pin_are_both_reported(make_root, venvdeb, tmp_path):
    if subprocess.run(["dpkg-query", "-W", "libvirt-dev"], capture_output=True).returncode == 0:
        pytest.skip("libvirt-dev is installed here, so libvirt-python would build")
    # libvirt-python is sdist-only and needs libvirt-dev; pywin32 has Windows wheels only.
    root = make_root("libvirt-python===11.6.0\npywin32===306\nsix===0.0.1\n",
                     {"svc": ("libvirt-python", "11.6.0")})
    code, error, err = venvdeb("wheelhouse", "build", "t1", "--all", root=root)
    assert code == 2
    failed = {f["package"]: f for f in error["failures"]}
    assert set(failed) == {"libvirt-python", "pywin32", "six"}
    assert failed["libvirt-python"]["phase"] == "build"
    assert "libvirt-dev" in failed["libvirt-python"]["hint"]
    assert "no wheel for cp311" in failed["pywin32"]["reason"] and "no sdist" in failed["pywin32"]["reason"]
    assert "does not exist" in failed["six"]["reason"]
    assert debs_under(tmp_path / "out") == []


def test_network_failure_is_retried_then_reported(make_root, venvdeb, tmp_path):
    port = free_port()  # nothing listens there
    root = make_root(TINY_UC, {"svc": ("requests", "2.32.4")},
                     release_extra=f'index_url = "http://127.0.0.1:{port}/simple"\n')
    # A fresh cache for the index answers, the same build environment.
    cache = tmp_path / "cache"
    code, error, err = venvdeb("wheelhouse", "build", "t1", root=root, cache=cache)
    # The index is first asked for the service's versions, before anything is built: the network
    # failed, not the input (exit status 3), and the URL asked is named.
    assert code == 3, err
    assert error["error"] == "NetworkError" and "failed after 4 attempts" in error["message"]
    assert f"GET http://127.0.0.1:{port}/simple/requests/" in error["message"]
    assert "venvdeb: tool failed:" in err
    assert debs_under(tmp_path / "out") == []


def test_corrupted_cached_wheel_is_fetched_again(make_root, venvdeb, tmp_path, cache_dir):
    root = make_root(TINY_UC, {"svc": ("requests", "2.32.4")})
    code, first, err = venvdeb("wheelhouse", "build", "t1", root=root, out=tmp_path / "a")
    assert code == 0, err
    [cached] = list((cache_dir / "wheels" / "idna").rglob("idna-3.10-*.whl"))
    good = cached.read_bytes()
    cached.write_bytes(b"not a wheel" + good[11:])
    code, second, err = venvdeb("wheelhouse", "build", "t1", root=root, out=tmp_path / "b")
    assert code == 0, err
    assert "corrupted" in err and second["stats"]["downloads"] == 1
    assert cached.read_bytes() == good
    # Never shipped: the package is byte for byte the one built from the good wheel.
    assert Path(first["deb"]).read_bytes() == Path(second["deb"]).read_bytes()


def test_a_pin_whose_requires_python_excludes_the_target(make_root, venvdeb, tmp_path):
    # Django 6.1 declares Requires-Python >=3.12; the release's python3 (bookworm's) is 3.11. As a
    # dependency of the service (not its own version, which is checked before anything runs), the
    # resolver names it with the target's interpreter.
    root = make_root("django===6.1.3\nsix===1.17.0\n", {"svc": ("six", "1.17.0")},
                     service_extra='requirements = ["django"]\n', scripts=())
    code, error, err = venvdeb("wheelhouse", "build", "t1", root=root)
    assert code == 2
    [failure] = error["failures"]
    assert failure["package"] == "django"
    assert "django==6.1.3 has Requires-Python >=3.12" in failure["reason"]
    assert "Python 3.11" in failure["reason"] and "cp311" in failure["reason"]
    assert "no sdist" not in failure["reason"]
    assert debs_under(tmp_path / "out") == []


def test_a_service_version_that_one_of_the_distributions_cannot_install(make_root, venvdeb, tmp_path):
    # Django 6.1 needs Python >= 3.12: trixie's 3.13 admits it, bookworm's 3.11 does not. The
    # release says it is for both: it is refused before any chroot, lock or wheelhouse is made,
    # for either distribution, naming the release's key and the distribution.
    root = make_root("django===6.1.3\n", {"svc": ("django", "6.1.3")}, scripts=("django-admin",))
    both_distributions(root)
    for args in (("wheelhouse", "build", "t1"), ("wheelhouse", "build", "t1", "--dist", "trixie")):
        code, error, err = venvdeb(*args, root=root)
        assert code == 2, err
        assert "key 'services.svc.version'" in error["message"], error
        assert "django 6.1.3 has Requires-Python >=3.12" in error["message"]
        assert "excludes bookworm's /usr/bin/python3 (Python 3.11)" in error["message"]
        assert "trixie" not in error["message"]
        assert not (tmp_path / "out").exists() and not (tmp_path / "state").exists()
    # A release for the distribution whose python3 admits it builds.
    release = root / "releases" / "t1.toml"
    release.write_text(release.read_text().replace('distributions = ["bookworm", "trixie"]', 'distributions = ["trixie"]'))
    code, built, err = venvdeb("wheelhouse", "build", "t1", root=root)
    assert code == 0, err
    assert built["interpreter"] == "cp313" and built["version"] == "1+deb13"


def test_a_service_build_for_a_distribution_without_its_wheelhouse(make_root, venvdeb, tmp_path):
    root = make_root(TINY_UC, {"svc": ("requests", "2.32.4")})
    both_distributions(root)
    code, built, err = venvdeb("wheelhouse", "build", "t1", "--dist", "bookworm", root=root)
    assert code == 0, err
    code, error, err = venvdeb("build", "t1", "svc", "--dist", "trixie", root=root)
    assert code == 2
    assert "trixie" in err and "test-wheelhouse-t1" in err
    assert "venvdeb wheelhouse build t1 --dist trixie" in err
    assert [d.name for d in debs_under(tmp_path / "out")] == [Path(built["deb"]).name]


def test_distribution_that_no_chroot_can_be_made_for(make_root, venvdeb, tmp_path):
    root = make_root(TINY_UC, {"svc": ("requests", "2.32.4")})
    release = root / "releases" / "t1.toml"
    text = release.read_text()
    # A codename venvdeb does not know is refused before anything runs.
    release.write_text(text.replace('distribution = "bookworm"', 'distribution = "nosuchcodename"'))
    code, error, err = venvdeb("wheelhouse", "build", "t1", root=root)
    assert code == 2
    assert "t1.toml: invalid:" in err
    assert "key 'distribution': 'nosuchcodename': not a Debian release venvdeb builds for" in err
    # Debian 15 is known, but the mirror has no suite for it yet: mmdebstrap's reason is given.
    release.write_text(text.replace('distribution = "bookworm"', 'distribution = "duke"'))
    code, error, err = venvdeb("wheelhouse", "build", "t1", root=root)
    assert code == 2
    assert "t1.toml: key 'distribution': no duke chroot can be made to build in" in err
    assert "mmdebstrap could not make the duke chroot" in err
    assert debs_under(tmp_path / "out") == []


def test_a_truncated_package_is_named_with_how_to_rebuild_it(tmp_path):
    """A .deb cut short after its build (a full disk, a copy interrupted): lint, smoke and publish
    refuse it by its checksum, naming the file and the command that makes it again; without the
    checksum file, by reading the archive whole. Nothing runs on it, nothing is published."""
    import sys

    from venvdeb.files import record_checksum
    from .test_repository import tiny_deb

    deb = tiny_deb(tmp_path, "venv-tiny")
    record_checksum(deb)
    whole = deb.read_bytes()
    deb.write_bytes(whole[: len(whole) - 100])
    bare = tmp_path / "bare" / deb.name
    bare.parent.mkdir()
    bare.write_bytes(whole[: len(whole) - 100])
    repo = tmp_path / "repo"
    for argv, package in ((["lint", str(deb)], deb), (["repo", "publish", "s", str(deb), "--repo-dir", str(repo)], deb),
                          (["lint", str(bare)], bare)):
        proc = subprocess.run([sys.executable, "-m", "venvdeb", *argv], capture_output=True, text=True)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        said = "corrupt or truncated: sha256" if package == deb else "not a whole Debian package"
        assert f"{package}: {said}" in proc.stderr
        assert "rebuild it: venvdeb build <release> tiny --dist <distribution>" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert not repo.exists()
