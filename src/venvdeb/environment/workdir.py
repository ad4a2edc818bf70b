"""Where a build chroot is made: in memory, when the machine has room.

A service build writes a venv of tens of thousands of files (nova's: 12,700 files, 207 MB, and
as many links in uv's cache), packs it, and deletes it all seconds later. On this machine's disk
the journal and writeback of that cost nova's build 4 to 6 s of its 12 to 14, and as much again
at random; in a tmpfs they cost nothing (bench/results/service_build.md). Debian's builders do
the same (sbuild's and pbuilder's builds in tmpfs).

So a build chroot is made in /dev/shm when it is a tmpfs where programs may run (debian/rules
does) with at least ``MIN_FREE`` free; else in the temporary directory. ``VENVDEB_BUILD_DIR``
names the place instead (empty: the temporary directory).
"""

from __future__ import annotations

import os
from pathlib import Path

SHM = Path("/dev/shm")
MIN_FREE = 8 << 30  # horizon's build, the largest, peaks under 1 GiB; two builds at once, and room to spare
TMPFS_MAGIC = "tmpfs"


def is_tmpfs(path: Path, mounts: Path = Path("/proc/self/mounts")) -> bool:
    """``path`` is the mount point of a tmpfs (the last mount there wins, as the kernel's does)."""
    kind = None
    for line in mounts.read_text().splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[1] == str(path):
            kind = fields[2]
    return kind == TMPFS_MAGIC


def build_dir(environ=os.environ, shm: Path = SHM, mounts: Path = Path("/proc/self/mounts")) -> Path | None:
    """The directory build chroots are made in; None for the temporary directory."""
    if "VENVDEB_BUILD_DIR" in environ:
        return Path(environ["VENVDEB_BUILD_DIR"]) if environ["VENVDEB_BUILD_DIR"] else None
    try:
        info = os.statvfs(shm)
    except OSError:
        return None
    if info.f_flag & os.ST_NOEXEC or info.f_bavail * info.f_frsize < MIN_FREE or not is_tmpfs(shm, mounts):
        return None
    return shm
