"""Root in a chroot is not root on the host: a user namespace maps it to a subordinate id.

The chroot's commands run as root of a user namespace whose ids 0..count-1 are the host's
base..base+count-1 (root's range in /etc/subuid and /etc/subgid, which sbuild's unshare mode
uses too). So the chroot's files belong to those ids on the host: its tree is shifted once,
when an image is unpacked (``shift``), and what the host writes into a chroot afterwards is
handed over (``own``). A host directory bound into a build chroot is mounted idmapped
(``idmapped_clone``): the host's root-owned files are the namespace root's there, and what the
build writes is root's on the host again, so nothing on the host side changes owner.

The kernel calls Python 3.11 has no wrapper for go through libc: unshare, setns, pivot_root and
umount2 by name, open_tree, mount_setattr and move_mount (which glibc 2.36 does not wrap) through
syscall(), whose numbers for them are the same on every architecture.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
from pathlib import Path

from ..errors import VenvdebError

DEFAULT_RANGE = (100000, 65536)
SUBORDINATE_FILES = (Path("/etc/subuid"), Path("/etc/subgid"))

CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID = 0x10000000, 0x00020000, 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
SYS_OPEN_TREE, SYS_MOVE_MOUNT, SYS_MOUNT_SETATTR = 428, 429, 442
AT_FDCWD, AT_EMPTY_PATH = -100, 0x1000
OPEN_TREE_CLONE = 1
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOUNT_ATTR_IDMAP = 0x00100000
MNT_DETACH = 2

_libc = ctypes.CDLL(None, use_errno=True)
L = ctypes.c_long  # syscall() is variadic: its arguments are passed as longs


class MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def subordinate_range(user: str = "root", files: tuple[Path, ...] = SUBORDINATE_FILES) -> tuple[int, int]:
    """``user``'s first subordinate range, the same in both files; the default where neither
    names one. Different ranges for uids and gids are refused: the tree is shifted by one."""
    found = []
    for path in files:
        ranges = []
        if path.is_file():
            for line in path.read_text().splitlines():
                name, _, rest = line.strip().partition(":")
                start, _, count = rest.partition(":")
                if name == user and start.isdigit() and count.isdigit():
                    ranges.append((int(start), int(count)))
        found.append(ranges[0] if ranges else None)
    if not any(found):
        return DEFAULT_RANGE
    if found[0] != found[1]:
        raise VenvdebError(f"{files[0]} and {files[1]} give {user} different subordinate ranges ({found[0]}, {found[1]})",
                           hint=f"give {user} the same range in both, e.g. '{user}:100000:65536'")
    return found[0]


def shift(tree: Path, base: int) -> None:
    """Give every file of ``tree`` (unpacked by the host's root) to ids ``base`` higher. chown
    clears set-id bits, so modes are put back; symlinks are changed themselves."""
    def one(name: str) -> None:
        st = os.lstat(name)
        os.lchown(name, st.st_uid + base, st.st_gid + base)
        if not stat.S_ISLNK(st.st_mode) and st.st_mode & (stat.S_ISUID | stat.S_ISGID):
            os.chmod(name, stat.S_IMODE(st.st_mode))

    one(str(tree))
    for directory, dirs, files in os.walk(tree):  # each entry once: as a name in its parent
        for name in (*dirs, *files):
            one(os.path.join(directory, name))


def own(path: Path, root: Path, base: int) -> None:
    """Hand ``path``, written into the chroot at ``root`` by the host, and the directories made
    for it, to the chroot's root. In a shifted tree only those have the host's root as owner."""
    path = Path(path)
    for entry in (path, *path.parents):
        if entry == root or root not in entry.parents:
            break
        if entry.lstat().st_uid == 0:
            os.lchown(entry, base, base)


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")
    return result


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), f"unshare({flags:#x})")


def unshare_user() -> None:
    unshare(CLONE_NEWUSER)


def mount_proc(target: str) -> None:
    _check(_libc.mount(b"proc", target.encode(), b"proc", ctypes.c_ulong(MS_NOSUID | MS_NODEV | MS_NOEXEC), None),
           f"mount proc on {target}")


def write_maps(proc: str, pid: int, base: int, count: int) -> None:
    for name in ("uid_map", "gid_map"):
        with open(f"{proc}/{pid}/{name}", "w") as f:
            f.write(f"0 {base} {count}\n")


def namespace(proc: str, base: int, count: int) -> int:
    """A file descriptor of a new user namespace with the mapping: a child makes it and waits
    while the maps are written and the namespace is opened (``proc``: a /proc of this process's
    PID namespace)."""
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(ready_r)
            os.close(done_w)
            unshare_user()
            os.write(ready_w, b"1")
            os.read(done_r, 1)
        finally:
            os._exit(0)
    os.close(ready_w)
    os.close(done_r)
    try:
        if os.read(ready_r, 1) != b"1":
            raise OSError(errno.EPERM, "the kernel refused a new user namespace")
        write_maps(proc, pid, base, count)
        return os.open(f"{proc}/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(done_w)
        os.close(ready_r)
        os.waitpid(pid, 0)


def idmapped_clone(source: str, userns_fd: int) -> int:
    """A detached bind mount of ``source`` seen through ``userns_fd``'s mapping: attach it with
    ``attach``. Made before the chroot's root is changed, while the host's path is reachable."""
    fd = _check(_libc.syscall(L(SYS_OPEN_TREE), L(AT_FDCWD), source.encode(), L(OPEN_TREE_CLONE | os.O_CLOEXEC)),
                f"open_tree {source}")
    attr = MountAttr(attr_set=MOUNT_ATTR_IDMAP, userns_fd=userns_fd)
    _check(_libc.syscall(L(SYS_MOUNT_SETATTR), L(fd), b"", L(AT_EMPTY_PATH), ctypes.byref(attr), L(ctypes.sizeof(attr))),
           f"mount_setattr (idmap) {source}")
    return fd


def attach(fd: int, target: str) -> None:
    _check(_libc.syscall(L(SYS_MOVE_MOUNT), L(fd), b"", L(AT_FDCWD), target.encode(), L(MOVE_MOUNT_F_EMPTY_PATH)),
           f"move_mount {target}")
    os.close(fd)


def pivot_root(new_root: str, put_old: str) -> None:
    _check(_libc.pivot_root(new_root.encode(), put_old.encode()), f"pivot_root {new_root}")


def detach(path: str) -> None:
    _check(_libc.umount2(path.encode(), MNT_DETACH), f"umount {path}")


def join(userns_fd: int) -> None:
    """setns(2) into a user namespace (os.setns is Python 3.12's)."""
    _check(_libc.setns(userns_fd, CLONE_NEWUSER), "setns(CLONE_NEWUSER)")
