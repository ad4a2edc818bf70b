"""`venvdeb wheelhouse verify` (issue 25): a wheelhouse is checked by whoever publishes it.

A PEP 691 index on 127.0.0.1 serves a wheel of its own, ``prdemo``, and a setuptools sdist,
``tiny-sdist``; a real wheelhouse is built from it (the sdist in a chroot, from the test build
lock). Then:

- verify passes, and with --record the wheelhouse's 'verify' gate is recorded for its bytes;
- the index publishes other bytes under the wheel's name, as a builder that was handed (or made)
  another wheel would present it: verify fails, naming the file and both sha256;
- the same for the sdist the built wheel came from;
- a wheelhouse whose wheel was replaced after its build (the package rebuilt around it, as a rogue
  builder would) fails against its own manifest;
- `repo publish` refuses the wheelhouse until both of its gates passed for its bytes.

And `venvdeb wheelhouse rebuild`: the sdist built again gives the same wheelhouse, byte for byte;
a wheelhouse whose built wheel is not what its sdist gives fails it, with diffoscope's account.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import package_index, tiny_sdist

from .test_point_release import wheel

pytestmark = [pytest.mark.integration, pytest.mark.network]

SETUPTOOLS = """
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"
"""


def sdist(marker: bytes = b"") -> bytes:
    return tiny_sdist("tiny-sdist", SETUPTOOLS, marker)


@contextlib.contextmanager
def built_wheelhouse(make_root, venvdeb):
    """A wheelhouse of a wheel and a wheel built from an sdist, from an index on 127.0.0.1:
    (what the index publishes, which a test may change; the wheel's name and bytes; the packaging
    root; the index's URL; the .deb)."""
    name, good = wheel("1.0.0")
    published = {"prdemo": {name: good}, "tiny-sdist": {"tiny_sdist-1.0.tar.gz": sdist()}}
    with package_index(lambda: published) as index:
        root = make_root("prdemo===1.0.0\ntiny-sdist===1.0\n",
                         {"svc": ("prdemo", "1.0.0"), "other": ("tiny-sdist", "1.0")},
                         release_extra=f'index_url = "{index}"\n')
        code, built, err = venvdeb("wheelhouse", "build", "t1", root=root)
        assert code == 0, err
        assert (built["wheels"], built["built"]) == (2, 1)
        yield published, (name, good), root, index, Path(built["deb"])


def test_verify_checks_each_wheel_against_its_manifest_and_the_index(make_root, venvdeb, tmp_path):
    with built_wheelhouse(make_root, venvdeb) as (published, (name, good), root, index, deb):
        repo = ["--repo-dir", str(tmp_path / "repo"), "--gnupghome", str(tmp_path / "gnupg")]

        def cli(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(root), *args],
                                  capture_output=True, text=True)

        assert cli("repo", "init", "--make-key", *repo).returncode == 0
        try:
            ok = cli("wheelhouse", "verify", "t1", str(deb), "--record", *repo)
            assert ok.returncode == 0, ok.stderr
            assert "2 wheels verified against the manifest and " + index in ok.stdout
            # Publish wants both of the wheelhouse's gates: verify alone is not enough.
            refused = cli("repo", "publish", "bookworm-t1-staging", str(deb), *repo)
            assert refused.returncode == 1 and "lint: not run" in refused.stderr and "verify" not in \
                refused.stderr.split("cannot be published")[1].split("\n")[0]
            linted = cli("lint", str(deb), "--record", *repo)
            assert linted.returncode == 0, linted.stderr
            assert cli("repo", "publish", "bookworm-t1-staging", str(deb), *repo).returncode == 0

            # The index's bytes are not the wheelhouse's: named, with both digests.
            published["prdemo"] = {name: good + b"\0"}
            published["tiny-sdist"] = {"tiny_sdist-1.0.tar.gz": sdist(b"# changed\n")}
            bad = cli("wheelhouse", "verify", "t1", str(deb), "--json")
            assert bad.returncode == 1
            assert f"{name}: the index publishes sha256 " in bad.stderr and ", the wheelhouse has " in bad.stderr
            assert "tiny_sdist-1.0-py3-none-any.whl: the index publishes sha256 " in bad.stderr
            published["prdemo"], published["tiny-sdist"] = {name: good}, {"tiny_sdist-1.0.tar.gz": sdist()}

            # A wheel replaced inside the package after its build: its manifest says otherwise.
            tree = tmp_path / "tampered"
            subprocess.run(["dpkg-deb", "-R", str(deb), str(tree)], check=True)
            inside = next(tree.rglob(name))
            inside.write_bytes(good.replace(b"print(", b"exec("))
            tampered = tmp_path / "tampered.deb"
            subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(tampered)], check=True,
                           capture_output=True)
            bad = cli("wheelhouse", "verify", "t1", str(tampered), "--record", *repo)
            assert bad.returncode == 1 and f"{name}: sha256 " in bad.stderr and ", the manifest says " in bad.stderr
            refused = cli("repo", "publish", "bookworm-t1-staging", str(tampered), *repo)
            assert refused.returncode == 1
        finally:
            subprocess.run(["gpgconf", "--homedir", str(tmp_path / "gnupg"), "--kill", "all"], capture_output=True)


