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
from debian.debfile import DebFile

from tests.conftest import write
from venvdeb.environment import images
from venvdeb.environment.images import apt_sources
from venvdeb.gates.smoke import KEYRING_IN_CHROOT
from venvdeb.repository import KEYRING, serving
from venvdeb.repository.signing import stop_agent
from venvdeb.service.render import INSTALL_ROOT

# Long (three minutes here, several times that on CI's machine): run by make test-fleet.
pytestmark = [pytest.mark.integration, pytest.mark.network, pytest.mark.fleet]

VERSIONS = {"u1": {"alpha": "3.4.1", "beta": "0.44.0"}, "u2": {"alpha": "3.4.2", "beta": "0.45.1"}}
PYPI = {"alpha": "charset-normalizer", "beta": "wheel"}
SCRIPTS = {"alpha": "normalizer", "beta": "wheel"}
SMOKE = {"alpha": "normalizer --version", "beta": "wheel version"}


def cli(root, *args) -> dict:
    proc = subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(root), *args, "--json"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


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
        return cli(root, *args)

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
        assert (installed(ch, "venv-alpha"), installed(ch, "venv-beta")) == ("3.4.1-deb12u1", "0.44.0-deb12u1")

        # alpha moves to u2: the operator adds u2's suite and upgrades that one service.
        ch.write("/etc/apt/sources.list.d/u2.sources", sources["u2"].replace("http://127.0.0.1:8080", url))
        assert ch.run(["apt-get", "update"]).returncode == 0
        upgrade = ch.run(["apt-get", "install", "-y", "venv-alpha"])
        assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
        assert (installed(ch, "venv-alpha"), installed(ch, "venv-beta")) == ("3.4.2-deb12u1", "0.44.0-deb12u1")
        # Both still run: each from its own venv, each from its own release's wheelhouse.
        alpha = ch.run(["normalizer", "--version"])
        assert alpha.returncode == 0 and "3.4.2" in alpha.stdout + alpha.stderr
        beta = ch.run(["wheel", "version"])
        assert beta.returncode == 0 and "0.44.0" in beta.stdout + beta.stderr


