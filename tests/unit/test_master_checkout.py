"""The master's own checkout of the packaging (issue 25): from its mirror, at the revision the
build is for, with real git; nothing of a worker's."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from venvdeb.buildbot.checkout import checkout_on_master
from venvdeb.buildbot.settings import PackagingSource
from venvdeb.errors import ToolError


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


def commit(repo: Path, text: str) -> str:
    (repo / "packaging").mkdir(exist_ok=True)
    (repo / "packaging" / "release.toml").write_text(text)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", text, cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo)


def test_the_master_checks_out_the_revision_asked_or_the_branch_head_from_its_own_mirror(tmp_path):
    repo = tmp_path / "packaging.git"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    first = commit(repo, "one")
    source = PackagingSource(str(repo), "main", "packaging")
    mirrors, dest = tmp_path / "mirrors", tmp_path / "uploads" / "b" / "1" / "packaging-src"

    assert checkout_on_master(source, None, mirrors, dest) == first
    assert (dest / "packaging" / "release.toml").read_text() == "one"

    # A new commit: the branch's head is fetched into the mirror; an older revision still checks out.
    second = commit(repo, "two")
    assert checkout_on_master(source, None, mirrors, dest) == second
    assert (dest / "packaging" / "release.toml").read_text() == "two"
    assert checkout_on_master(source, first, mirrors, dest) == first
    assert (dest / "packaging" / "release.toml").read_text() == "one"
    assert len(list(mirrors.rglob("*.git"))) == 1

    with pytest.raises(ToolError) as caught:
        checkout_on_master(source, "0" * 40, mirrors, dest)
    assert caught.value.message == f"{repo} has no commit {'0' * 40}"
    with pytest.raises(ToolError):  # not an option, whatever a property says
        checkout_on_master(source, "--output=/tmp/x", mirrors, dest)
