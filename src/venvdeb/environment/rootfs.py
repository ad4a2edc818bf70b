"""An image's root file system, unpacked once and shared: each fresh chroot is an overlay on
it, with a writable layer of its own that goes with the chroot.

Unpacking a build image (650 MB, 19,000 files) and removing it again made a build for another
distribution cost twice one on the host (venv-nova: 30.6 s in a trixie chroot, 14.8 s here), and
every smoke test paid the same for its own image; an overlay mount takes milliseconds. The
shared tree is never written: overlayfs copies a file up to the chroot's own layer before it
changes. Where the kernel refuses the mount, the chroot is a copy of the tree.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import VenvdebError
from . import idmap, stale

# overlayfs separates lower directories with ':' and options with ','.
UNSAFE_IN_OPTIONS = (",", ":", "=")


def unpack(tarball: Path, root: Path) -> None:
    proc = subprocess.run(["tar", "--extract", "--file", str(tarball), "--directory", str(root),
                           "--numeric-owner", "--preserve-permissions"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise VenvdebError(f"{tarball}: cannot unpack the chroot image: {proc.stderr.strip()[-500:]}",
                           hint="remove it; it is made again on the next run")


@contextmanager
def shared_tree(tarball: Path, base: int = 0) -> Iterator[Path]:
    """The tarball unpacked beside it, in a directory named for the tarball's own mtime and size,
    so that a remade image gets a new tree; held (a shared lock) while the block runs. Made once,
    under a lock, as builds may run side by side; trees of earlier images go when none holds them.
    ``base``: its files' ids are shifted by it, to belong to a user namespace's ids (idmap.py)."""
    st = tarball.stat()
    trees = tarball.with_name(f"{tarball.name}.rootfs")
    tree = trees / f"{st.st_mtime_ns}-{st.st_size}" if not base else trees / f"{st.st_mtime_ns}-{st.st_size}-ids{base}"
    trees.mkdir(exist_ok=True)
    with open(trees / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not tree.is_dir():
            tmp = Path(tempfile.mkdtemp(dir=trees, prefix=stale.owned(stale.UNPACKING)))
            try:
                unpack(tarball, tmp)
                if base:
                    idmap.shift(tmp, base)
                tmp.rename(tree)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        users = open(f"{tree}.users", "a")  # held past this block: closed below
        fcntl.flock(users, fcntl.LOCK_SH)
        for old in trees.iterdir():
            if old.is_dir() and old != tree and not old.name.startswith(".") and not in_use(old):
                shutil.rmtree(old, ignore_errors=True)
    try:
        yield tree
    finally:
        users.close()


def in_use(tree: Path) -> bool:
    """Whether a chroot holds ``tree``. Asked under the trees' lock, under which a chroot takes
    its hold: none can take one while it is asked."""
    with open(f"{tree}.users", "a") as users:
        try:
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    os.unlink(f"{tree}.users")
    return False


@contextmanager
def overlay(tree: Path, work: Path) -> Iterator[Path]:
    """``tree`` with a writable layer in ``work``, mounted at ``work``/root; a copy of ``tree``
    there when the kernel refuses the mount (or ``tree``'s path cannot be said in its options)."""
    root, upper, scratch = work / "root", work / "upper", work / "work"
    for d in (root, upper, scratch):
        d.mkdir()
    # The merged tree's / is the upper layer's directory: it gets the image's mode, not the one
    # the caller's umask gives (a Buildbot master's is 077, and then no user but root could
    # reach /bin/sh in the chroot).
    upper.chmod(tree.stat().st_mode & 0o7777)
    os.chown(upper, tree.stat().st_uid, tree.stat().st_gid)
    sayable = not any(c in str(p) for p in (tree, upper, scratch) for c in UNSAFE_IN_OPTIONS)
    if not sayable or subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                                      f"lowerdir={tree},upperdir={upper},workdir={scratch}", str(root)],
                                     capture_output=True).returncode != 0:
        subprocess.run(["cp", "--archive", f"{tree}/.", str(root)], check=True, capture_output=True)
        yield root
        return
    try:
        yield root
    finally:
        # A process the chroot's commands left behind keeps the mount busy: detach it anyway.
        if subprocess.run(["umount", str(root)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", str(root)], capture_output=True)
