"""Through Buildbot, a service's two gates run side by side, as `venvdeb pipeline` runs them:
lintian on the worker while smoke runs on the master; and a stopped build stops the master's
smoke too, chroot and all."""

from __future__ import annotations

import subprocess

import pytest
from buildbot.process.results import CANCELLED, SUCCESS

from venvdeb.repository import Repository
from venvdeb.repository.signing import Key, fingerprints

pytestmark = [pytest.mark.integration, pytest.mark.network]

SMOKE = "smoke b1 gitsvc"  # how the master's smoke command reads in a process list


def smoking() -> list[str]:
    found = subprocess.run(["pgrep", "-af", SMOKE], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "pgrep" not in line]


def chroots() -> list[str]:
    with open("/proc/mounts") as mounts:
        return [line for line in mounts if "venvdeb-chroot-" in line]


def test_gates_overlap_and_a_stopped_build_stops_the_masters_smoke(smoke_farm, tmp_path):
    _, api, password = smoke_farm
    api.login("admin", password)
    wheelhouse = api.wait_request(api.force("force_wheelhouse_b1_bookworm", "wheelhouse-b1-bookworm", reason="wh"))
    assert wheelhouse["results"] == SUCCESS, api.steps(wheelhouse)

    build = api.wait_request(api.force("force_b1_bookworm_venv_gitsvc", "b1-bookworm-venv-gitsvc", reason="gates"))
    assert build["results"] == SUCCESS, api.steps(build)
    steps = api.get(f"builds/{build['buildid']}/steps")["steps"]
    names = [s["name"] for s in steps]
    assert names[names.index("build"):] == [
        "build", "upload-deb", "gates", "upload-lint-result", "record-gate", "publish", "ledger-to-master"]
    gates = next(s for s in steps if s["name"] == "gates")
    assert gates["state_string"].startswith("lintian passed: 0 error") and "; smoke passed: " in gates["state_string"]
    logs = {log["name"] for log in api.get(f"steps/{gates['stepid']}/logs")["logs"]}
    assert {"lint", "smoke"} <= logs
    props = {k: v[0] for k, v in build["properties"].items()}
    assert props["smoke_checks"] > 5 and props["lintian_error"] == 0
    home = tmp_path / "gnupg"
    recorded = Repository(tmp_path / "repo", Key(home, fingerprints(home)[0])).gates("venv-gitsvc", props["version"])
    assert recorded["lint"]["passed"] and recorded["smoke"]["passed"]

    # Stopped while smoke runs on the master: the build is cancelled, and the master's smoke
    # process goes, with its chroot.
    brid = api.force("force_b1_bookworm_venv_gitsvc", "b1-bookworm-venv-gitsvc", reason="to be stopped")
    api.wait(smoking, 600, "the master's smoke of the second build")
    running = api.get(f"builds?buildrequestid={brid}")["builds"][-1]
    status, answer = api.call(f"builds/{running['buildid']}", "stop", reason="stopped by the test")
    assert status == 200, answer
    stopped = api.wait_request(brid, 120)
    assert stopped["results"] == CANCELLED, api.steps(stopped)
    api.wait(lambda: not smoking() and not chroots(), 60, "the smoke process and its chroot to go")
