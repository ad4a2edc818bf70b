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
syscall(), whose numbers for them are the same on every architecture Debian has (alpha differs).
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
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
SYS_OPEN_TREE, SYS_MOVE_MOUNT, SYS_MOUNT_SETATTR = 428, 429, 442
AT_FDCWD, AT_EMPTY_PATH = -100, 0x1000
OPEN_TREE_CLONE = 1
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOUNT_ATTR_RDONLY, MOUNT_ATTR_IDMAP, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV = 0x1, 0x00100000, 0x2, 0x4
MNT_DETACH = 2

_libc = ctypes.CDLL(None, use_errno=True)
LONG = ctypes.c_long  # syscall() is variadic: its arguments are passed as longs


class MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def subordinate_range(user: str = "root", files: tuple[Path, ...] = SUBORDINATE_FILES) -> tuple[int, int]:
    """``user``'s first subordinate range, the same in both files. None is refused rather than
    guessed (adduser gives 100000:65536 to the first user it makes: a guess could hand the
    chroots to that user), as are different ranges for uids and gids (the tree is shifted by
    one) and a range too small for a Debian system's ids (up to 65534)."""
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
    example = f"'{user}:{DEFAULT_RANGE[0]}:{DEFAULT_RANGE[1]}'"
    if not all(found):
        missing = " and ".join(str(p) for p, r in zip(files, found) if r is None)
        raise VenvdebError(f"{missing} give {user} no subordinate ids: a chroot's root needs a range of its own",
                           hint=f"add {example} to both (make setup does), with no other user's range overlapping it")
    if found[0] != found[1]:
        raise VenvdebError(f"{files[0]} and {files[1]} give {user} different subordinate ranges ({found[0]}, {found[1]})",
                           hint=f"give {user} the same range in both, e.g. {example}")
    if found[0][1] < DEFAULT_RANGE[1]:
        raise VenvdebError(f"{files[0]}: {user}'s range {found[0][0]}:{found[0][1]} is smaller than a Debian "
                           f"system's ids need ({DEFAULT_RANGE[1]})", hint=f"give {user} a range such as {example}")
    return found[0]


def shift(tree: Path, base: int) -> None:
    """Give every file of ``tree`` (unpacked by the host's root) to ids ``base`` higher. chown
    clears set-id bits, so modes are put back; symlinks are changed themselves; a file with
    several names (perl, gzip) is shifted once."""
    seen: set[tuple[int, int]] = set()

    def one(name: str) -> None:
        st = os.lstat(name)
        if (st.st_dev, st.st_ino) in seen:
            return
        seen.add((st.st_dev, st.st_ino))
        os.lchown(name, st.st_uid + base, st.st_gid + base)
        if not stat.S_ISLNK(st.st_mode) and st.st_mode & (stat.S_ISUID | stat.S_ISGID):
            os.chmod(name, stat.S_IMODE(st.st_mode))

    one(str(tree))
    for directory, dirs, files in os.walk(tree):  # each entry once: as a name in its parent
        for name in (*dirs, *files):
            one(os.path.join(directory, name))


def inside(root: Path, path: Path) -> Path:
    """``path`` (under ``root``), refused if any part of it below ``root`` is a symlink. What the
    host's root writes into a chroot after its commands ran must not follow a link they planted
    (``ln -s /etc/passwd /tmp/x`` would have the host write its own /etc/passwd). Nothing runs in
    the chroot between its commands (each ends with its PID namespace): the answer holds."""
    path = Path(path)
    relative = path.relative_to(root)
    walked = Path(root)
    for part in relative.parts:
        walked = walked / part
        if walked.is_symlink():
            raise VenvdebError(f"{walked}: a symlink in the chroot, where venvdeb writes a file of its own",
                               hint="a command run in the chroot made it; the chroot is not to be trusted")
    return path


def own(path: Path, root: Path, base: int) -> None:
    """Hand ``path``, written into the chroot at ``root`` by the host, and the directories made
    for it, to the chroot's root. In a shifted tree only those have the host's root as owner."""
    path = Path(path)
    if root not in path.parents:
        return  # not the chroot's
    inside(root, path.parent)  # lchown changes a link itself: only the way to it must hold none
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
            unshare(CLONE_NEWUSER)
            os.write(ready_w, b"ok")
            os.read(done_r, 1)
        except OSError as exc:  # the parent says it, with the kernel's reason
            os.write(ready_w, str(exc.errno).encode())
        finally:
            os._exit(0)
    os.close(ready_w)
    os.close(done_r)
    try:
        said = os.read(ready_r, 16)
        if said != b"ok":
            code = int(said) if said.isdigit() else errno.EPERM
            raise OSError(code, f"a new user namespace: {os.strerror(code)}")
        write_maps(proc, pid, base, count)
        return os.open(f"{proc}/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(done_w)
        os.close(ready_r)
        os.waitpid(pid, 0)


def idmapped(fd: int, source: str, userns_fd: int, read_only: bool = False) -> int:
    """The detached mount ``fd`` (``clone``) of ``source``, seen through ``userns_fd``'s mapping;
    ``read_only``: nothing can be written through it (the mount's own flag: the user namespace,
    which does not own it, cannot remount it writable)."""
    # Nothing set-id or a device through it: a build has no use for them.
    flags = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (MOUNT_ATTR_RDONLY if read_only else 0)
    attr = MountAttr(attr_set=flags, userns_fd=userns_fd)
    try:
        _check(_libc.syscall(LONG(SYS_MOUNT_SETATTR), LONG(fd), b"", LONG(AT_EMPTY_PATH), ctypes.byref(attr),
                             LONG(ctypes.sizeof(attr))),
               f"an idmapped mount of {source} (the kernel and its file system must support them)")
    except OSError:
        os.close(fd)
        raise
    return fd


def clone(source: str) -> int:
    """A detached bind mount of ``source``: opened while the host's path can be reached, attached
    after the root changed (``attach``), so that its target is resolved in the chroot."""
    return _check(_libc.syscall(LONG(SYS_OPEN_TREE), LONG(AT_FDCWD), source.encode(),
                                LONG(OPEN_TREE_CLONE | os.O_CLOEXEC)), f"open_tree {source}")


def attach(fd: int, target: str) -> None:
    _check(_libc.syscall(LONG(SYS_MOVE_MOUNT), LONG(fd), b"", LONG(AT_FDCWD), target.encode(),
                         LONG(MOVE_MOUNT_F_EMPTY_PATH)),
           f"move_mount {target}")
    os.close(fd)


def mount_empty(target: str) -> None:
    """An empty read-only file system over ``target``: what is below is out of sight."""
    _check(_libc.mount(b"tmpfs", target.encode(), b"tmpfs",
                       ctypes.c_ulong(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC), b"size=4k,mode=0555"),
           f"mount an empty file system on {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    _check(_libc.pivot_root(new_root.encode(), put_old.encode()), f"pivot_root {new_root}")


def detach(path: str) -> None:
    _check(_libc.umount2(path.encode(), MNT_DETACH), f"umount {path}")


def join(userns_fd: int) -> None:
    """setns(2) into a user namespace (os.setns is Python 3.12's)."""
    _check(_libc.setns(userns_fd, CLONE_NEWUSER), "setns(CLONE_NEWUSER)")
