"""Debian's piuparts, for smoke's install, upgrade and purge test, in a chroot of its own.

piuparts copies a base system, installs the package there (after the suite's version too, when
apt knows one: its upgrade test), removes and purges it, and fails on what is left behind, on
processes left running and on broken symlinks. Here it runs as root of its chroot's user
namespace, never as the host's root: it gets mount and PID namespaces of that user namespace
(enter.py), so it may mount /proc and devpts in its own chroot.

Its chroot is made from an image of the smoke image's packages and piuparts (``images.with_piuparts``);
its base is the smoke image's clean tree, copied in by the host, with the suite's apt sources
and keyring: the system smoke's own install starts from, without piuparts beside it. A user
namespace cannot make device nodes, and piuparts copies its base with ``cp -a``: the base's /dev
holds symlinks to nodes the host made in a directory of their own, which piuparts binds in (a
bind of the whole /dev would make piuparts find its own /dev/null "running in the chroot").
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path

from ..environment import idmap
from ..environment.egress import PROXY_PORT
from ..progress import activity

BASE = "/srv/piuparts-base"
DEVICES = "/srv/piuparts-devices"
# The nodes a Debian base system needs (debootstrap makes the same).
NODES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}
CHECK = "piuparts: install, upgrade from the suite, purge, nothing left"
PROXY = f"http://127.0.0.1:{PROXY_PORT}"  # the egress relay, inside the network namespace


def piuparts_argv(deb: str, distribution: str, upgrade_only: bool = False) -> list[str]:
    """piuparts on ``deb`` (its path in the chroot) from the base: install (and upgrade from the
    suite, when apt has the package), purge, nothing left. ``upgrade_only`` (the suite has an
    earlier version): only the upgrade test, which purges and compares as the install test does,
    so a venv is installed twice rather than three times. Failures of other packages (the
    mirror's) are warnings."""
    # --keep-sources-list: the base's own apt sources (the release, its updates and security
    # suites, and the suite under test). piuparts would write the release's alone, under packages
    # the base has from security (python3.11), so a dependency on their -dev packages would not
    # install (venv-venvdeb's on python3-dev).
    # --hard-link: piuparts' chroot is made of links to the base's files rather than a second
    # copy of them (the host has just copied the base, for this run alone; dpkg replaces a file
    # by renaming a new one over it, so the base is never written through a link).
    return ["piuparts", f"--existing-chroot={BASE}", "--hard-link", f"--bindmount={DEVICES}", f"--proxy={PROXY}",
            f"--distribution={distribution}", "--keep-sources-list", "--warn-on-others",
            *(["--no-install-purge-test"] if upgrade_only else []), deb]


def copy_base(tree: Path, base: Path) -> subprocess.CompletedProcess:
    """The clean tree into ``base``, as it is (owners, modes, links); by the host's root."""
    base.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["cp", "--archive", "--reflink=auto", f"{tree}/.", str(base)],
                          capture_output=True, text=True)


def prepare_base(base: Path, ids: int) -> None:
    """``base`` with its device nodes replaced by symlinks to DEVICES, and the mount points
    piuparts uses, all its root's."""
    dev = base / "dev"
    for entry in dev.iterdir():  # the nodes go; the links (fd, stdin, ...) and directories stay
        mode = entry.lstat().st_mode
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or entry.name == "ptmx":
            entry.unlink()
    for name in NODES:
        (dev / name).symlink_to(f"{DEVICES}/{name}")
    (dev / "ptmx").symlink_to("pts/ptmx")
    made = [dev / name for name in (*NODES, "ptmx")]
    for directory in ("dev/pts", "dev/shm", "proc", "sys", "run", "tmp"):
        if not (base / directory).is_dir():
            # Modes said, not left to the umask (a daemon's 077 would shut apt's _apt user out).
            (base / directory).mkdir()
            (base / directory).chmod(0o1777 if directory in ("tmp", "dev/shm") else 0o755)
        made.append(base / directory)
    for path in made:
        idmap.own(path, base, ids)


def make_device_nodes(root: Path, ids: int) -> None:
    """The nodes, made by the host's root in the chroot at ``root``, for its root."""
    directory = root / DEVICES.lstrip("/")
    directory.mkdir(parents=True, exist_ok=True)
    # Every user of piuparts' chroot goes through it to /dev/null (its /dev has links here): under
    # a daemon's umask (077) apt's _apt user could not, and took gpgv for missing.
    directory.chmod(0o755)
    for name, (major, minor) in NODES.items():
        node = directory / name
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        node.chmod(0o666)  # mknod's mode goes through the umask
        idmap.own(node, root, ids)


def test(ch, tree: Path, deb: Path, distribution: str, files: Mapping[str, bytes], step,
         upgrade_only: bool = False) -> None:
    """piuparts on ``deb`` in ``ch`` (a fresh chroot with piuparts), from ``tree`` (the clean
    image's); each stage through ``step(name, action, detail=None)``, which runs ``action`` and
    says whether all passed so far."""
    base = ch.path(BASE)
    if not step("piuparts' base: the clean chroot, copied", lambda: copy_base(tree, base)):
        return
    prepare_base(base, ch.base)
    idmap.own(base, ch.root, ch.base)
    for path, data in files.items():  # apt's sources and keyring for the suite
        ch.write(f"{BASE}{path}", data)
    make_device_nodes(ch.root, ch.base)
    candidate = f"/tmp/candidate/{deb.name}"
    ch.write(candidate, deb.read_bytes())
    # sudo's prerm refuses to go from a system without a root password unless told (nova's
    # helpers bring sudo in, and piuparts purges what the package brought).
    # Its output is captured; the step's detail shows what of it a person needs.
    with activity(f"piuparts {deb.name}"):
        step(CHECK, lambda: ran_a_test(ch.run(piuparts_argv(candidate, distribution, upgrade_only),
                                              setenv={"SUDO_FORCE_REMOVE": "yes"}, timeout=1800)),
             detail=findings)


def ran_a_test(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """piuparts says "PASS: All tests." when it ran none (the upgrade test alone, with apt not
    knowing the package): that is a failure here."""
    if proc.returncode == 0 and "PASS: Installation" not in proc.stdout + proc.stderr:
        proc.returncode = 1
        proc.stdout += "\nvenvdeb: piuparts ran no installation test (did apt know the suite's earlier version?)\n"
    return proc


def findings(output: str, passed: bool) -> str:
    """What of piuparts' log a person needs: which tests passed; or its errors and failures, then
    the log's tail."""
    lines = output.splitlines()
    if passed:
        return "\n".join(line.split("INFO: ", 1)[1] for line in lines if "INFO: PASS: " in line)
    flagged = [line for line in lines if " ERROR: " in line or " FAIL: " in line]
    return "\n".join([*flagged[-30:], "--- the log's end:", output[-1500:]])
