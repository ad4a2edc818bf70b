"""environment/boot.py: how a smoke chroot is booted with systemd, and how its report is read
back. The boot itself is shown by the smoke tests (test_apis.py, test_default_services.py)."""

from __future__ import annotations

import os

from venvdeb.environment import boot


def test_the_chroot_boots_in_its_own_user_namespace_with_loopback_only(tmp_path):
    argv = boot.boot_argv(tmp_path / "root", 100000, 65536, tmp_path / "report", own_scope=False)
    assert argv[0] == "systemd-nspawn" and f"--directory={tmp_path / 'root'}" in argv
    # root inside is the chroot's subordinate id, as the tree is shifted: not the host's root
    assert "--private-users=100000:65536" in argv and "--private-users-ownership=off" in argv
    assert "--private-network" in argv and "--register=no" in argv and "--boot" in argv
    assert f"--bind={tmp_path / 'report'}:{boot.REPORT_DIR}" in argv
    # On a host whose PID 1 is not systemd, the container keeps the cgroups venvdeb made for it;
    # on one that is, systemd gives it a scope of its own.
    assert "--keep-unit" in argv
    assert "--keep-unit" not in boot.boot_argv(tmp_path / "root", 100000, 65536, tmp_path / "report")


def test_the_report_is_read_as_a_regular_file_and_never_through_a_link(tmp_path):
    (tmp_path / boot.REPORT).write_text('{"done": true}\n')
    assert boot.read_report(tmp_path) == '{"done": true}\n'
    # What the booted system may have put there instead: a link to a host file, a FIFO (which
    # would block a reader), or nothing at all.
    secret = tmp_path / "secret"
    secret.write_text("host's own")
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / boot.REPORT).symlink_to(secret)
    assert boot.read_report(linked) == ""
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / boot.REPORT)
    assert boot.read_report(fifo) == ""
    assert boot.read_report(tmp_path / "missing") == ""


def test_a_report_is_read_no_further_than_its_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(boot, "REPORT_LIMIT", 10)
    (tmp_path / boot.REPORT).write_text("x" * 100)
    assert boot.read_report(tmp_path) == "x" * 10


def test_a_killed_runs_boot_cgroups_are_swept_and_a_live_ones_kept(tmp_path, monkeypatch):
    hierarchy = tmp_path / "systemd"
    gone = hierarchy / "venvdeb-boot-999999999-0"  # no such process
    mine = hierarchy / f"venvdeb-boot-{os.getpid()}-0"
    for group in (gone / "payload" / "init.scope", mine):
        group.mkdir(parents=True)
        (group / "cgroup.procs").write_text("")
    (hierarchy / "cgroup.procs").write_text("")
    monkeypatch.setattr(boot, "TRACKING", (hierarchy,))
    # rmdir takes a cgroup with its files; here the files are plain ones, removed as the kernel would.
    monkeypatch.setattr(boot.Path, "rmdir", lambda self: __import__("shutil").rmtree(self))
    assert boot.sweep_stale() == [gone]
    assert not gone.exists() and mine.is_dir()


def test_a_container_that_does_not_power_off_after_its_report_is_stopped(monkeypatch):
    import contextlib
    import time

    monkeypatch.setattr(boot, "own_cgroup", lambda name: contextlib.nullcontext(()))
    monkeypatch.setattr(boot, "POLL", 0.1)
    monkeypatch.setattr(boot, "POWEROFF_GRACE", 0.5)
    started = time.monotonic()
    proc = boot._boot(["sh", "-c", "echo booted; exec sleep 60"], timeout=60, finished=lambda: True)
    assert time.monotonic() - started < 20
    assert proc.returncode == 124 and proc.stdout.startswith("booted\n")
    assert "did not power off 0.5 s after its report ended: stopped" in proc.stdout
    # Without the report's last word, the timeout alone stops it.
    proc = boot._boot(["sh", "-c", "exec sleep 60"], timeout=0.5, finished=lambda: False)
    assert proc.returncode == 124 and "did not power off in 0 s" in proc.stdout
