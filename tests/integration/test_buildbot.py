"""A real Buildbot master and worker on 127.0.0.1 build a tiny release through the REST API.

The release's one service comes from a local bare git repository's stable branch, so a commit
there must start its build (GitPoller -> SingleBranchScheduler). Smoke tests are off (they need an
mmdebstrap chroot; tests/integration/test_pipeline.py covers them): the stages here are
wheelhouse, fetch, build, lintian, upload, publish on the master.
"""

from __future__ import annotations

import http.cookiejar
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path

import pytest

from tests.conftest import PROJECT, write
from venvdeb.buildbot.local import Farm
from venvdeb.repo import Repository
from venvdeb.signing import Key, fingerprints, stop_agent
from .conftest import TINY_UC
from .test_git_service import git, upstream  # noqa: F401 (fixture)
from .test_service_build import purge_test_wheelhouses  # noqa: F401 (fixture)

pytestmark = [pytest.mark.integration, pytest.mark.network]

SUCCESS = 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    """The master's REST API, as a browser session: a login cookie or none."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def login(self, user: str, password: str) -> None:
        token = b64encode(f"{user}:{password}".encode()).decode()
        request = urllib.request.Request(f"{self.url}/auth/login", headers={"Authorization": f"Basic {token}"})
        self.opener.open(request, timeout=30).read()

    def get(self, path: str) -> dict:
        with self.opener.open(f"{self.url}/api/v2/{path}", timeout=30) as r:
            return json.loads(r.read())

    def call(self, path: str, method: str, **params) -> tuple[int, dict]:
        body = json.dumps({"jsonrpc": "2.0", "method": method, "id": 1, "params": params}).encode()
        request = urllib.request.Request(f"{self.url}/api/v2/{path}", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with self.opener.open(request, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def builder_id(self, name: str) -> int:
        return self.get(f"builders?name={name}")["builders"][0]["builderid"]

    def force(self, scheduler: str, builder: str, **params) -> int:
        status, answer = self.call(f"forceschedulers/{scheduler}", "force",
                                   builderid=str(self.builder_id(builder)), **params)
        assert status == 200, answer
        return next(iter(answer["result"][1].values()))  # the build request's id

    def wait_request(self, brid: int, timeout: float = 900) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.get(f"buildrequests/{brid}")["buildrequests"][0]["complete"]:
                return self.get(f"builds?buildrequestid={brid}&property=*")["builds"][-1]
            time.sleep(1)
        raise AssertionError(f"build request {brid} not done in {timeout} s")

    def builds(self, builder: str) -> list[dict]:
        return self.get(f"builders/{self.builder_id(builder)}/builds?property=*")["builds"]

    def steps(self, build: dict) -> list[tuple[str, int]]:
        return [(s["name"], s["results"]) for s in self.get(f"builds/{build['buildid']}/steps")["steps"]]

    def wait(self, condition, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = condition()
            if found:
                return found
            time.sleep(1)
        raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def farm(make_root, tmp_path, cache_dir, upstream):  # noqa: F811 (fixture)
    # lintian warns bad-homepage for a local path as the git URL (the Homepage field): only an
    # artefact of the local repository, so this release's gate fails on errors only.
    packaging = make_root(TINY_UC, {}, name="b1", release_extra='lint_fail_on = ["error"]\n')
    release = packaging / "releases" / "b1.toml"
    release.write_text(release.read_text().replace("services = []", 'services = ["gitsvc"]'))
    write(packaging / "services" / "gitsvc.toml", f"""
        name = "gitsvc"
        summary = "Service from a stable branch"
        console_scripts = ["gitsvc"]
        smoke_commands = ["gitsvc"]

        [source]
        git = "{upstream}"
        branch = "stable/2025.2"
    """)
    www, pb, repo_port = free_port(), free_port(), free_port()
    config = write(tmp_path / "buildbot.toml", f"""
        www_port = {www}
        worker_port = {pb}
        repo_url = "http://127.0.0.1:{repo_port}"
        packaging = "{packaging}"
        secrets_file = "{tmp_path / 'secrets.toml'}"
        repo_dir = "{tmp_path / 'repo'}"
        gnupghome = "{tmp_path / 'gnupg'}"
        state_dir = "{tmp_path / 'state'}"
        upload_dir = "{tmp_path / 'uploads'}"
        cache_dir = "{cache_dir}"
        smoke = false
        poll_interval = 2
        tree_stable_timer = 3
    """)
    base = tmp_path / "bb"
    base.mkdir()
    farm = Farm(root=PROJECT, base=base, env={"VENVDEB_BUILDBOT_CONFIG": str(config)})
    try:
        password = farm.ensure_secrets()
        farm.create()
        farm.start()
        api = Api(f"http://127.0.0.1:{www}")
        api.wait(lambda: any(w["connected_to"] for w in api.get("workers")["workers"]), 60, "the worker")
        yield farm, api, password
    finally:
        farm.stop()
        stop_agent(tmp_path / "gnupg")
        # What the failure was, if any: the master's log is in the tmp dir, and its tail here.
        log = base / "master" / "twistd.log"
        if log.exists():
            print(log.read_text()[-4000:])


def staging(tmp_path) -> dict:
    home = tmp_path / "gnupg"
    repo = Repository(tmp_path / "repo", Key(home, fingerprints(home)[0]))
    return {p["package"]: p["version"] for p in repo.list("bookworm-b1-staging")}


def test_forced_and_polled_builds_publish_to_staging(farm, tmp_path, upstream):  # noqa: F811 (fixture)
    _, api, password = farm

    # Anonymous: may read, may not force.
    anonymous = Api(api.url)
    status, answer = anonymous.call("forceschedulers/force_wheelhouse_b1", "force",
                                    builderid=str(api.builder_id("wheelhouse-b1")), reason="anonymous")
    assert status == 403, answer
    assert anonymous.get("builders")["builders"]

    api.login("admin", password)
    build = api.wait_request(api.force("force_wheelhouse_b1", "wheelhouse-b1", reason="First wheelhouse"))
    assert build["results"] == SUCCESS, api.steps(build)
    assert build["properties"]["wheelhouse_package"][0] == "test-wheelhouse-b1"
    assert build["properties"]["wheelhouse_version"][0] == "1"
    assert [name for name, _ in api.steps(build)] == [
        "worker_preparation", "locks_acquire", "ledger-from-master", "wheelhouse", "lintian", "upload-deb", "publish",
        "ledger-to-master", "rebuild-services"]
    assert staging(tmp_path) == {"test-wheelhouse-b1": "1"}

    build = api.wait_request(api.force("force_b1_venv_gitsvc", "b1-venv-gitsvc", reason="CVE-2026-0001"))
    assert build["results"] == SUCCESS, api.steps(build)
    props = {k: v[0] for k, v in build["properties"].items()}
    assert props["version"] == "1.0.1~dev2-1" and props["wheelhouse_version"] == "1"
    assert props["lintian_error"] == 0 and props["lintian_warning"] == 1
    assert props["deb_size"] > 0
    assert staging(tmp_path) == {"test-wheelhouse-b1": "1", "venv-gitsvc": "1.0.1~dev2-1"}
    # The force form's reason went into debian/changelog.
    deb = next((tmp_path / "uploads" / "b1-venv-gitsvc").rglob("*.deb"))
    assert b"CVE-2026-0001" in _changelog(deb, tmp_path)
    # The master keeps the ledger: the next build, on any worker, continues from it.
    assert (tmp_path / "state" / "venv-gitsvc.ledger.json").is_file()

    # A commit to the stable branch builds the service once more, by itself.
    before = len(api.builds("b1-venv-gitsvc"))
    work = tmp_path / "push"
    git("clone", "-q", "--branch", "stable/2025.2", str(upstream), str(work), cwd=tmp_path)
    (work / "gitsvc" / "m3.py").write_text("X = 3\n")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "Fix number 3", cwd=work)
    git("push", "-q", "origin", "stable/2025.2", cwd=work)
    new = api.wait(lambda: [b for b in api.builds("b1-venv-gitsvc")[before:] if b["complete"]], 600,
                   "the build of the pushed commit")
    assert new[0]["results"] == SUCCESS, api.steps(new[0])
    props = {k: v[0] for k, v in new[0]["properties"].items()}
    assert props["scheduler"] == "git_b1_gitsvc" and props["version"] == "1.0.1~dev3-1"
    assert staging(tmp_path)["venv-gitsvc"] == "1.0.1~dev3-1"


def _changelog(deb: Path, tmp_path: Path) -> bytes:
    tree = tmp_path / "x"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
    return subprocess.run(["zcat", str(next(tree.glob("usr/share/doc/*/changelog.Debian.gz")))],
                          capture_output=True, check=True).stdout
