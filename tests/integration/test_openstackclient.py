"""venv-openstackclient in every default release, at both distributions, through every gate:
built, lintian, smoke (with keystone from the same run brought up beside it, `openstack` getting a
token and the catalog from it as an unprivileged user) and piuparts, then published. 2026.2's is
also built and gated by make demo, with the rest of that release."""

from __future__ import annotations

import json

import pytest

from tests.conftest import PROJECT
from venvdeb.model import load_release
from .conftest import in_a_new_repository

pytestmark = [pytest.mark.integration, pytest.mark.network, pytest.mark.fleet]

COMMANDS = ("openstack issues a token from keystone, for the admin project",
            "openstack lists the catalog keystone bootstrapped, through its token",
            "openstack refuses a wrong password, as keystone answers 401")


@pytest.mark.parametrize("release", ["2025.2", "2026.1", "2026.2"])
def test_openstackclient_passes_every_gate_against_a_keystone_beside_it(release, tmp_path, cache_dir):
    proc = in_a_new_repository(PROJECT / "packaging", tmp_path, cache_dir, "pipeline", release, "openstackclient",
                               "keystone", "--reason", "Test build", "--json")
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(proc.stdout)
    assert result["passed"] and set(result["distributions"]) == {"bookworm", "trixie"}
    version = load_release(PROJECT / "packaging", release).service("openstackclient").source.version
    for distribution, point in result["distributions"].items():
        stages = {(s["package"], s["stage"]): s for s in point["stages"]}
        # keystone first: openstackclient's smoke installs keystone's candidate beside it.
        order = [s["package"] for s in point["stages"] if s["stage"] == "build"]
        assert order == ["venv-keystone", "venv-openstackclient"]
        for stage in ("build", "lint", "smoke"):
            assert stages[("venv-openstackclient", stage)]["passed"], stages[("venv-openstackclient", stage)]
        assert stages[("venv-openstackclient", "build")]["detail"].startswith(f"{version}-deb")
        published = {p["package"]: p for p in point["published"]}
        assert published["venv-openstackclient"]["version"].startswith(f"{version}-deb")
    said = proc.stderr
    for command in COMMANDS:
        assert said.count(f"smoke: ok   as nobody: {command}") == 2, command
    assert said.count("smoke: ok   piuparts: install, upgrade from the suite, purge, nothing left") >= 4
    assert "smoke: FAIL" not in said
