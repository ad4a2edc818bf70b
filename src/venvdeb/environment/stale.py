"""What a killed run left behind, removed when the next command starts.

A run that is killed (SIGKILL, the machine losing power) removes nothing it made: a chroot's tree
in /dev/shm (hundreds of MB of memory), an image's tree half unpacked, a wheelhouse half unpacked
into the cache, a clone half made. Each such directory is named for the process that made it
(``owned``): a sweep removes those whose process is gone, and any older than ``MAX_AGE`` (its
number since given to another process). A directory of a live run is never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

MAX_AGE = 7 * 24 * 3600


def owned(prefix: str) -> str:
    """A temporary directory's prefix that names this process: ``<prefix><pid>-``."""
    return f"{prefix}{os.getpid()}-"


def alive(pid: int) -> bool:
    """``pid`` is a running process: a zombie (a child not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return False


def stale(path: Path, prefix: str, now: float | None = None) -> bool:
    """``path`` (named ``<prefix><pid>-...``) was left by a process that is gone, or long ago."""
    found = re.match(re.escape(prefix) + r"(\d+)-", path.name)
    if not found:
        return False  # not one of ours
    try:
        age = (now if now is not None else time.time()) - path.lstat().st_mtime
    except FileNotFoundError:
        return False
    return not alive(int(found[1])) or age > MAX_AGE


def sweep(places: list[tuple[Path, str]], now: float | None = None) -> list[Path]:
    """Remove what is stale in each (directory, prefix); what was removed."""
    removed = []
    for directory, prefix in places:
        try:
            children = sorted(Path(directory).glob(f"{prefix}*"))
        except OSError:
            continue
        for child in children:
            if child.is_dir() and not child.is_symlink() and stale(child, prefix, now):
                shutil.rmtree(child, ignore_errors=True)
                if not child.exists():
                    removed.append(child)
    return removed


# The prefixes venvdeb's temporary directories are made with (each with ``owned``).
CHROOT, READ, EGRESS, PROC, WHEELHOUSE = "venvdeb-chroot-", "venvdeb-read-", "venvdeb-egress-", "venvdeb-proc-", \
    "venvdeb-wheelhouse-"
UNPACK, CLONE, TAKE, UNPACKING = ".unpack-", ".clone-", ".take-", ".unpacking-"
REPORT = "venvdeb-report-"


def places(cache_dir: Path, build_dir: Path | None) -> list[tuple[Path, str]]:
    """Where venvdeb makes temporary directories, and with which prefix."""
    tmp = Path(tempfile.gettempdir())
    cache = Path(cache_dir)
    found = [(tmp, CHROOT), (tmp, READ), (tmp, REPORT), (Path("/tmp"), EGRESS), (tmp, WHEELHOUSE), (Path("/run"), PROC),
             (cache / "wheelhouses", UNPACK), (cache / "git", CLONE), (cache / "incoming", TAKE)]
    if build_dir is not None:
        found.append((build_dir, CHROOT))
    found += [(trees, UNPACKING) for trees in sorted((cache / "chroots").glob("*.rootfs"))]
    return found
