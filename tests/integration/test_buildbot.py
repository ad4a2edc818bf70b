"""A real Buildbot master and worker on 127.0.0.1 build a tiny release through the REST API.

The release's one service comes from a local bare git repository's stable branch, so a commit
there must start its build (GitPoller -> SingleBranchScheduler). Smoke tests are off (they need an
mmdebstrap chroot; tests/integration/test_pipeline.py covers them): the stages here are
wheelhouse, fetch, build, lintian, upload, publish on the master.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from venvdeb.repository import Repository
from venvdeb.repository.signing import Key, fingerprints
from .conftest import git

pytestmark = [pytest.mark.integration, pytest.mark.network]

SUCCESS, SKIPPED = 0, 3


def staging(tmp_path) -> dict:
    home = tmp_path / "gnupg"
    repo = Repository(tmp_path / "repo", Key(home, fingerprints(home)[0]))
    return {p["package"]: p["version"] for p in repo.list("bookworm-b1-staging")}


def test_forced_and_polled_builds_publish_to_staging(farm, tmp_path, upstream):
    _, api, password = farm

    # Anonymous: may read, may not force.
    anonymous = api.anonymous()
    status, answer = anonymous.call("forceschedulers/force_wheelhouse_b1_bookworm", "force",
                                    builderid=str(api.builder_id("wheelhouse-b1-bookworm")), reason="anonymous")
    assert status == 403, answer
    assert anonymous.get("builders")["builders"]

    api.login("admin", password)
    # Served over TLS: Buildbot marks the session cookie Secure.
    assert list(api.cookies) and all(cookie.secure for cookie in api.cookies)
    build = api.wait_request(api.force("force_wheelhouse_b1_bookworm", "wheelhouse-b1-bookworm", reason="First wheelhouse"))
    assert build["results"] == SUCCESS, api.steps(build)
    assert build["properties"]["wheelhouse_package"][0] == "test-wheelhouse-b1"
    assert build["properties"]["wheelhouse_version"][0] == "1+deb12"
    assert [name for name, _ in api.steps(build)] == [
        "worker_preparation", "locks_acquire", "ledger-from-master", "wheelhouse", "lintian", "upload-deb", "publish",
        "ledger-to-master", "rebuild-services"]
    assert staging(tmp_path) == {"test-wheelhouse-b1": "1+deb12"}
    # Anyone may read logs: a worker's environment (its secrets) is not in them.
    log = anonymous.log_text(build, "wheelhouse")
    assert "wheelhouse build b1" in log and "environment:" not in log and "HOME=" not in log

    build = api.wait_request(api.force("force_b1_bookworm_venv_gitsvc", "b1-bookworm-venv-gitsvc", reason="CVE-2026-0001"))
    assert build["results"] == SUCCESS, api.steps(build)
    props = {k: v[0] for k, v in build["properties"].items()}
    assert props["version"] == "1.0.1~~dev2-deb12u1" and props["wheelhouse_version"] == "1+deb12"
    assert props["lintian_error"] == 0 and props["lintian_warning"] == 1
    assert props["deb_size"] > 0
    assert staging(tmp_path) == {"test-wheelhouse-b1": "1+deb12", "venv-gitsvc": "1.0.1~~dev2-deb12u1"}
    # The worker's lintian result is recorded on the master, for `repo promote`.
    home = tmp_path / "gnupg"
    gates = Repository(tmp_path / "repo", Key(home, fingerprints(home)[0])).gates("venv-gitsvc", "1.0.1~~dev2-deb12u1")
    assert gates["lint"]["passed"] is True and gates["lint"]["packages"][0]["counts"]["warning"] == 1
    # The force form's reason went into debian/changelog.
    deb = next((tmp_path / "uploads" / "b1-bookworm-venv-gitsvc").rglob("*.deb"))
    assert b"CVE-2026-0001" in _changelog(deb, tmp_path)
    # The master keeps the ledger: the next build, on any worker, continues from it.
    assert (tmp_path / "state" / "b1" / "bookworm" / "venv-gitsvc.ledger.json").is_file()

    # A burst of commits to the stable branch, pushed one by one, builds the service once more,
    # by itself, at the last commit (the tree-stable timer is 3 s here).
    before = len(api.builds("b1-bookworm-venv-gitsvc"))
    work = tmp_path / "push"
    git("clone", "-q", "--branch", "stable/2025.2", str(upstream), str(work), cwd=tmp_path)
    for n in (3, 4, 5):
        (work / "gitsvc" / f"m{n}.py").write_text(f"X = {n}\n")
        git("add", ".", cwd=work)
        git("commit", "-q", "-m", f"Fix number {n}", cwd=work)
        git("push", "-q", "origin", "stable/2025.2", cwd=work)
    new = api.wait(lambda: [b for b in api.builds("b1-bookworm-venv-gitsvc")[before:] if b["complete"]], 600,
                   "the build of the pushed commits")
    assert new[0]["results"] == SUCCESS, api.steps(new[0])
    props = {k: v[0] for k, v in new[0]["properties"].items()}
    assert props["scheduler"] == "git_b1_bookworm_gitsvc" and props["version"] == "1.0.1~~dev5-deb12u1"
    assert staging(tmp_path)["venv-gitsvc"] == "1.0.1~~dev5-deb12u1"
    time.sleep(10)  # longer than the poll interval and the tree-stable timer together
    assert len(api.builds("b1-bookworm-venv-gitsvc")) == before + 1
    builder = api.builder_id("b1-bookworm-venv-gitsvc")
    assert api.get(f"buildrequests?builderid={builder}&complete=false")["buildrequests"] == []


def _changelog(deb: Path, tmp_path: Path) -> bytes:
    tree = tmp_path / "x"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
    return subprocess.run(["zcat", str(next(tree.glob("usr/share/doc/*/changelog.Debian.gz")))],
                          capture_output=True, check=True).stdout


def test_a_constraints_commit_rebuilds_the_wheelhouse_then_every_service(farm, tmp_path):
    farm_, api, password = farm
    api.login("admin", password)
    time.sleep(5)  # the pollers' first look at the repositories sets where "new" starts
    work = tmp_path / "requirements-push"
    git("clone", "-q", str(tmp_path / "requirements.git"), str(work), cwd=tmp_path)
    with open(work / "upper-constraints.txt", "a") as f:
        f.write("# reviewed for the next point release\n")
    git("commit", "-q", "-am", "Review the constraints", cwd=work)
    git("push", "-q", "origin", "master", cwd=work)
    wheelhouse = api.wait(lambda: [b for b in api.builds("wheelhouse-b1-bookworm") if b["complete"]], 600,
                          "the wheelhouse build of the constraints commit")[0]
    assert wheelhouse["results"] == SUCCESS, api.steps(wheelhouse)
    assert wheelhouse["properties"]["scheduler"][0] == "constraints_b1_bookworm"
    assert ("rebuild-services", SUCCESS) in api.steps(wheelhouse)
    service = api.wait(lambda: [b for b in api.builds("b1-bookworm-venv-gitsvc") if b["complete"]], 600,
                       "the service build the wheelhouse triggered")[0]
    assert service["results"] == SUCCESS, api.steps(service)
    assert service["properties"]["scheduler"][0] == "services_b1_bookworm"
    assert service["properties"]["reason"][0].startswith("Rebuilt against test-wheelhouse-b1 1+deb12")
    assert staging(tmp_path) == {"test-wheelhouse-b1": "1+deb12", "venv-gitsvc": "1.0.1~~dev2-deb12u1"}

    # Another constraints commit: the wheelhouse is rebuilt to the same content (the same
    # version: builds still read the packaging on the master's disk, not the pushed revision),
    # and the service's triggered build is skipped, saying why. That a changed closure is rebuilt
    # is tested with the CLI (test_service_build.py).
    def push(edit, message):
        text = (work / "upper-constraints.txt").read_text()
        (work / "upper-constraints.txt").write_text(edit(text))
        git("commit", "-q", "-am", message, cwd=work)
        git("push", "-q", "origin", "master", cwd=work)

    def next_build(builder, count):
        return api.wait(lambda: [b for b in api.builds(builder) if b["complete"]][count:], 600,
                        f"build {count + 1} of {builder}")[0]

    push(lambda t: t + "# reviewed again\n", "Review again")
    assert next_build("wheelhouse-b1-bookworm", 1)["results"] == SUCCESS
    skipped = next_build("b1-bookworm-venv-gitsvc", 1)
    build_step = next(s for s in api.get(f"builds/{skipped['buildid']}/steps")["steps"] if s["name"] == "build")
    assert build_step["results"] == SKIPPED
    assert build_step["state_string"] == "skipped: venv-gitsvc closure and packaging unchanged since 1.0.1~~dev2-deb12u1"
    assert staging(tmp_path) == {"test-wheelhouse-b1": "1+deb12", "venv-gitsvc": "1.0.1~~dev2-deb12u1"}
