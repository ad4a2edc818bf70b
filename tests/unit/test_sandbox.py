"""Every unit of the fleet in systemd's sandbox, as `systemd-analyze security` rates it (issue 26).

The units are rendered from the project's own service files, for every release, as the packages
ship them; systemd-analyze reads them offline. A unit that relaxes nothing (the APIs, the daemons
that use no privileged helper) must rate at most 2.5; one that relaxes settings at most 6.0, and
each relaxation's reason must be written in it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from venvdeb.model.release import load_release
from venvdeb.model.sandbox import SANDBOX, sandbox
from venvdeb.service.render import units

ROOT = Path(__file__).resolve().parents[2] / "packaging"
RELEASES = sorted(p.stem for p in (ROOT / "releases").glob("*.toml") if p.stem != "tools")
# systemd-analyze's --threshold is its exposure times ten.
UNRELAXED, RELAXED = 25, 60


def fleet_units() -> dict[str, tuple[str, tuple]]:
    """unit file name -> (its text, its relaxations), over every release's services."""
    found = {}
    for name in RELEASES:
        for service in load_release(ROOT, name).services:
            relaxed = {d.name: d.relax for d in service.daemons} | {a.name: a.relax for a in service.wsgi}
            for unit, text in units(service).items():
                found[unit] = (text, relaxed[unit.removesuffix(".service")])
    return found


FLEET = fleet_units()


def test_the_fleet_has_units_of_both_kinds():
    assert "keystone-api.service" in FLEET and "nova-compute.service" in FLEET
    assert any(r for _, r in FLEET.values()) and any(not r for _, r in FLEET.values())


@pytest.mark.parametrize("unit", sorted(FLEET))
def test_each_unit_of_the_fleet_is_rated_within_its_bound(unit, tmp_path):
    text, relaxed = FLEET[unit]
    (tmp_path / unit).write_text(text)
    threshold = RELAXED if relaxed else UNRELAXED
    proc = subprocess.run(["systemd-analyze", "security", "--offline=true", f"--threshold={threshold}", "--no-pager",
                           f"./{unit}"], cwd=tmp_path, capture_output=True, text=True)
    rating = [line for line in proc.stdout.splitlines() if "Overall exposure level" in line]
    assert rating, proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{rating[0]} (at most {threshold / 10}):\n{proc.stdout}"
    for relaxation in relaxed:
        assert f"# {relaxation.setting}" in text
    for reason in {r.reason for r in relaxed}:
        assert reason in text


def test_a_unit_relaxes_only_what_its_service_says():
    text, _ = FLEET["nova-api.service"]
    for name, value in SANDBOX:
        assert f"\n{name}={value.format(service='nova')}\n" in text
    compute, relaxed = FLEET["nova-compute.service"]
    assert "\nNoNewPrivileges=no\n" in compute and "\nNoNewPrivileges=yes\n" not in compute
    assert "\nCapabilityBoundingSet=~CAP_SYS_BOOT" in compute  # sudo's children are root, within bounds
    # Its helpers use sudo: it starts as root and becomes nova itself, so that systemd's filters
    # come without no_new_privs; its directories are its own, not StateDirectory='s.
    assert "\nUser=" not in compute and "\nStateDirectory=" not in compute
    assert "\nExecStart=/usr/bin/setpriv --reuid=nova --regid=nova --init-groups --reset-env -- " \
           "/usr/lib/venvs/nova/bin/nova-compute " in compute
    assert "\nReadWritePaths=/var/lib/nova /var/log/nova\n" in compute
    assert "\nSystemCallFilter=~@clock" in compute and "\nRestrictNamespaces=yes\n" in compute
    assert "\nProtectHome=yes\n" in compute  # what it does not relax stays


def test_a_relaxation_replaces_both_system_call_filter_lines():
    from venvdeb.model.sandbox import Relaxation

    lines = sandbox("svc", (Relaxation("SystemCallFilter", "sudo changes identity", "~@reboot"),))
    filters = [line for line in lines if line.setting == "SystemCallFilter"]
    assert [(f.value, f.reason) for f in filters] == [("~@reboot", "sudo changes identity")]
