"""What a killed run left behind goes when the next command starts (environment/stale.py); a live
run's directories stay."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from venvdeb.cli import main
from venvdeb.environment import stale


def test_a_dead_processs_directories_go_a_live_ones_stay(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone_pid = int(dead.stdout)
    chroots = tmp_path / "shm"
    (chroots / f"venvdeb-chroot-{gone_pid}-abc" / "scratch").mkdir(parents=True)  # a killed build's
    (chroots / f"{stale.owned(stale.CHROOT)}live").mkdir()                          # this run's
    (chroots / "venvdeb-chroot-notours").mkdir()                                    # not named so
    old = chroots / f"venvdeb-chroot-{os.getpid()}-reused"                          # a pid given again
    old.mkdir()
    long_ago = time.time() - stale.MAX_AGE - 60
    os.utime(old, (long_ago, long_ago))
    removed = stale.sweep([(chroots, stale.CHROOT)])
    assert {p.name for p in removed} == {f"venvdeb-chroot-{gone_pid}-abc", old.name}
    assert sorted(p.name for p in chroots.iterdir()) == [f"{stale.owned(stale.CHROOT)}live", "venvdeb-chroot-notours"]


def test_a_command_sweeps_its_cache_before_it_starts(tmp_path, make_root, capsys):
    cache = tmp_path / "cache"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = cache / "wheelhouses" / f".unpack-{int(dead.stdout)}-x"
    left.mkdir(parents=True)
    (left / "manifest.json").write_text("{}")
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")})
    # Any command with a cache: this one stops at once (no such release), after the sweep.
    code = main(["--packaging", str(root), "build", "t9", "svc", "--cache-dir", str(cache),
                 "--out-dir", str(tmp_path / "out"), "--state-dir", str(tmp_path / "state")])
    assert code == 2
    assert not left.exists()
    assert f"removed what a killed run left: {left}" in capsys.readouterr().err
