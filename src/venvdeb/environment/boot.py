"""A chroot's tree booted with its own systemd, so that units run as they do on a host.

systemd-nspawn boots the tree in the chroot's user namespace (the same subordinate ids the tree
is shifted to: root inside is not root on the host), with a network of its own that has only
loopback, and no machine registered. A directory of the host's is bound in it, for a report (a
check unit's): the host reads it back as data, a regular file and not a link.

nspawn needs a cgroup of its own to hand to the container's systemd. A host booted with systemd
gives every process one; elsewhere (a container whose PID 1 is not systemd, as on the farm's
test machines) a cgroup is made for the boot in each hierarchy that tracks processes, and
removed after it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

from ..errors import VenvdebError
from . import stale

_boots = itertools.count()
CGROUP = "venvdeb-boot-"
SYSTEMD_BOOTED = Path("/run/systemd/system")  # sd_booted(3)
# The hierarchies systemd tracks processes in: unified (cgroup v2) or hybrid/legacy (v1's name=systemd).
TRACKING = (Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup/systemd"))


REPORT_DIR = "/run/venvdeb-report"  # where the booted system writes its report, bound from the host
REPORT = "report.jsonl"
REPORT_LIMIT = 4 << 20
POLL = 2  # seconds between looks at the report while the container runs
POWEROFF_GRACE = 120  # seconds a container may take to power off once its report has ended


def boot_argv(root: Path, base: int, count: int, report: Path, own_scope: bool = True) -> list[str]:
    """``own_scope``: on a host booted with systemd, nspawn asks it for a scope of the
    container's own; elsewhere it keeps the cgroups ``own_cgroup`` made (--keep-unit)."""
    return ["systemd-nspawn", "--quiet", f"--directory={root}", f"--private-users={base}:{count}",
            "--private-users-ownership=off", "--private-network", "--register=no",
            *([] if own_scope else ["--keep-unit"]), f"--bind={report}:{REPORT_DIR}", "--boot", "--console=passive"]


def read_report(report: Path, name: str = REPORT) -> str:
    """The report the booted system wrote: a regular file, not followed if it is a link (the
    container may have put anything there), and no more than REPORT_LIMIT of it."""
    return read_file(report, name).decode(errors="replace")


def read_file(report: Path, name: str) -> bytes:
    """A file the booted system wrote in the report's directory, read as ``read_report`` reads the
    report: empty if it is missing, not a regular file, or a link."""
    try:
        fd = os.open(report / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return b""
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return b""
        return f.read(REPORT_LIMIT)


@contextlib.contextmanager
def own_cgroup(name: str):
    """The cgroups a boot's processes are moved into, on a host that gives them none; () on one
    booted with systemd."""
    if SYSTEMD_BOOTED.is_dir():
        yield ()
        return
    made = []
    try:
        for hierarchy in TRACKING:
            if (hierarchy / "cgroup.procs").is_file():
                group = hierarchy / name
                group.mkdir(exist_ok=True)
                made.append(group)
        yield tuple(made)
    finally:
        for group in made:
            sweep(group)


def sweep_stale() -> list[Path]:
    """The cgroups of boots whose venvdeb is gone (killed): what runs in them is killed, and
    they are removed. Before the chroots they booted are (cli's sweep)."""
    found = [group for hierarchy in TRACKING if hierarchy.is_dir()
             for group in sorted(hierarchy.glob(f"{CGROUP}*")) if stale.stale(group, CGROUP)]
    for group in found:
        sweep(group)
    return found


def sweep(group: Path) -> None:
    """Kill what is left in ``group`` and remove it with the sub-cgroups the container made. An
    nspawn that is killed leaves its container's processes running: they are found here."""
    groups = sorted((p for p in [group, *group.rglob("*")] if p.is_dir()), key=lambda p: len(p.parts), reverse=True)
    for _ in range(50):
        pids = [int(pid) for g in groups if (g / "cgroup.procs").is_file()
                for pid in (g / "cgroup.procs").read_text().split()]
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
    for g in groups:
        with contextlib.suppress(OSError):
            g.rmdir()


def boot(root: Path, base: int, count: int, timeout: float,
         files: tuple[str, ...] = ()) -> tuple[subprocess.CompletedProcess, str]:
    """Boot ``root`` until its systemd powers it off (a unit with SuccessAction=poweroff does):
    its console output, as text, and what it wrote in REPORT_DIR/REPORT. Killed after ``timeout``
    seconds. ``files``: other files of REPORT_DIR it wrote, read as the report is, into
    ``proc.files`` (name: bytes)."""
    if shutil.which("systemd-nspawn") is None:
        raise VenvdebError("systemd-nspawn is not installed: smoke boots the installed package's chroot with it",
                           hint="apt-get install systemd-container (make setup does)")
    with tempfile.TemporaryDirectory(prefix=stale.owned(stale.REPORT)) as report:
        os.chown(report, base, base)  # the booted system's root
        proc = _boot(boot_argv(root, base, count, Path(report), own_scope=SYSTEMD_BOOTED.is_dir()), timeout,
                     finished=lambda: '{"done": ' in read_report(Path(report))[-200:])
        proc.files = {name: read_file(Path(report), name) for name in files}
        return proc, read_report(Path(report))


def _boot(argv: list[str], timeout: float, finished=lambda: False) -> subprocess.CompletedProcess:
    """Run nspawn until the container powers off, or ``timeout`` seconds; once ``finished()`` (the
    report's last word is in), its shutdown gets POWEROFF_GRACE seconds: a service that does not
    stop must not hold the gate for the rest of the timeout."""
    with own_cgroup(f"{stale.owned(CGROUP)}{next(_boots)}") as groups:
        def enter():
            for group in groups:
                (group / "cgroup.procs").write_text(str(os.getpid()))

        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                preexec_fn=enter if groups else None)
        deadline, said = time.monotonic() + timeout, None
        while True:
            try:  # communicate() again after its timeout loses no output
                out, _ = proc.communicate(timeout=POLL)
                break
            except subprocess.TimeoutExpired:
                if said is None and finished():
                    deadline = min(deadline, time.monotonic() + POLL + POWEROFF_GRACE)
                    said = f"the container did not power off {POWEROFF_GRACE} s after its report ended"
                if time.monotonic() < deadline:
                    continue
            # SIGTERM asks nspawn to shut the container down; then it is killed.
            proc.terminate()
            try:
                out, _ = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            out += f"\n({said or f'the container did not power off in {timeout:.0f} s'}: stopped)\n".encode()
            return subprocess.CompletedProcess(argv, 124, out.decode(errors="replace"), "")
    return subprocess.CompletedProcess(argv, proc.returncode, out.decode(errors="replace"), "")
