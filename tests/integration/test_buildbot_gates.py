"""Through Buildbot, a service's two gates run side by side, as `venvdeb pipeline` runs them:
lintian and smoke, both on the master, on the worker's upload; admins promote and roll back from the web
UI's forms (anonymous users may not); and a stopped build stops the master's smoke too, chroot
and all."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest
from buildbot.process.results import CANCELLED, FAILURE, SUCCESS



webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from venvdeb.repository import Repository
from venvdeb.repository.signing import Key, fingerprints

pytestmark = [pytest.mark.integration, pytest.mark.network]

SMOKE = "smoke b1 gitsvc"  # how the master's smoke command reads in a process list


LINT = "lint .*--fail-on"  # and the master's lint command


def running(pattern: str) -> list[str]:
    found = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "pgrep" not in line]


def smoking() -> list[str]:
    return running(SMOKE)


def both_seen(done: threading.Event, seen: list) -> None:
    """Until ``done``: whether the master's lint and smoke were ever running at once."""
    while not done.is_set() and not seen:
        if running(LINT) and smoking():
            seen.append(True)
        time.sleep(0.2)


def descendants(pid: int) -> list[int]:
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids = [int(p) for p in children.read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *descendants(kid)]
    return found


def chroot_of(pid: int) -> str | None:
    """The chroot a smoke process has entered, once it has one: unshare's --root, or the root
    the enter helper is given (smoke's commands go through it, for their network namespace)."""
    for kid in descendants(pid):
        try:
            args = Path(f"/proc/{kid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        for n, arg in enumerate(args):
            if arg.startswith("--root="):
                return arg[len("--root="):]
            if arg == "venvdeb.environment.enter" and n + 1 < len(args):
                return args[n + 1]
    return None


def mounted(path: str) -> bool:
    with open("/proc/mounts") as mounts:
        return any(path in line for line in mounts)


def production(tmp_path) -> dict:
    home = tmp_path / "gnupg"
    repo = Repository(tmp_path / "repo", Key(home, fingerprints(home)[0]))
    return {p.package: p.version for p in repo.list("bookworm-b1")}


def test_gates_overlap_promotion_and_rollback_and_a_stopped_build_stops_the_masters_smoke(smoke_farm, browser,
                                                                                          tmp_path):
    _, api, password = smoke_farm
    api.login("admin", password)
    wheelhouse = api.wait_request(api.force("force_wheelhouse_b1_bookworm", "wheelhouse-b1-bookworm", reason="wh"))
    assert wheelhouse["results"] == SUCCESS, api.steps(wheelhouse)

    done, seen = threading.Event(), []
    watcher = threading.Thread(target=both_seen, args=(done, seen))
    watcher.start()
    try:
        build = api.wait_request(api.force("force_b1_bookworm_venv_gitsvc", "b1-bookworm-venv-gitsvc", reason="gates"))
    finally:
        done.set()
        watcher.join()
    assert build["results"] == SUCCESS, api.steps(build)
    assert seen, "lint and smoke never ran at the same moment"
    steps = api.get(f"builds/{build['buildid']}/steps")["steps"]
    names = [s["name"] for s in steps]
    assert names[names.index("build"):] == [
        "build", "upload-deb", "accept-upload", "upload-buildinfo", "gates", "publish", "ledger-to-master",
        "record-build", "rebuild", "remove-uploads"]
    gates = next(s for s in steps if s["name"] == "gates")
    assert gates["state_string"].startswith("lintian passed: 0 error") and "; smoke passed: " in gates["state_string"]
    logs = {log["name"] for log in api.get(f"steps/{gates['stepid']}/logs")["logs"]}
    assert {"lint", "smoke"} <= logs
    props = {k: v[0] for k, v in build["properties"].items()}
    assert props["smoke_checks"] > 5 and props["lintian_error"] == 0
    home = tmp_path / "gnupg"
    recorded = Repository(tmp_path / "repo", Key(home, fingerprints(home)[0])).gates("venv-gitsvc", props["version"])
    assert recorded["lint"]["passed"] and recorded["smoke"]["passed"]
    # The master built the version again itself (promotion's gate): the same bytes.
    rebuilt = next(s for s in steps if s["name"] == "rebuild")
    assert rebuilt["state_string"].endswith("the same bytes") and recorded["rebuild"]["passed"]

    # Each build promoted through the form once its gates passed (staging keeps one version),
    # then production rolled back to the first.
    first_version = props["version"]
    anonymous = api.anonymous()
    for action in ("promote", "rollback"):
        status, answer = anonymous.call(f"forceschedulers/force_{action}_b1_bookworm", "force", reason="x",
                                        builderid=str(api.builder_id(f"{action}-b1-bookworm")),
                                        package="venv-gitsvc", version=first_version)
        assert status == 403, (action, answer)

    def promote(version):
        promoted = api.wait_request(api.force("force_promote_b1_bookworm", "promote-b1-bookworm", reason="tested",
                                              package="venv-gitsvc", version=version), 120)
        assert promoted["results"] == SUCCESS, api.steps(promoted)
        assert production(tmp_path)["venv-gitsvc"] == version

    promote(first_version)
    second = api.wait_request(api.force("force_b1_bookworm_venv_gitsvc", "b1-bookworm-venv-gitsvc", reason="two"))
    assert second["results"] == SUCCESS, api.steps(second)
    promote(second["properties"]["version"][0])
    rolled = api.wait_request(api.force("force_rollback_b1_bookworm", "rollback-b1-bookworm", reason="regression",
                                        package="venv-gitsvc", version=first_version), 120)
    assert rolled["results"] == SUCCESS, api.steps(rolled)
    assert production(tmp_path)["venv-gitsvc"] == first_version
    # The release page says so: staging has the second build, production the first again, with
    # the gates and a link to the last build. Seen in headless Chromium, in the web UI too.
    wait = WebDriverWait(browser, 60)
    browser.get(f"{api.url}/plugins/wsgi_dashboards/releases/index.html")
    row = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-package="venv-gitsvc"]')))
    cells = {td.get_attribute("class"): td.text for td in row.find_elements(By.TAG_NAME, "td")}
    assert cells["staging"] == second["properties"]["version"][0] and cells["production"] == first_version
    assert [td.text for td in row.find_elements(By.TAG_NAME, "td")][3:6] == ["passed", "passed", "passed"]
    link = row.find_element(By.TAG_NAME, "a")
    assert link.text == "success" and link.get_attribute("href").endswith(f"/builds/{second['number']}")
    host = api.url.split("://", 1)[1]
    browser.get(f"https://admin:{password}@{host}/auth/login")
    browser.get(f"{api.url}/#/releases")
    wait.until(ec.presence_of_element_located((By.XPATH, "//*[contains(., 'Releases')]")))
    time.sleep(2)  # the dashboard's frame loads after the UI
    browser.save_screenshot(str(tmp_path / "release-page.png"))
    assert (tmp_path / "release-page.png").stat().st_size > 10_000
    print(f"release page screenshot: {tmp_path / 'release-page.png'}")

    # What was never in staging is not promoted, and the build says why.
    refused = api.wait_request(api.force("force_promote_b1_bookworm", "promote-b1-bookworm", reason="typo",
                                         package="venv-gitsvc", version="9.9-deb12u9"), 120)
    assert refused["results"] == FAILURE
    step = api.get(f"builds/{refused['buildid']}/steps")["steps"][-1]
    assert "cannot be promoted" in step["state_string"] or "has no venv-gitsvc 9.9-deb12u9" in step["state_string"]

    # Stopped while smoke runs on the master: the build is cancelled, and the master's smoke
    # process goes, with its chroot.
    brid = api.force("force_b1_bookworm_venv_gitsvc", "b1-bookworm-venv-gitsvc", reason="to be stopped")
    api.wait(smoking, 600, "the master's smoke of the third build")
    smoke_pid = int(smoking()[0].split()[0])
    chroot = api.wait(lambda: chroot_of(smoke_pid), 300, "the smoke's chroot")
    running = api.get(f"builds?buildrequestid={brid}")["builds"][-1]
    status, answer = api.call(f"builds/{running['buildid']}", "stop", reason="stopped by the test")
    assert status == 200, answer
    stopped = api.wait_request(brid, 120)
    assert stopped["results"] == CANCELLED, api.steps(stopped)
    api.wait(lambda: not smoking() and not mounted(chroot) and not Path(chroot).exists(), 60,
             "the smoke process and its chroot to go")