def test_a_wheelhouse_rebuild_builds_every_sdist_again_and_catches_a_wheel_its_sdist_does_not_give(
        make_root, venvdeb, tmp_path):
    """Promotion's gate for a wheelhouse: what verify cannot see (a built wheel whose sdist is the
    index's, but which that sdist does not give), the master's rebuild does."""
    with built_wheelhouse(make_root, venvdeb) as (published, wheel_file, root, index, deb):
        code, rebuilt, err = venvdeb("wheelhouse", "rebuild", "t1", str(deb), root=root)
        assert code == 0, err
        assert rebuilt["passed"] and rebuilt["rebuilt_sha256"] == rebuilt["sha256"]
        # The sdist was built again, though the cache held its wheel: its build log is the rebuild's.
        assert list((tmp_path / "out" / "t1" / "rebuild" / "logs").rglob("tiny*"))

        # A wheelhouse whose built wheel is not what its sdist gives (one file more), its manifest,
        # SHA256SUMS and md5sums made to match: verify passes it, the rebuild does not.
        tree = tmp_path / "other-wheel"
        subprocess.run(["dpkg-deb", "-R", str(deb), str(tree)], check=True)
        [built_wheel] = tree.rglob("tiny_sdist-1.0-*.whl")
        with zipfile.ZipFile(built_wheel, "a") as whl:
            whl.writestr("tiny_sdist/planted.py", "import os\n")
        manifest_path = next(tree.rglob("manifest.json"))
        data = json.loads(manifest_path.read_text())
        for item in data["wheels"]:
            if item["file"] == built_wheel.name:
                item["sha256"] = hashlib.sha256(built_wheel.read_bytes()).hexdigest()
                item["size"] = built_wheel.stat().st_size
        manifest_path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        (manifest_path.parent / "SHA256SUMS").write_text(
            "".join(f"{w['sha256']}  {w['file']}\n" for w in sorted(data["wheels"], key=lambda w: w["file"])))
        subprocess.run(["sh", "-c", "cd \"$1\" && find . -type f ! -path './DEBIAN/*' -printf '%P\\0' | "
                        "xargs -0 md5sum > DEBIAN/md5sums", "md5", str(tree)], check=True)
        other = tmp_path / deb.name
        subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(other)], check=True, capture_output=True)
        (tmp_path / f"{deb.name}.sha256").write_text(f"{hashlib.sha256(other.read_bytes()).hexdigest()}  {deb.name}\n")
        verified = subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(root), "wheelhouse", "verify",
                                   "t1", str(other)], capture_output=True, text=True)
        assert verified.returncode == 0, verified.stderr  # every wheel as its manifest says, the sdist the index's
        code, differs, err = venvdeb("wheelhouse", "rebuild", "t1", str(other), root=root)
        assert code == 1 and differs["passed"] is False
        assert "tiny_sdist/planted.py" in Path(differs["report"]).read_text()
