"""The cloud gate's smallest real case (issue 27): keystone and placement of the newest release, built
and gated as usual, then installed together from staging on one controller (MariaDB, RabbitMQ and
memcached), booted with systemd: placement's keystonemiddleware checks tokens that keystone issued.
The whole point, and the upgrade walks, run in make test-cloud and make demo.

Then what the gate refuses: a point whose service never passed its own gates, and a scenario step
whose API answers an error, said with the step, the answer and the service's journal."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import PROJECT
from venvdeb.repository.signing import stop_agent

pytestmark = [pytest.mark.integration, pytest.mark.network]

RELEASE = "2026.2"


def test_two_services_wired_through_keystone_on_one_controller(tmp_path, cache_dir):
    repo = ["--repo-dir", str(tmp_path / "repo"), "--gnupghome", str(tmp_path / "gnupg")]
    dirs = ["--cache-dir", str(cache_dir), "--out-dir", str(tmp_path / "out"), "--state-dir", str(tmp_path / "state")]

    def venvdeb(*argv, root=PROJECT / "packaging", build_dirs=True):
        return subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(root), *argv,
                               *(dirs if build_dirs else []), *repo], capture_output=True, text=True)

    try:
        init = venvdeb("repo", "init", "--make-key", build_dirs=False)
        assert init.returncode == 0, init.stderr
        # piuparts' test is shown elsewhere (test_piuparts.py); here it would only add time.
        built = venvdeb("pipeline", RELEASE, "keystone", "placement", "--dist", "bookworm", "--no-piuparts")
        assert built.returncode == 0, built.stderr[-4000:]

        proc = venvdeb("cloud", RELEASE, "keystone", "placement", "--dist", "bookworm", "--record", "--json")
        assert proc.returncode == 0, proc.stderr[-6000:]
        result = json.loads(proc.stdout)
        assert result["passed"] and set(result["versions"]) == {"venv-keystone", "venv-placement"}
        passed = {c["name"] for c in result["checks"] if c["passed"]}
        assert {"mariadb.service started by systemd", "rabbitmq-server.service started by systemd",
                "keystone: keystone-api.service started by systemd on port 5000",
                "placement: placement-api.service started by systemd on port 8778",
                "keystone: placement (placement) registered, each with its user in the service project",
                "scenario: placement accepts the admin's token, which keystonemiddleware checks with keystone",
                "scenario: placement accepts the user's token, and its policy refuses the user the resource providers",
                "scenario: placement refuses a request without a token",
                "every unit started (2) still runs, and none was restarted"} <= passed
        assert all(c["passed"] for c in result["checks"])
        # Recorded for each package's file, with the versions it ran beside.
        for package, version in result["versions"].items():
            record = json.loads((tmp_path / "repo" / "gates" / f"{package}_{version}.json").read_text())
            assert record["cloud"]["passed"] and record["cloud"]["versions"] == result["versions"]

        # Nothing changed since: with --only-if-changed the gate is that run, not run again.
        again = venvdeb("cloud", RELEASE, "keystone", "placement", "--dist", "bookworm", "--record",
                        "--only-if-changed", "--json")
        assert again.returncode == 0, again.stderr[-3000:]
        kept = json.loads(again.stdout)
        assert kept["kept"].startswith(f"kept: passed at {result['finished']} with exactly these 2 packages")
        assert kept["checks"] == result["checks"] and kept["finished"] == result["finished"]

        # glance is of the release, but never passed its gates at this point: not in staging.
        missing = venvdeb("cloud", RELEASE, "keystone", "glance", "--dist", "bookworm")
        assert missing.returncode != 0
        assert "glance: venv-glance is not in bookworm-2026.2-staging, so it has not passed its own gates" \
            in missing.stderr, missing.stderr[-2000:]

        # A step whose API answers an error: the gate fails on it, and says the step, the answer and
        # the journal of the service it needs.
        root = tmp_path / "packaging"
        shutil.copytree(PROJECT / "packaging", root)
        with open(root / "cloud.toml", "a") as f:
            f.write('\n[[steps]]\nname = "a resource provider that does not exist"\nneeds = ["keystone", "placement"]\n'
                    'admin = true\nrequest = { api = "placement-api", path = "/resource_providers/nowhere", token = true }\n'
                    'status = 200\n')
        # The scenario changed: it runs, though the packages are those of the gate passed.
        failing = venvdeb("cloud", RELEASE, "keystone", "placement", "--dist", "bookworm", "--only-if-changed",
                          root=root)
        assert failing.returncode != 0
        said = failing.stderr
        assert "scenario: a resource provider that does not exist failed:" in said, said[-3000:]
        assert "GET http://controller:8778/resource_providers/nowhere (the admin's token)\nstatus 404" in said
        assert "--- journal of placement-api.service:" in said and '"GET /resource_providers/nowhere' in said
    finally:
        stop_agent(tmp_path / "gnupg")