def test_the_operating_system_upgrade_replaces_the_venv_and_an_earlier_version_rolls_back(tmp_path, cache_dir):
    """bookworm -> trixie with venv-alpha installed: apt replaces the bookworm build (Python 3.11)
    with the trixie build (Python 3.13) in the same full-upgrade, then the production suite's
    snapshot of the earlier version installs again on trixie."""
    root = tmp_path / "packaging"
    write(root / "services" / "alpha.toml", f"""
        name = "alpha"
        summary = "Test service alpha"
        console_scripts = ["{SCRIPTS['alpha']}"]
        smoke_commands = ["{SMOKE['alpha']}"]

        [source]
        pypi = "{PYPI['alpha']}"
    """)

    def release(version: str) -> None:
        write(root / "upper-constraints.txt", f"{PYPI['alpha']}==={version}\n")
        write(root / "releases" / "o1.toml", f'''
            name = "o1"
            distributions = ["bookworm", "trixie"]
            wheelhouse_package = "test-wheelhouse-o1"

            [services.alpha]
            version = "{version}"

            [constraints]
            kind = "upper-constraints"
            path = "upper-constraints.txt"

            [suites]
            staging = "{{distribution}}-o1-staging"
            production = "{{distribution}}-o1"
        ''')

    repo = ["--repo-dir", str(tmp_path / "repo"), "--gnupghome", str(tmp_path / "gnupg")]
    dirs = ["--cache-dir", str(cache_dir), "--out-dir", str(tmp_path / "out"), "--state-dir", str(tmp_path / "state")]

    def venvdeb(*args):
        return cli(root, *args)

    built = {}
    release("3.4.1")
    try:
        venvdeb("repo", "init", "--make-key", *repo)
        for version in ("3.4.1", "3.4.2"):
            release(version)
            result = venvdeb("pipeline", "o1", *dirs, *repo)
            assert result["passed"] and set(result["distributions"]) == {"bookworm", "trixie"}
            for dist, point in result["distributions"].items():
                assert point["passed"], point
                debian = f"{version}-deb{ {'bookworm': 12, 'trixie': 13}[dist] }u1"
                (built[dist, version],) = (tmp_path / "out").rglob(f"venv-alpha_{debian}_*.deb")
                # Production takes what an independent rebuild gave again, byte for byte.
                assert venvdeb("rebuild", "o1", "alpha", str(built[dist, version]), "--record", *dirs, *repo)["passed"]
                assert venvdeb("repo", "promote", "o1", "venv-alpha", debian, *repo)["promoted"]
        sources = venvdeb("repo", "sources", "o1", "--production", "--keyring", KEYRING_IN_CHROOT,
                          *repo)["by_distribution"]
        rollback = venvdeb("repo", "rollback", "trixie-o1", "venv-alpha", "3.4.1-deb13u1",
                           "--keyring", KEYRING_IN_CHROOT, *repo)["sources"]
    finally:
        stop_agent(tmp_path / "gnupg")

    # Each build names its own interpreter, so dpkg cannot keep the bookworm one configured
    # once python3 is 3.13: apt has to replace it in the same upgrade.
    control = DebFile(str(built["bookworm", "3.4.2"])).debcontrol()
    assert "python3 (>= 3.11), python3 (<< 3.12)" in control["Depends"]
    assert "python3 (>= 3.13), python3 (<< 3.14)" in DebFile(str(built["trixie", "3.4.2"])).debcontrol()["Depends"]

    def installed(ch, package):
        return ch.run(["dpkg-query", "-W", "-f", "${Version}", package]).stdout

    def venv_python(ch):
        run = ch.run([f"{INSTALL_ROOT}/alpha/bin/python", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        assert run.returncode == 0, run.stdout + run.stderr
        return run.stdout.strip()

    def smoke(ch, version):
        run = ch.run(SMOKE["alpha"].split())
        assert run.returncode == 0 and version in run.stdout + run.stderr, run.stdout + run.stderr

    def apt(ch, *args):
        run = ch.run(["apt-get", "-y", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
                      *args], setenv={"DEBIAN_FRONTEND": "noninteractive"})
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
        return run

    with serving(tmp_path / "repo") as url, images.smoke("bookworm", cache_dir).fresh() as ch:
        ch.write(KEYRING_IN_CHROOT, (tmp_path / "repo" / KEYRING).read_bytes())
        ch.write("/etc/apt/sources.list.d/o1.sources", sources["bookworm"].replace("http://127.0.0.1:8080", url))
        apt(ch, "update")
        apt(ch, "install", "venv-alpha")
        assert (installed(ch, "venv-alpha"), venv_python(ch)) == ("3.4.2-deb12u1", "3.11")
        smoke(ch, "3.4.2")

        # The operator's dist-upgrade: Debian's suites and the venv suite both move to trixie.
        ch.write("/etc/apt/sources.list", "\n".join(apt_sources("trixie")) + "\n")
        ch.write("/etc/apt/sources.list.d/o1.sources", sources["trixie"].replace("http://127.0.0.1:8080", url))
        apt(ch, "update")
        apt(ch, "full-upgrade")
        assert ch.run(["dpkg-query", "-W", "-f", "${Version}", "python3"]).stdout.startswith("3.13")
        assert (installed(ch, "venv-alpha"), venv_python(ch)) == ("3.4.2-deb13u1", "3.13")
        smoke(ch, "3.4.2")
        log = ch.run(["cat", "/var/log/dpkg.log"]).stdout
        assert "upgrade venv-alpha:" in log and "3.4.2-deb12u1 3.4.2-deb13u1" in log
        assert ch.run(["dpkg", "--audit"]).stdout == ""

        # The old interpreter goes with autoremove; the venv does not notice.
        apt(ch, "autoremove", "--purge")
        assert ch.run(["dpkg-query", "-W", "-f", "${Status}", "python3.11"]).stdout in ("", "deinstall ok config-files")
        assert ch.run(["test", "-e", "/usr/bin/python3.11"]).returncode != 0
        smoke(ch, "3.4.2")

        # Rollback on trixie: the production suite's snapshot of the earlier version.
        ch.write("/etc/apt/sources.list.d/rollback.sources", rollback.replace("http://127.0.0.1:8080", url))
        apt(ch, "update")
        apt(ch, "install", "--allow-downgrades", "venv-alpha=3.4.1-deb13u1")
        assert (installed(ch, "venv-alpha"), venv_python(ch)) == ("3.4.1-deb13u1", "3.13")
        smoke(ch, "3.4.1")
