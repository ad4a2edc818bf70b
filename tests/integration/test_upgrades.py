"""The paths operators take between releases, with apt in a clean chroot.

One packaging root holds two releases of the same two services (u1 and u2, as 2025.2 and 2026.1
hold nova and keystone). An operator who runs both services from u1 moves one of them to u2:
apt upgrades that one, and leaves the other where it was.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import write
from venvdeb.environment import images
from venvdeb.gates.smoke import KEYRING_IN_CHROOT
from venvdeb.repository import KEYRING, serving
from venvdeb.repository.signing import stop_agent

pytestmark = [pytest.mark.integration, pytest.mark.network]

VERSIONS = {"u1": {"alpha": "3.4.1", "beta": "0.44.0"}, "u2": {"alpha": "3.4.2", "beta": "0.45.1"}}
PYPI = {"alpha": "charset-normalizer", "beta": "wheel"}
SCRIPTS = {"alpha": "normalizer", "beta": "wheel"}
SMOKE = {"alpha": "normalizer --version", "beta": "wheel version"}


def packaging(root):
    for service in ("alpha", "beta"):
        write(root / "services" / f"{service}.toml", f"""
            name = "{service}"
            summary = "Test service {service}"
            console_scripts = ["{SCRIPTS[service]}"]
            smoke_commands = ["{SMOKE[service]}"]

            [source]
            pypi = "{PYPI[service]}"
        """)
    for release, versions in VERSIONS.items():
        write(root / f"upper-constraints-{release}.txt",
              "".join(f"{PYPI[s]}==={v}\n" for s, v in versions.items()))
        services = "".join(f'[services.{s}]\nversion = "{v}"\n\n' for s, v in versions.items())
        write(root / "releases" / f"{release}.toml", f'''
            name = "{release}"
            distribution = "bookworm"
            wheelhouse_package = "test-wheelhouse-{release}"

            [constraints]
            kind = "upper-constraints"
            path = "upper-constraints-{release}.txt"

            [suites]
            staging = "bookworm-{release}-staging"
            production = "bookworm-{release}"
        ''')
        path = root / "releases" / f"{release}.toml"
        path.write_text(path.read_text() + "\n" + services)
    return root


def test_one_service_moves_to_the_next_release_and_the_other_stays(tmp_path, cache_dir):
    root = packaging(tmp_path / "packaging")
    repo = ["--repo-dir", str(tmp_path / "repo"), "--gnupghome", str(tmp_path / "gnupg")]
    dirs = ["--cache-dir", str(cache_dir), "--out-dir", str(tmp_path / "out"), "--state-dir", str(tmp_path / "state")]

    def venvdeb(*args):
        proc = subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(root), *args, "--json"],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-4000:]
        return json.loads(proc.stdout)

    try:
        venvdeb("repo", "init", "--make-key", *repo)
        for release in VERSIONS:
            assert venvdeb("pipeline", release, *dirs, *repo)["passed"]
        sources = {release: venvdeb("repo", "sources", release, "--keyring", KEYRING_IN_CHROOT, *repo)["sources"]
                   for release in VERSIONS}
    finally:
        stop_agent(tmp_path / "gnupg")

    def installed(ch, package):
        return ch.run(["dpkg-query", "-W", "-f", "${Version}", package]).stdout

    with serving(tmp_path / "repo") as url, images.smoke("bookworm", cache_dir).fresh() as ch:
        ch.write(KEYRING_IN_CHROOT, (tmp_path / "repo" / KEYRING).read_bytes())
        ch.write("/etc/apt/sources.list.d/u1.sources", sources["u1"].replace("http://127.0.0.1:8080", url))
        assert ch.run(["apt-get", "update"]).returncode == 0
        first = ch.run(["apt-get", "install", "-y", "venv-alpha", "venv-beta"])
        assert first.returncode == 0, first.stdout + first.stderr
        assert (installed(ch, "venv-alpha"), installed(ch, "venv-beta")) == ("3.4.1-1", "0.44.0-1")

        # alpha moves to u2: the operator adds u2's suite and upgrades that one service.
        ch.write("/etc/apt/sources.list.d/u2.sources", sources["u2"].replace("http://127.0.0.1:8080", url))
        assert ch.run(["apt-get", "update"]).returncode == 0
        upgrade = ch.run(["apt-get", "install", "-y", "venv-alpha"])
        assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
        assert (installed(ch, "venv-alpha"), installed(ch, "venv-beta")) == ("3.4.2-1", "0.44.0-1")
        # Both still run: each from its own venv, each from its own release's wheelhouse.
        alpha = ch.run(["normalizer", "--version"])
        assert alpha.returncode == 0 and "3.4.2" in alpha.stdout + alpha.stderr
        beta = ch.run(["wheel", "version"])
        assert beta.returncode == 0 and "0.44.0" in beta.stdout + beta.stderr
