"""Files written whole or not at all, and their digests. Every stage writes artifacts this way."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

from .errors import VenvdebError


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """``path`` holds ``data`` whole, or what it held before: a reader never sees half a file,
    and after a power loss the file is the old one or the new one, never empty (the data reaches
    the disk before the rename, and the rename before this returns).
    ``mode`` 0o600 for secrets: they are never readable by others, not even under a temporary name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")  # mode 0600 from the start
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        fsync_directory(path.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def fsync_directory(directory: Path) -> None:
    """The directory's entries (a rename into it) on the disk."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def checksum_file(deb: Path) -> Path:
    return deb.with_name(deb.name + ".sha256")


def record_checksum(deb: Path, digest: str | None = None) -> str:
    """Write ``<deb>.sha256`` (sha256sum's format) beside a package just built (``digest``: the
    one ``take`` gave as it copied it); return the digest."""
    digest = digest or sha256_file(deb)
    write_atomic(checksum_file(deb), f"{digest}  {deb.name}\n".encode())
    return digest


def rebuild_command(deb: Path) -> str:
    """How to make a package file again, from its name alone (its content may be what is broken)."""
    package = Path(deb).name.split("_")[0]
    if package.startswith("venv-"):
        return f"venvdeb build <release> {package[len('venv-'):]} --dist <distribution>"
    return "venvdeb wheelhouse build <release> --dist <distribution>"


# Files found whole in this process, as they were then: their sha256 when it was computed for it.
_VERIFIED: dict[tuple, str | None] = {}


def _identity(deb: Path) -> tuple:
    st = deb.stat()
    return (str(deb.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)


def verify_checksum(deb: Path, rebuild: str | None = None) -> None:
    """Refuse a package whose bytes are not those it was built with (a copy cut short, a disk
    error): by its ``.sha256`` when the build left one, else by reading its archive whole.
    ``rebuild`` is the command that makes it again. A file already found whole, unchanged since
    (same inode, size and mtime), is not read again: a wheelhouse is checked once per command."""
    from debian.arfile import ArError
    from debian.debfile import DebError, DebFile

    deb = Path(deb)
    rebuild = rebuild or rebuild_command(deb)
    if not deb.is_file():
        raise VenvdebError(f"{deb}: no such package file", hint=rebuild)
    st = deb.stat()
    seen = _identity(deb)
    if seen in _VERIFIED:
        return
    recorded = checksum_file(deb)
    if recorded.is_file():
        words = recorded.read_text(errors="replace").split()
        expected = words[0] if words else ""
        got = sha256_file(deb)
        if got != expected:
            raise VenvdebError(f"{deb}: corrupt or truncated: sha256 {got}, built as {expected} "
                               f"({st.st_size} bytes now)", hint=f"rebuild it: {rebuild}")
        _VERIFIED[seen] = got
        return
    try:
        package = DebFile(str(deb))
        package.debcontrol()
        package.data.tgz().getmembers()  # reads to the end of the data: a cut shows
    except (ArError, DebError, EOFError, OSError, ValueError, KeyError) as exc:
        raise VenvdebError(f"{deb}: not a whole Debian package ({type(exc).__name__}: {exc})",
                           hint=f"rebuild it: {rebuild}") from None
    _VERIFIED[seen] = None


def verified_sha256(deb: Path) -> str:
    """The sha256 of ``deb``, not read again when verify_checksum just did (a wheelhouse is 160 MB)."""
    return _VERIFIED.get(_identity(Path(deb))) or sha256_file(deb)


def copy_atomic(src: Path, dest: Path) -> None:
    """Copy under a temporary name beside ``dest``, then rename: a reader never sees half a file."""
    tmp = dest.with_name(f".{dest.name}.part")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


def open_below(src: Path, within: Path | None = None) -> int:
    """A descriptor of ``src`` for reading, reached from ``within`` (a directory a build chroot
    may write, ``src`` below it) one part at a time and never through a symlink: a link the chroot
    planted, anywhere on the way, cannot lead the host to a file of its own."""
    src = Path(src)
    start, parts = (within, src.relative_to(within).parts) if within else (src.parent, (src.name,))
    fd = os.open(start, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            next_fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        return os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
    finally:
        os.close(fd)


def take(src: Path, dest: Path, within: Path | None = None, limit: int = 4 << 30) -> str:
    """Copy ``src``, which a build chroot wrote (below ``within``, its scratch directory), to
    ``dest`` (atomically), hashing the bytes as they are copied; their sha256. What the chroot
    could have planted is refused: a symlink on the way (to a host file it wants copied out),
    anything but a regular file, or more than ``limit`` bytes. The copy is the host's own file:
    nothing the chroot does afterwards changes it or its digest."""
    try:
        fd = open_below(src, within)
    except OSError as exc:
        raise VenvdebError(f"{src}: cannot be taken from the build ({exc.strerror}: a build writes regular "
                           "files, never a link)") from None
    digest = hashlib.sha256()
    tmp = dest.with_name(f".{dest.name}.part")
    with os.fdopen(fd, "rb") as source:
        info = os.fstat(source.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            raise VenvdebError(f"{src}: not a regular file of at most {limit} bytes: refused")
        with open(tmp, "wb") as out:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    os.replace(tmp, dest)
    return digest.hexdigest()
