"""lintian and diffoscope read what a builder made without the master's privileges
(environment/unprivileged.py): as nobody, offline, from readable copies. Their results are shown
for real by test_lint_gate.py, test_pipeline.py and test_rogue_worker.py."""

from __future__ import annotations

import os
import subprocess

import pytest

from venvdeb.environment import unprivileged

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="the privileges dropped are root's")]


def test_a_reader_of_uploads_is_nobody_with_no_network_and_cannot_read_the_masters_secrets(tmp_path):
    key = tmp_path / "gnupg" / "private-keys-v1.d" / "key"
    key.parent.mkdir(parents=True, mode=0o700)
    key.write_text("secret")
    key.chmod(0o600)
    upload = tmp_path / "uploads" / "upload.deb"
    upload.parent.mkdir(mode=0o700)  # a farm master's umask 077
    upload.write_bytes(b"!<arch>\n")

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(unprivileged.argv(list(argv)), capture_output=True, text=True,
                              env=unprivileged.variables(), cwd=unprivileged.CWD)

    assert (run("id", "-u").stdout, run("id", "-G").stdout) == ("65534\n", "65534\n")
    assert "Permission denied" in run("cat", str(key)).stderr
    # no network but loopback, down
    assert run("cat", "/proc/net/dev").stdout.count(":") == 1
    # nothing to gain: setuid programs do not raise it
    assert '"no new privileges" flag is set' in run("sudo", "-n", "true").stderr
    assert run("cat", str(upload)).returncode != 0
    with unprivileged.readable(upload) as (copy,):
        assert copy.name == "upload.deb" and run("cat", str(copy)).stdout == "!<arch>\n"
        assert run("touch", str(copy.parent / "planted")).returncode != 0
    assert not copy.exists()


def test_lintian_runs_as_nobody_from_a_directory_nobody_can_enter(tmp_path, monkeypatch):
    """A farm's master works in directories of its own (umask 077): lintian, started from one as
    nobody, still reads its copy of the package and says what it found."""
    from venvdeb.gates import lint

    tree = tmp_path / "tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text("Package: tiny\nVersion: 1.0\nArchitecture: all\n"
                                             "Maintainer: T <t@example.org>\nDescription: tiny\n tiny\n")
    private = tmp_path / "master"
    private.mkdir(mode=0o700)
    deb = private / "tiny_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(deb)], check=True, capture_output=True)
    monkeypatch.chdir(private)
    linted = lint.run(deb)
    tags = {t["tag"] for t in linted.tags}
    assert "lintian-failed" not in tags and linted.exit_code == 2
    assert "no-copyright-file" in tags  # lintian read the package: what it lacks
