"""The programs smoke runs in the chroot, run here on this venv's own console scripts."""

from __future__ import annotations

import subprocess
import sys

from venvdeb.gates.smoke import ENTRY_POINT_CHECK, LOAD_ENTRY_POINT


def check(*scripts: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", ENTRY_POINT_CHECK, LOAD_ENTRY_POINT, *scripts],
                          capture_output=True, text=True)


def test_each_entry_point_loads_in_its_own_process():
    # venvdeb's own script and pytest's: two distributions' entry points, one process each.
    proc = check("venvdeb", "pytest")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "loaded 2 entry points, each in its own process" in proc.stdout


def test_a_missing_entry_point_is_named():
    proc = check("venvdeb", "no-such-command")
    assert proc.returncode != 0 and "no entry point for: no-such-command" in proc.stderr


def test_an_entry_point_that_does_not_load_says_why(tmp_path, monkeypatch):
    # A distribution on the path whose console script's module raises when imported.
    dist = tmp_path / "broken-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[console_scripts]\nbroken-cmd = brokenmod:main\n")
    (tmp_path / "brokenmod.py").write_text("raise RuntimeError('BackendAlreadySelected: eventlet')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    proc = check("broken-cmd", "venvdeb")
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[-1] == \
        "broken-cmd: entry point does not load: RuntimeError: BackendAlreadySelected: eventlet"
