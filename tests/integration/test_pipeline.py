"""The whole pipeline on a small release: gates, publication, promotion, upgrade, rollback."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
from debian.deb822 import BuildInfo

from venvdeb.environment import images
from venvdeb.files import sha256_file
from venvdeb.repository import KEYRING, Repository
from venvdeb.repository import serving
from venvdeb.repository.signing import Key, fingerprints, stop_agent
from venvdeb.gates.smoke import KEYRING_IN_CHROOT
from .conftest import TINY_UC
from .test_service_build import SERVICE_EXTRA

pytestmark = [pytest.mark.integration, pytest.mark.network]


@pytest.fixture
def setup(make_root, tmp_path, cache_dir):
    root = make_root(TINY_UC, {"svc": ("charset-normalizer", "3.4.2")}, name="p1",
                     service_extra=SERVICE_EXTRA, scripts=("normalizer",))
    service = root / "services" / "svc.toml"
    service.write_text(service.read_text().replace('smoke_commands = ["svc --version"]',
                                                   'smoke_commands = ["normalizer --version"]'))

    def venvdeb(*args, check=True, piuparts=False):
        """piuparts' test only where a test asks for it: it is shown once, with an upgrade, and
        under a daemon's umask (Buildbot's master runs smoke with 077)."""
        argv = [sys.executable, "-m", "venvdeb", "--packaging", str(root), *args]
        if args[0] in ("pipeline", "smoke", "build", "rebuild"):
            argv += ["--cache-dir", str(cache_dir), "--out-dir", str(tmp_path / "out"),
                     "--state-dir", str(tmp_path / "state")]
        if args[0] in ("pipeline", "smoke"):
            argv += [] if piuparts else ["--no-piuparts"]
        if args[0] != "build":
            argv += ["--repo-dir", str(tmp_path / "repo"), "--gnupghome", str(tmp_path / "gnupg")]
        argv.append("--json")
        proc = subprocess.run(argv, capture_output=True, text=True,
                              preexec_fn=(lambda: os.umask(0o077)) if piuparts else None)
        if check:
            assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.returncode, (json.loads(proc.stdout) if proc.stdout.strip() else None), proc.stderr

    venvdeb("repo", "init", "--make-key")
    home = tmp_path / "gnupg"
    repo = Repository(tmp_path / "repo", Key(home, fingerprints(home)[0]))
    yield root, venvdeb, repo
    stop_agent(home)


def staged(repo):
    return {p.package: p.version for p in repo.list("bookworm-p1-staging")}


def rebuilt(venvdeb, tmp_path, version: str) -> dict:
    """The independent rebuild that promotion requires, recorded for the built file."""
    deb = next((tmp_path / "out" / "p1").glob(f"venv-svc_{version}_*.deb"))
    code, result, err = venvdeb("rebuild", "p1", "svc", str(deb), "--record")
    return result


def test_pipeline_publishes_promotes_upgrades_and_rolls_back(setup, cache_dir, tmp_path):
    root, venvdeb, repo = setup
    code, first, err = venvdeb("pipeline", "p1")
    assert [(s["package"], s["stage"]) for s in first["stages"]] == [
        ("test-wheelhouse-p1", "wheelhouse"), ("test-wheelhouse-p1", "lint"), ("test-wheelhouse-p1", "verify"),
        ("venv-svc", "build"), ("venv-svc", "lint"), ("venv-svc", "smoke"), ("*", "publish")]
    assert staged(repo) == {"test-wheelhouse-p1": "1+deb12", "venv-svc": "3.4.2-deb12u1"}
    # Each package published with its gates recorded for its bytes: the wheelhouse's lint and verify.
    wheelhouse = repo.gates("test-wheelhouse-p1", "1+deb12")
    assert wheelhouse["lint"]["passed"] and wheelhouse["verify"]["passed"] and wheelhouse["verify"]["wheels"] == 5
    # ... and with dpkg's record of each build beside it, for anyone to rebuild it: it names the
    # very file published.
    for package, version in (("test-wheelhouse-p1", "1+deb12"), ("venv-svc", "3.4.2-deb12u1")):
        [pooled] = repo.base.glob(f"pool/**/{package}_{version}_*.deb")
        info = BuildInfo((repo.base / "buildinfo" / pooled.with_suffix(".buildinfo").name).read_text())
        assert {e["name"]: e["sha256"] for e in info["Checksums-Sha256"]}[pooled.name] == sha256_file(pooled)
        assert info["Build-Origin"] == "Debian" and "debhelper" in info["Installed-Build-Depends"]
    gates = repo.gates("venv-svc", "3.4.2-deb12u1")
    assert gates["lint"]["passed"] and gates["smoke"]["passed"]
    checks = {c["name"] for c in gates["smoke"]["checks"]}
    assert {"pip check", "console scripts' entry points import", "systemd-analyze verify",
            "run: normalizer --version", "no file in the venv names the build path"} <= checks

    # Production needs an independent rebuild too: the same version built again, the same bytes.
    code, refused, err = venvdeb("repo", "promote", "p1", "venv-svc", "3.4.2-deb12u1", check=False)
    assert code == 1 and "gate(s) not passed: rebuild: not run" in err and "venvdeb rebuild" in err
    rebuild = rebuilt(venvdeb, tmp_path, "3.4.2-deb12u1")
    assert rebuild["passed"] and rebuild["rebuilt_sha256"] == rebuild["sha256"] == gates["sha256"]
    assert not list((tmp_path / "out" / "p1" / "rebuild").glob("*.deb"))  # the same bytes: no copy kept
    code, promoted, err = venvdeb("repo", "promote", "p1", "venv-svc", "3.4.2-deb12u1")
    assert promoted["promoted"] and {p.package for p in repo.list("bookworm-p1")} == {"venv-svc"}

    code, second, err = venvdeb("pipeline", "p1", piuparts=True)
    assert staged(repo)["venv-svc"] == "3.4.2-deb12u2"
    smoked = repo.gates("venv-svc", "3.4.2-deb12u2")["smoke"]
    assert smoked["upgraded_from"] == "3.4.2-deb12u1"
    # piuparts too upgraded from what staging had (its upgrade test alone: it purges and compares too).
    piuparts = next(c for c in smoked["checks"] if c["name"].startswith("piuparts:"))
    assert piuparts["passed"] and "PASS: Installation, upgrade and purging tests." in piuparts["detail"], piuparts

    # Roll back: the snapshot of the first version, and apt installs it by version.
    code, rollback, err = venvdeb("repo", "rollback", "bookworm-p1-staging", "venv-svc", "3.4.2-deb12u1",
                                  "--keyring", KEYRING_IN_CHROOT)
    with serving(repo.base) as url, images.smoke("bookworm", cache_dir).fresh() as ch:
        ch.write(KEYRING_IN_CHROOT, (repo.base / KEYRING).read_bytes())
        ch.write("/etc/apt/sources.list.d/rollback.sources", rollback["sources"].replace("http://127.0.0.1:8080", url))
        assert ch.run(["apt-get", "update"]).returncode == 0
        install = ch.run(["apt-get", "install", "-y", "venv-svc=3.4.2-deb12u1"])
        assert install.returncode == 0, install.stdout + install.stderr
        assert ch.run(["dpkg-query", "-W", "-f", "${Version}", "venv-svc"]).stdout == "3.4.2-deb12u1"

    assert rebuilt(venvdeb, tmp_path, "3.4.2-deb12u2")["passed"]
    # Promotion checks the bytes: gates recorded for another file promote nothing.
    record_path = repo.gates_path("venv-svc", "3.4.2-deb12u2")
    kept = record_path.read_text()
    record_path.write_text(json.dumps({**json.loads(kept), "sha256": "0" * 64}))
    code, refused, err = venvdeb("repo", "promote", "p1", "venv-svc", "3.4.2-deb12u2", check=False)
    assert code == 1 and "is not the file whose gates passed" in refused["message"]
    assert [p.version for p in repo.list("bookworm-p1")] == ["3.4.2-deb12u1"]
    record_path.write_text(kept)
    code, promoted, err = venvdeb("repo", "promote", "p1", "venv-svc", "3.4.2-deb12u2")
    assert [p.version for p in repo.list("bookworm-p1")] == ["3.4.2-deb12u2"]
    # Roll production back: the earlier version is the suite's again.
    code, restored, err = venvdeb("repo", "rollback", "bookworm-p1", "venv-svc", "3.4.2-deb12u1", "--restore")
    assert restored["restored"] and restored["replaced"] == ["3.4.2-deb12u2"]
    assert [p.version for p in repo.list("bookworm-p1")] == ["3.4.2-deb12u1"]

    # Nothing changed since deb12u2, which staging holds with its gates passed for its very file:
    # --only-if-changed (make demo's) leaves it as it is, with nothing to gate or publish.
    code, third, err = venvdeb("pipeline", "p1", "--only-if-changed")
    rows = [s for s in third["stages"] if s["package"] == "venv-svc"]
    assert [s["stage"] for s in rows] == ["build"] and rows[0]["passed"], rows
    assert rows[0]["detail"] == ("closure and packaging unchanged since 3.4.2-deb12u2, in bookworm-p1-staging "
                                 "with its gates passed"), rows
    assert staged(repo)["venv-svc"] == "3.4.2-deb12u2"
    # A gate record that is not of the staged file's bytes keeps nothing: built anew, and gated.
    record_path.write_text(json.dumps({**json.loads(kept), "sha256": "0" * 64}))
    code, fourth, err = venvdeb("pipeline", "p1", "--only-if-changed")
    assert "venv-svc: 3.4.2-deb12u2 unchanged, but lint: recorded for another file" in err, err[-2000:]
    assert [s["stage"] for s in fourth["stages"] if s["package"] == "venv-svc"] == ["build", "lint", "smoke"]
    assert staged(repo)["venv-svc"] == "3.4.2-deb12u3"


def test_failing_smoke_command_publishes_nothing(setup):
    root, venvdeb, repo = setup
    service = root / "services" / "svc.toml"
    service.write_text(service.read_text().replace('smoke_commands = ["normalizer --version"]',
                                                   'smoke_commands = ["normalizer --version", "false"]'))
    code, result, err = venvdeb("pipeline", "p1", check=False)
    assert code == 1
    failed = [s for s in result["stages"] if not s["passed"]]
    assert [(s["package"], s["stage"]) for s in failed] == [("venv-svc", "smoke")]
    assert "run: false" in failed[0]["detail"]
    # The log says why, not only which check: what the plain output shows too.
    assert "venv-svc: smoke: run: false failed:" in err
    assert staged(repo) == {}
    assert "NOTHING PUBLISHED" in err
    code, error, err = venvdeb("repo", "promote", "p1", "venv-svc", "3.4.2-deb12u1", check=False)
    assert code == 1 and "gate(s) not passed: smoke" in err


def test_lintian_error_publishes_nothing_and_staging_keeps_its_state(setup):
    root, venvdeb, repo = setup
    venvdeb("pipeline", "p1")
    before = staged(repo)
    release = root / "releases" / "p1.toml"
    # An address on localhost is a lintian error (maintainer-address-is-on-localhost).
    release.write_text(release.read_text().replace('build_depends = []',
                                                   'build_depends = []\nmaintainer = "Test <root@localhost>"'))
    code, result, err = venvdeb("pipeline", "p1", check=False)
    assert code == 1
    failed = [s for s in result["stages"] if not s["passed"]]
    assert failed[0]["stage"] == "lint" and "FAILED" in failed[0]["detail"]
    # The plain output lists each failing tag, not only how many there were.
    errors = int(re.search(r"FAILED \((\d+) errors", failed[0]["detail"])[1])
    shown = [line for line in err.splitlines() if line.startswith("pipeline: test-wheelhouse-p1: lint: error: ")]
    assert errors > 0 and len(shown) == errors
    assert staged(repo) == before


def test_smoke_and_lint_results_recorded_one_by_one(setup, tmp_path):
    """Each gate records its own result for the file it checked (--record): promote needs both."""
    root, venvdeb, repo = setup
    venvdeb("pipeline", "p1")
    repo.gates_path("venv-svc", "3.4.2-deb12u1").unlink()
    deb = next((tmp_path / "out" / "p1").glob("venv-svc_3.4.2-deb12u1_*.deb"))
    code, smoked, err = venvdeb("smoke", "p1", "svc", str(deb), "--record")
    assert repo.gates("venv-svc", "3.4.2-deb12u1")["smoke"]["passed"] is True
    code, error, err = venvdeb("repo", "promote", "p1", "venv-svc", "3.4.2-deb12u1", check=False)
    assert code == 1 and "gate(s) not passed: lint" in err
    code, linted, err = venvdeb("lint", str(deb), "--record")
    assert linted["passed"] is True and repo.gates("venv-svc", "3.4.2-deb12u1")["lint"]["passed"] is True
    rebuilt(venvdeb, tmp_path, "3.4.2-deb12u1")
    code, promoted, err = venvdeb("repo", "promote", "p1", "venv-svc", "3.4.2-deb12u1")
    assert promoted["promoted"] is True


def tampered(deb, where):
    """``deb`` with a file planted in its venv (a .pth runs at every start of its Python), its
    md5sums made to match: what a compromised builder would upload, that lint and smoke pass."""
    tree = where / "tree"
    where.mkdir()
    subprocess.run(["dpkg-deb", "-R", str(deb), str(tree)], check=True)
    [site] = tree.glob("usr/lib/venvs/svc/lib/python3*/site-packages")
    planted = site / "zz-planted.pth"
    planted.write_text("import os\n")
    with open(tree / "DEBIAN" / "md5sums", "a") as md5sums:
        md5sums.write(f"{hashlib.md5(planted.read_bytes()).hexdigest()}  {planted.relative_to(tree)}\n")
    out = where / deb.name
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zzstd", "-b", str(tree), str(out)], check=True,
                   capture_output=True)
    (where / f"{deb.name}.sha256").write_text(f"{sha256_file(out)}  {deb.name}\n")
    return out


def test_a_rebuild_that_differs_blocks_promotion_and_diffoscope_says_where(setup, tmp_path):
    """A package whose gates passed, published to staging, that its source does not give."""
    root, venvdeb, repo = setup
    venvdeb("pipeline", "p1")
    code, built, err = venvdeb("build", "p1", "svc")
    planted = tampered(pathlib.Path(built["deb"]), tmp_path / "tampered")
    for gate in (["lint", str(planted)], ["smoke", "p1", "svc", str(planted)]):
        venvdeb(*gate, "--record")
    venvdeb("repo", "publish", "bookworm-p1-staging", str(planted))
    code, rebuild, err = venvdeb("rebuild", "p1", "svc", str(planted), "--record", check=False)
    assert code == 1 and rebuild["passed"] is False and rebuild["sha256"] == sha256_file(planted)
    assert rebuild["rebuilt_sha256"] == sha256_file(pathlib.Path(built["deb"]))  # the source gives the honest file
    assert "zz-planted.pth" in pathlib.Path(rebuild["report"]).read_text()  # diffoscope's, kept
    assert "zz-planted.pth" in rebuild["differences"] and "zz-planted.pth" in err
    assert repo.gates("venv-svc", "3.4.2-deb12u2")["rebuild"]["passed"] is False
    code, refused, err = venvdeb("repo", "promote", "p1", "venv-svc", "3.4.2-deb12u2", check=False)
    assert code == 1 and "rebuild: failed" in err
    assert repo.list("bookworm-p1") == []
