"""A real Buildbot master and worker on 127.0.0.1 build a tiny release through the REST API.

The release's one service comes from a local bare git repository's stable branch, so a commit
there must start its build (GitPoller -> SingleBranchScheduler). Smoke tests are off (they need an
mmdebstrap chroot; tests/integration/test_pipeline.py covers them): the stages here are
wheelhouse, fetch, build, upload; lintian (and a wheelhouse's verify) and publish on the master.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from venvdeb.files import sha256_file
from venvdeb.repository import Repository
from venvdeb.repository.signing import Key, fingerprints
from .conftest import git

pytestmark = [pytest.mark.integration, pytest.mark.network]

SUCCESS, FAILURE, SKIPPED = 0, 2, 3


def staging(tmp_path) -> dict:
    home = tmp_path / "gnupg"
    repo = Repository(tmp_path / "repo", Key(home, fingerprints(home)[0]))
    return {p.package: p.version for p in repo.list("bookworm-b1-staging")}


def why(api, build) -> str:
    """A failed build's steps, and where the master's rebuild differed, diffoscope's account."""
    said = str(api.steps(build))
    if ("rebuild", FAILURE) in api.steps(build):
        said += "\n" + api.log_text(build, "rebuild", "diffoscope")[:8000]
    return said


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
    # ... HttpOnly and SameSite=Strict too (http.cookiejar keeps them as they came, in its rest).
    flags = [{k.lower(): (v or "").lower() for k, v in cookie._rest.items()} for cookie in api.cookies]
    assert all("httponly" in f and f.get("samesite") == "strict" for f in flags), flags
    build = api.wait_request(api.force("force_wheelhouse_b1_bookworm", "wheelhouse-b1-bookworm", reason="First wheelhouse"))
    assert build["results"] == SUCCESS, api.steps(build)
    assert build["properties"]["wheelhouse_package"][0] == "test-wheelhouse-b1"
    assert build["properties"]["wheelhouse_version"][0] == "1+deb12"
    assert [name for name, _ in api.steps(build)] == [
        "worker_preparation", "locks_acquire", "packaging-on-master", "packaging-from-master", "packaging",
        "ledger-from-master", "wheelhouse",
        "upload-deb", "accept-upload", "upload-buildinfo", "lintian", "verify", "publish",
        "ledger-to-master", "record-build", "rebuild", "rebuild-services", "remove-uploads"]
    # The master gated the upload itself, each gate recorded for its bytes: what publish required.
    home = tmp_path / "gnupg"
    repo = Repository(tmp_path / "repo", Key(home, fingerprints(home)[0]))
    recorded = repo.gates("test-wheelhouse-b1", "1+deb12")
    assert recorded["lint"]["passed"] is True and recorded["verify"]["passed"] is True
    # ... and built it again itself, every sdist afresh: the same bytes, which promotion requires.
    assert recorded["rebuild"]["passed"] is True and recorded["rebuild"]["sha256"] == recorded["sha256"]
    assert recorded["verify"]["wheels"] == recorded["verify"]["downloaded"] + recorded["verify"]["built"] > 0
    assert recorded["sha256"] == sha256_file(published(tmp_path, "test-wheelhouse-b1", "1+deb12"))
    # The build's uploads are gone once it ended (here, published).
    assert not (tmp_path / "uploads" / "wheelhouse-b1-bookworm" / str(build["number"])).exists()
    assert staging(tmp_path) == {"test-wheelhouse-b1": "1+deb12"}
    # Anyone may read logs: a worker's environment (its secrets) is not in them.
    log = anonymous.log_text(build, "wheelhouse")
    # (Buildbot's logEnviron would head the log with " environment:", then a line per variable.)
    assert "wheelhouse build b1" in log and "\n environment:\n" not in log and "HOME=" not in log

    build = api.wait_request(api.force("force_b1_bookworm_venv_gitsvc", "b1-bookworm-venv-gitsvc", reason="CVE-2026-0001"))
    assert build["results"] == SUCCESS, why(api, build)
    props = {k: v[0] for k, v in build["properties"].items()}
    # Forced: the packaging branch's head, checked out on the worker.
    head = subprocess.run(["git", "--git-dir", str(tmp_path / "packaging.git"), "rev-parse", "master"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # The master chose the commit and checked it out itself; the worker checked out the same one.
    assert props["packaging_commit"] == props["got_revision"] == head
    assert props["version"] == "1.0.1~~dev2-deb12u1" and props["wheelhouse_version"] == "1+deb12"
    # (No Homepage: the upstream is a repository on this machine, which lintian took for a bad one.)
    assert props["lintian_error"] == 0 and props["lintian_warning"] == 0
    assert props["deb_size"] > 0
    assert staging(tmp_path) == {"test-wheelhouse-b1": "1+deb12", "venv-gitsvc": "1.0.1~~dev2-deb12u1"}
    # The master's lintian result, recorded for `repo publish` (a farm without smoke: lint alone)
    # and `repo promote`.
    gates = repo.gates("venv-gitsvc", "1.0.1~~dev2-deb12u1")
    assert gates["lint"]["passed"] is True and "smoke" not in gates
    assert gates["lint"]["counts"].get("info", 0) == props["lintian_info"]
    # The force form's reason went into debian/changelog.
    deb = published(tmp_path, "venv-gitsvc", props["version"])
    assert b"CVE-2026-0001" in _changelog(deb, tmp_path)
    # The worker's .buildinfo, published beside the package once checked to record its bytes.
    recorded = (tmp_path / "repo" / "buildinfo" / deb.with_suffix(".buildinfo").name).read_text()
    assert f" {sha256_file(deb)} {deb.stat().st_size} {deb.name}\n" in recorded
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

    # A commit to the packaging repository that touches the service's file rebuilds that service
    # alone, from that commit (not from the master's checkout, which still has the old file), and
    # its changelog says which commit.
    wheelhouses = len(api.builds("wheelhouse-b1-bookworm"))
    before = len(api.builds("b1-bookworm-venv-gitsvc"))
    work = tmp_path / "packaging-push"
    git("clone", "-q", str(tmp_path / "packaging.git"), str(work), cwd=tmp_path)
    service_file = work / "services" / "gitsvc.toml"
    service_file.write_text(service_file.read_text().replace('summary = "Service from a stable branch"',
                                                             'summary = "Service from a reviewed stable branch"'))
    git("commit", "-q", "-am", "Say the branch is reviewed", cwd=work)
    git("push", "-q", "origin", "master", cwd=work)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=work, capture_output=True, text=True).stdout.strip()
    new = api.wait(lambda: [b for b in api.builds("b1-bookworm-venv-gitsvc")[before:] if b["complete"]], 600,
                   "the build of the packaging commit")
    assert new[0]["results"] == SUCCESS, api.steps(new[0])
    props = {k: v[0] for k, v in new[0]["properties"].items()}
    assert props["scheduler"] == "packaging_b1_bookworm_gitsvc" and props["packaging_commit"] == commit
    assert props["version"] == "1.0.1~~dev5-deb12u2"
    deb = published(tmp_path, "venv-gitsvc", props["version"])
    control = subprocess.run(["dpkg-deb", "-f", str(deb), "Description"], capture_output=True, text=True).stdout
    assert control.startswith("Service from a reviewed stable branch")
    assert f"Packaging at commit {commit}.".encode() in _changelog(deb, tmp_path / "packaging-commit")
    assert 'reviewed stable branch' not in (tmp_path / "packaging" / "services" / "gitsvc.toml").read_text()
    assert len(api.builds("wheelhouse-b1-bookworm")) == wheelhouses


def published(tmp_path: Path, package: str, version: str) -> Path:
    """The package as the repository has it (the build's upload is removed when the build ends)."""
    [deb] = (tmp_path / "repo" / "pool").rglob(f"{package}_{version.split(':')[-1]}_*.deb")
    return deb


def _changelog(deb: Path, tmp_path: Path) -> bytes:
    tree = tmp_path / "x"
    tree.mkdir(parents=True)
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
    return subprocess.run(["zcat", str(next(tree.glob("usr/share/doc/*/changelog.Debian.gz")))],
                          capture_output=True, check=True).stdout


def test_workers_that_share_nothing_build_at_once_and_rebuild_only_what_a_constraints_commit_changed(
        share_nothing_farm, tmp_path):
    """Two workers, each in a mount namespace without the master's directories or the other's,
    with a home of its own, reaching the master, the repository and the upstream git service over
    TCP; neither sees the packaging repository: each build's packaging comes from the master."""
    farm, api, password = share_nothing_farm
    api.login("admin", password)
    # What a worker sees of the master's repository and state, and of the other worker: nothing
    # (an empty mount).
    for name, other in (("w1", "w2"), ("w2", "w1")):
        pid = int((farm.base / f"worker-{name}" / "twistd.pid").read_text())
        assert list(Path(f"/proc/{pid}/root{tmp_path / 'repo'}").iterdir()) == []
        assert list(Path(f"/proc/{pid}/root{tmp_path / 'packaging.git'}").iterdir()) == []
        assert list(Path(f"/proc/{pid}/root{farm.base / 'master'}").iterdir()) == []
        assert list(Path(f"/proc/{pid}/root{farm.base / f'worker-{other}'}").iterdir()) == []
        assert list((farm.base / f"worker-{other}").iterdir())
        assert (tmp_path / "repo").is_dir() and list((farm.base / "master").iterdir())

    wheelhouse = api.wait_request(api.force("force_wheelhouse_b1_bookworm", "wheelhouse-b1-bookworm", reason="First"))
    assert wheelhouse["results"] == SUCCESS, api.steps(wheelhouse)
    # One package forced twice at once: no lock keeps the builds apart, the master gives each a
    # version of its own.
    requests = [api.force("force_b1_bookworm_venv_gitsvc", "b1-bookworm-venv-gitsvc", reason=f"Build {n}")
                for n in (1, 2)]
    first, second = builds = [api.wait_request(r) for r in requests]
    for build in builds:
        assert build["results"] == SUCCESS, why(api, build)
        assert dict(api.steps(build))["version"] == SUCCESS
    assert first["workerid"] != second["workerid"]
    assert first["started_at"] < second["complete_at"] and second["started_at"] < first["complete_at"]
    versions = sorted(b["properties"]["version"][0] for b in builds)
    assert versions == ["1.0.1~~dev2-deb12u1", "1.0.1~~dev2-deb12u2"]
    cn = api.wait_request(api.force("force_b1_bookworm_venv_cn", "b1-bookworm-venv-cn", reason="First cn"))
    assert cn["results"] == SUCCESS, why(api, cn)
    assert staging(tmp_path) == {"test-wheelhouse-b1": "1+deb12", "venv-gitsvc": "1.0.1~~dev2-deb12u2",
                                 "venv-cn": "3.4.2-deb12u1"}
    # The master's ledger has both builds' entries, whatever order they ended in; none in flight.
    ledger = json.loads((tmp_path / "state" / "b1" / "bookworm" / "venv-gitsvc.ledger.json").read_text())
    assert [e["version"] for e in ledger["entries"]] == versions and not ledger.get("reserved")
    # Each worker built with its own cache, in its own home.
    for name in ("w1", "w2"):
        assert (farm.base / f"worker-{name}" / "home" / ".cache" / "venvdeb").is_dir()

    # A constraints commit (in the packaging repository) that changes gitsvc's closure (idna) and
    # not cn's: the wheelhouse, then gitsvc; cn's build is skipped, saying why.
    builds_before = {b: len(api.builds(b)) for b in ("wheelhouse-b1-bookworm", "b1-bookworm-venv-gitsvc",
                                                       "b1-bookworm-venv-cn")}
    work = tmp_path / "packaging-push"
    git("clone", "-q", str(tmp_path / "packaging.git"), str(work), cwd=tmp_path)
    uc = work / "upper-constraints.txt"
    uc.write_text(uc.read_text().replace("idna===3.10\n", "idna===3.9\n"))
    git("commit", "-q", "-am", "Constrain idna to 3.9", cwd=work)
    git("push", "-q", "origin", "master", cwd=work)

    def next_build(builder):
        return api.wait(lambda: [b for b in api.builds(builder)[builds_before[builder]:] if b["complete"]], 900,
                        f"the next build of {builder}")[0]

    wheelhouse = next_build("wheelhouse-b1-bookworm")
    assert wheelhouse["results"] == SUCCESS and wheelhouse["properties"]["scheduler"][0] == "constraints_b1_bookworm"
    assert wheelhouse["properties"]["wheelhouse_version"][0] == "2+deb12"
    rebuilt, skipped = next_build("b1-bookworm-venv-gitsvc"), next_build("b1-bookworm-venv-cn")
    assert rebuilt["results"] == SUCCESS, api.steps(rebuilt)
    assert rebuilt["properties"]["version"][0] == "1.0.1~~dev2-deb12u3"
    deb = published(tmp_path, "venv-gitsvc", rebuilt["properties"]["version"][0])
    assert b"Update idna 3.10 -> 3.9." in _changelog(deb, tmp_path / "idna")
    plan = next(s for s in api.get(f"builds/{skipped['buildid']}/steps")["steps"] if s["name"] == "plan")
    assert plan["results"] == SKIPPED and skipped["results"] == SKIPPED
    assert plan["state_string"] == "skipped: venv-cn closure and packaging unchanged since 3.4.2-deb12u1"
    assert staging(tmp_path)["venv-cn"] == "3.4.2-deb12u1"
    # 1 wheelhouse + 1 service built: nothing else ran.
    time.sleep(8)
    assert {b: len(api.builds(b)) - n for b, n in builds_before.items()} == {
        "wheelhouse-b1-bookworm": 1, "b1-bookworm-venv-gitsvc": 1, "b1-bookworm-venv-cn": 1}


def test_a_worker_connects_only_over_tls_to_the_certificate_it_pins(farm, tmp_path):
    """Issue 25: the worker port speaks PB over TLS alone, and a worker trusts only the master's
    certificate. With the legitimate worker stopped, two with its name and password fail to
    connect: one over plain TCP (the port waits for a TLS handshake that never comes), one over
    TLS that pins another certificate (each handshake fails, it retries). The legitimate one
    then connects again (the wait was long enough for a connection)."""
    from venvdeb.buildbot import tls

    farm_, api, _ = farm
    s = farm_.settings
    password = s.secrets().workers["local"]

    def connected() -> bool:
        return any(w["name"] == "local" and w["connected_to"] for w in api.get("workers")["workers"])

    def worker(*argv: str) -> None:
        subprocess.run([farm_.bin("buildbot-worker"), *argv], check=True, capture_output=True)

    legitimate = farm_.base / "worker-local"
    worker("stop", str(legitimate))
    api.wait(lambda: not connected(), 60, "the worker to go")
    other = tls.ensure_certificate(tmp_path / "other-tls", "127.0.0.1")[0]
    (tmp_path / "other-trust").mkdir()
    (tmp_path / "other-trust" / "other.pem").write_bytes(other.read_bytes())
    rogues = {
        "plain-tcp": [],
        "other-certificate": ["--connection-string",
                              tls.worker_connection("127.0.0.1", s.worker_port, tmp_path / "other-trust")],
    }
    for name, how in rogues.items():
        basedir = tmp_path / f"rogue-{name}"
        worker("create-worker", "--quiet", "--maxdelay=2", *how, str(basedir), f"127.0.0.1:{s.worker_port}", "local",
               password)
        worker("start", "--quiet", str(basedir))  # (without --quiet, start waits for a connection)
        try:
            time.sleep(10)  # several attempts (--maxdelay 2)
            assert not connected(), f"the {name} worker connected"
            log = (basedir / "twistd.log").read_text()
            assert "Starting factory" in log and "worker is ready" not in log, log[-2000:]  # it ran, never in
            if name == "other-certificate":  # each TLS handshake failed, and it tried again
                assert log.count("Scheduling retry") >= 2, log[-2000:]
        finally:
            worker("stop", str(basedir))
    worker("start", str(legitimate))
    api.wait(connected, 60, "the legitimate worker again")
