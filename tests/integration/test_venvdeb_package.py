"""venvdeb packages itself: the default packaging's release 'tools', whose service 'venvdeb' is
built from this repository (its branch main), through lintian, smoke and piuparts to a signed staging suite:
the package a worker machine installs with apt (docs/farm.md, "Adding a worker machine")."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from debian.debfile import DebFile

from tests.conftest import PROJECT
from venvdeb.repository import Repository
from venvdeb.repository.signing import Key, fingerprints, stop_agent

pytestmark = [pytest.mark.integration, pytest.mark.network, pytest.mark.fleet]


def test_venv_venvdeb_passes_every_gate_and_makes_a_worker(tmp_path, cache_dir):
    def venvdeb(*args, extra=()):
        argv = [sys.executable, "-m", "venvdeb", "--packaging", str(PROJECT / "packaging"), *args, *extra,
                "--repo-dir", str(tmp_path / "repo"), "--gnupghome", str(tmp_path / "gnupg"), "--json"]
        proc = subprocess.run(argv, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout)

    venvdeb("repo", "init", "--make-key")
    home = tmp_path / "gnupg"
    try:
        venvdeb("pipeline", "tools", "venvdeb", "--dist", "bookworm",
                extra=("--cache-dir", str(cache_dir), "--out-dir", str(tmp_path / "out"),
                       "--state-dir", str(tmp_path / "state")))
        repo = Repository(tmp_path / "repo", Key(home, fingerprints(home)[0]))
        staged = {p.package: p.version for p in repo.list("bookworm-tools-staging")}
    finally:
        stop_agent(home)
    head = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "main"], capture_output=True, text=True,
                          check=True).stdout.strip()
    version = staged["venv-venvdeb"]
    assert staged["venvdeb-tools-wheelhouse"] and version.startswith("0.1.0-deb12u")
    gates = repo.gates("venv-venvdeb", version)
    lint = gates["lint"]
    assert lint["passed"] and lint["fail_on"] == ["error", "warning"]
    assert not lint["counts"].get("error") and not lint["counts"].get("warning"), lint["summary"]
    checks = {c["name"]: c["passed"] for c in gates["smoke"]["checks"]}
    assert checks["as venvdeb: buildbot-worker makes a worker for a master"]
    assert checks["as venvdeb: venvdeb finds its templates and the wheelhouse skeleton in its venv"]
    assert all(checks.values()), checks
    # Its Depends on python3-dev installed in piuparts' chroot too (from the base's security suite).
    assert checks["piuparts: install, upgrade from the suite, purge, nothing left"]

    deb = DebFile(str(next((tmp_path / "out").rglob(f"venv-venvdeb_{version}_*.deb"))))
    control = deb.debcontrol()
    # What a worker runs, from Debian; and no path of the building machine for a home page.
    assert {"dh-virtualenv", "lintian", "mmdebstrap", "git"} <= {d.strip().split()[0] for d in control["Depends"].split(",")}
    assert "Homepage" not in control and str(PROJECT) not in control.dump()
    copyright = deb.data.get_content("./usr/share/doc/venv-venvdeb/copyright").decode()
    assert copyright.startswith("Format: ") and "\nSource:" not in copyright and str(PROJECT) not in copyright
    # The pipeline's reason, and the commit venvdeb was built from (its version, 0.1.0, names none).
    changelog = str(deb.changelog())
    assert "Pipeline build." in changelog and f"Build main at {head[:12]}: " in changelog
    names = {str(n) for n in deb.data.tgz().getnames()}
    assert {"./usr/bin/venvdeb", "./usr/bin/buildbot-worker", "./usr/bin/buildbot"} <= names
