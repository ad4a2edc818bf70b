"""Service packages for real: wheelhouse .deb, dh-virtualenv, dpkg-buildpackage, lintian."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from debian.changelog import Changelog
from debian.deb822 import PkgRelation
from debian.debfile import DebFile

from venvdeb.files import sha256_file
from venvdeb.repository.gates import SERVICE as SERVICE_GATES

from .conftest import TINY_UC

pytestmark = [pytest.mark.integration, pytest.mark.network]

SERVICE_EXTRA = """
requirements = ["requests"]
depends = ["ca-certificates"]

[[daemons]]
name = "normalizerd"
command = "normalizer --version"
description = "A test daemon"
"""


def run(*args, root: Path, tmp: Path, cache: Path, check=True, prefix=()):
    argv = [*prefix, sys.executable, "-m", "venvdeb", "--packaging", str(root), *args,
            "--cache-dir", str(cache), "--out-dir", str(tmp / "out"), "--state-dir", str(tmp / "state"), "--json"]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc.returncode, (json.loads(proc.stdout) if proc.stdout.strip() else None), proc.stderr


@pytest.fixture
def tiny(make_root, tmp_path, cache_dir):
    """A release 's1' whose service 'svc' is charset-normalizer (which has a console script),
    with its wheelhouse built."""
    root = make_root(TINY_UC, {"svc": ("charset-normalizer", "3.4.2")}, name="s1",
                     service_extra=SERVICE_EXTRA, scripts=("normalizer",))
    run("wheelhouse", "build", "s1", root=root, tmp=tmp_path, cache=cache_dir)
    return root


def extract(deb: Path, dest: Path) -> Path:
    subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)
    return dest


def test_service_package_matches_its_declaration(tiny, tmp_path, cache_dir):
    code, result, err = run("build", "s1", "svc", "--reason", "First package", root=tiny, tmp=tmp_path, cache=cache_dir)
    deb = Path(result["deb"])
    assert deb.name == f"venv-svc_3.4.2-deb12u1_{result['architecture']}.deb"
    assert deb.with_name(deb.name + ".sha256").read_text() == f"{sha256_file(deb)}  {deb.name}\n"
    control = DebFile(str(deb)).debcontrol()
    assert control["Package"] == "venv-svc" and control["Version"] == "3.4.2-deb12u1"
    depends = {alt["name"]: alt.get("version") for rel in PkgRelation.parse_relations(control["Depends"]) for alt in rel}
    assert {"python3", "adduser", "ca-certificates", "libc6"} <= set(depends)
    assert "(>= 3.11)" in control["Depends"] and "(<< 3.12)" in control["Depends"]

    tree = extract(deb, tmp_path / "x")
    venv = tree / "usr/lib/venvs/svc"
    assert os.readlink(tree / "usr/bin/normalizer") == "../lib/venvs/svc/bin/normalizer"
    assert (venv / "bin/normalizer").read_text().startswith("#!/usr/lib/venvs/svc/bin/python\n")
    assert "command = /usr/bin/python3 -m venv /usr/lib/venvs/svc" in (venv / "pyvenv.cfg").read_text()
    unit = (tree / "lib/systemd/system/normalizerd.service").read_text()
    assert "ExecStart=/usr/lib/venvs/svc/bin/normalizer --version" in unit and "User=svc" in unit
    assert "/var/log/svc/*.log" in (tree / "etc/logrotate.d/venv-svc").read_text()
    assert not list(venv.rglob("*.pyc")) and not list(venv.rglob("__pycache__"))

    site = next(venv.glob("lib/python3.11/site-packages"))
    installed = {p.name.split("-")[0].lower().replace("_", "-") for p in site.glob("*.dist-info")}
    assert {"charset-normalizer", "requests", "urllib3", "idna", "certifi"} <= installed

    # The SBOM and the copyright name every bundled distribution, with the wheelhouse's hashes.
    # (the build installed the wheelhouse in its chroot, not on this host: its manifest as the wheelhouse build wrote it)
    manifest = json.loads(next((tmp_path / "out" / "s1").glob("test-wheelhouse-s1_*.manifest.json")).read_text())
    sha = {w["name"]: w["sha256"] for w in manifest["wheels"]}
    sbom = json.loads((tree / "usr/share/doc/venv-svc/sbom.cdx.json").read_text())
    assert sbom["bomFormat"] == "CycloneDX"
    assert {c["name"]: c["hashes"][0]["content"] for c in sbom["components"]} == \
        {n: sha[n] for n in ("certifi", "charset-normalizer", "idna", "requests", "urllib3")}
    copyright_text = (tree / "usr/share/doc/venv-svc/copyright").read_text()
    assert "requests 2.32.4: Apache" in copyright_text

    changes = subprocess.run(["zcat", str(tree / "usr/share/doc/venv-svc/changelog.Debian.gz")],
                             capture_output=True, text=True, check=True).stdout
    assert "First package." in changes and "Built from test-wheelhouse-s1 1+deb12." in changes

    scripts = DebFile(str(deb)).control
    postinst = scripts.get_content("postinst").decode()
    assert "adduser --system" in postinst and "install -d -o svc -g svc -m 0750 /var/lib/svc /var/log/svc" in postinst
    # Not enabled on install (only re-enabled where the admin had enabled it: dh_installsystemd's
    # --no-enable snippet) and not started: the service did not ask for either.
    assert "if deb-systemd-helper debian-installed 'normalizerd.service'; then" in postinst
    assert "deb-systemd-invoke" not in postinst

    lint = subprocess.run(["lintian", "--fail-on", "error,warning", str(deb)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_build_works_without_network_and_says_what_changed(tiny, tmp_path, cache_dir):
    run("build", "s1", "svc", root=tiny, tmp=tmp_path, cache=cache_dir)
    # A network namespace of its own has no interface but loopback: PyPI is unreachable.
    code, result, err = run("build", "s1", "svc", "--reason", "Offline rebuild", root=tiny, tmp=tmp_path,
                            cache=cache_dir, prefix=("unshare", "--net"))
    assert result["version"] == "3.4.2-deb12u2"
    log = Changelog(_changelog(Path(result["deb"]), tmp_path))
    assert [str(v) for v in log.versions] == ["3.4.2-deb12u2", "3.4.2-deb12u1"]
    assert log[0].changes()[1:4] == ["  * Offline rebuild.", "  * Wheelhouse test-wheelhouse-s1 1+deb12, unchanged.",
                                     "  * No distribution changed."]


def test_only_if_changed_builds_nothing_until_the_closure_or_the_packaging_changes(tiny, tmp_path, cache_dir):
    """What a build triggered by a new wheelhouse does: the service's closure (by sha256) and its
    packaging are those of its last build, so nothing is built; a change to the service file is
    built."""
    code, first, err = run("build", "s1", "svc", root=tiny, tmp=tmp_path, cache=cache_dir)
    code, again, err = run("build", "s1", "svc", "--only-if-changed", root=tiny, tmp=tmp_path, cache=cache_dir)
    assert again["version"] == first["version"] == "3.4.2-deb12u1"
    assert again["skipped"] == "closure and packaging unchanged since 3.4.2-deb12u1"
    assert again["deb"] == first["deb"] and len(list((tmp_path / "out").rglob("venv-svc_*.deb"))) == 1
    service = tiny / "services" / "svc.toml"
    service.write_text(service.read_text().replace('summary = "', 'summary = "Changed: ', 1))
    code, changed, err = run("build", "s1", "svc", "--only-if-changed", root=tiny, tmp=tmp_path, cache=cache_dir)
    assert changed["version"] == "3.4.2-deb12u2" and not changed["skipped"]


def _changelog(deb: Path, tmp: Path) -> str:
    tree = extract(deb, tmp / f"cl-{deb.stem}")
    return subprocess.run(["zcat", str(next(tree.glob("usr/share/doc/*/changelog.Debian.gz")))],
                          capture_output=True, text=True, check=True).stdout


def test_same_source_gives_the_same_bytes(tiny, tmp_path, cache_dir):
    from venvdeb.environment import for_build
    from venvdeb.model import load_release
    from venvdeb.service.build import BuildOptions, build_tree, ensure_wheelhouse

    run("build", "s1", "svc", root=tiny, tmp=tmp_path, cache=cache_dir)
    rendered = tmp_path / "rendered"
    run("render", "s1", "svc", "-o", str(rendered), root=tiny, tmp=tmp_path, cache=cache_dir)
    point = load_release(tiny, "s1").at("bookworm")
    options = BuildOptions(cache_dir=cache_dir, out_dir=tmp_path / "out" / "s1", state_dir=tmp_path / "state")
    debs = []
    with for_build("bookworm", "test", cache_dir) as env:  # one build chroot, the tree at two paths in it
        wheelhouse = ensure_wheelhouse(point, options, env, log=print)
        for where in ("a/deep/dir", "b"):
            tree = env.scratch / where / "venv-svc-3.4.2"
            shutil.copytree(rendered, tree, symlinks=True)
            built = build_tree(env, tree, cache_dir, tmp_path / f"{where.replace('/', '-')}.log",
                               provided=(wheelhouse.package,))
            kept = tmp_path / "built" / where  # out of the chroot's scratch, which goes with it
            kept.mkdir(parents=True)
            debs.append(Path(shutil.copy(built, kept / built.name)))
            time.sleep(1.1)
    assert debs[0].name == debs[1].name
    assert "venv-svc_3.4.2-deb12u2_" in debs[0].name
    assert debs[0].read_bytes() == debs[1].read_bytes()
    data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(debs[0])], capture_output=True, check=True).stdout
    assert str(tmp_path).encode() not in data and b"venvdeb-chroot-" not in data


def test_requirement_missing_from_the_wheelhouse(tiny, tmp_path, cache_dir):
    path = tiny / "services" / "svc.toml"
    path.write_text(path.read_text().replace('requirements = ["requests"]', 'requirements = ["requests", "six"]'))
    code, error, err = run("build", "s1", "svc", root=tiny, tmp=tmp_path, cache=cache_dir, check=False)
    assert code == 2
    assert "six" in err and "not in the wheelhouse test-wheelhouse-s1 1+deb12" in err
    assert not list((tmp_path / "out" / "s1").glob("venv-svc_*.deb"))


def test_console_script_that_does_not_exist(tiny, tmp_path, cache_dir):
    path = tiny / "services" / "svc.toml"
    path.write_text(path.read_text().replace('console_scripts = ["normalizer"]', 'console_scripts = ["normalizer", "nope"]'))
    code, error, err = run("build", "s1", "svc", root=tiny, tmp=tmp_path, cache=cache_dir, check=False)
    assert code == 2
    assert "key 'console_scripts': nope not provided" in err and "services/svc.toml" in err


def test_version_going_backwards_is_refused(tiny, tmp_path, cache_dir):
    run("build", "s1", "svc", root=tiny, tmp=tmp_path, cache=cache_dir)
    ledger = tmp_path / "state" / "s1" / "bookworm" / "venv-svc.ledger.json"
    data = json.loads(ledger.read_text())
    data["entries"][-1]["version"] = "3.5.0-deb12u1"  # as if a newer upstream had been built before
    ledger.write_text(json.dumps(data))
    code, error, err = run("build", "s1", "svc", root=tiny, tmp=tmp_path, cache=cache_dir, check=False)
    assert code == 2 and "version 3.4.2 would go backwards: the last build was 3.5.0-deb12u1" in err


def test_a_plain_pip_install_renders_the_same_tree(tiny, tmp_path, cache_dir):
    """venvdeb installed with `pip install .` (not editable) finds its templates in the package."""
    from tests.conftest import PROJECT

    venv = tmp_path / "installed"
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True)
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    # A copy of the project: the build writes build/ and egg-info beside the sources.
    source = shutil.copytree(PROJECT, tmp_path / "source", ignore=shutil.ignore_patterns(
        ".venv", ".git", "out", "var", "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(source)], env=env,
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-3000:]
    shutil.rmtree(source)
    installed = subprocess.run([str(venv / "bin" / "python"), "-c", "import venvdeb.resources as r; print(r.templates())"],
                               capture_output=True, text=True, check=True).stdout.strip()
    assert installed.startswith(str(venv)), installed
    trees = {}
    for name, prefix in (("installed", [str(venv / "bin" / "venvdeb")]), ("checkout", [sys.executable, "-m", "venvdeb"])):
        out = tmp_path / f"rendered-{name}"
        proc = subprocess.run([*prefix, "--packaging", str(tiny), "render", "s1", "svc", "-o", str(out),
                               "--cache-dir", str(cache_dir), "--out-dir", str(tmp_path / "out"),
                               "--state-dir", str(tmp_path / "state")], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        trees[name] = {str(p.relative_to(out)): (p.read_bytes(), os.access(p, os.X_OK))
                       for p in sorted(out.rglob("*")) if p.is_file()}
    assert "debian/rules" in trees["installed"] and "debian/venvdeb-finish" in trees["installed"]
    # The changelog's entry is dated when it is rendered: the two renders differ by that line alone.
    changelogs = [t.pop("debian/changelog")[0].decode().splitlines() for t in (trees["installed"], trees["checkout"])]
    assert [line for line in changelogs[0] if not line.startswith(" -- ")] == \
        [line for line in changelogs[1] if not line.startswith(" -- ")]
    assert trees["installed"] == trees["checkout"]


def test_eight_builds_of_one_package_at_once_take_eight_versions_and_all_publish(tiny, tmp_path, cache_dir):
    """Eight `venvdeb build` processes of one service at once, one state directory: eight
    versions, eight ledger entries, eight packages; published one after the other, reprepro's
    checks pass."""
    from venvdeb.model.ledger import Ledger
    from venvdeb.repository import Repository
    from venvdeb.repository.signing import make_throwaway, stop_agent
    from venvdeb.model import load_release

    argv = [sys.executable, "-m", "venvdeb", "--packaging", str(tiny), "build", "s1", "svc", "--cache-dir",
            str(cache_dir), "--out-dir", str(tmp_path / "out"), "--state-dir", str(tmp_path / "state"), "--json"]
    procs = [subprocess.Popen([*argv, "--reason", f"Build {n}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for n in range(8)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-2000:]
        results.append(json.loads(out))
    versions = sorted((r["version"] for r in results), key=lambda v: int(v.rsplit("u", 1)[1]))
    assert versions == [f"3.4.2-deb12u{n}" for n in range(1, 9)]
    ledger = Ledger(tmp_path / "state" / "s1" / "bookworm" / "venv-svc.ledger.json")
    assert [e.version for e in ledger.entries] == versions and ledger.reserved == []
    assert {e.changes[0] for e in ledger.entries} == {f"Build {n}." for n in range(8)}

    key = make_throwaway(tmp_path / "gnupg")
    try:
        repo = Repository(tmp_path / "repo", key)
        repo.init([load_release(tiny, "s1")])
        for version in versions:
            deb = next(Path(r["deb"]) for r in results if r["version"] == version)
            # What the gates record when a package passes (they run for real in test_pipeline.py):
            # this test is about versions taken at once, and each build's publication.
            for gate in SERVICE_GATES:
                repo.record_gate("venv-svc", version, gate, {"passed": True}, sha256_file(deb))
            assert repo.publish("bookworm-s1-staging", deb, SERVICE_GATES).published
        repo.reprepro("check")
        repo.reprepro("checkpool")
        assert len(repo.snapshots("bookworm-s1-staging")) == 8
    finally:
        stop_agent(key.gnupghome)
