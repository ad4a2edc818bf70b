"""Files written whole or not at all, and their digests. Every stage writes artifacts this way."""

from __future__ import annotations

import hashlib
import os
import shutil
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
    """``path`` holds ``data`` whole, or what it held before: a reader never sees half a file.
    ``mode`` 0o600 for secrets: they are never readable by others, not even under a temporary name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")  # mode 0600 from the start
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def checksum_file(deb: Path) -> Path:
    return deb.with_name(deb.name + ".sha256")


def record_checksum(deb: Path) -> str:
    """Write ``<deb>.sha256`` (sha256sum's format) beside a package just built; return the digest."""
    digest = sha256_file(deb)
    write_atomic(checksum_file(deb), f"{digest}  {deb.name}\n".encode())
    return digest


def rebuild_command(deb: Path) -> str:
    """How to make a package file again, from its name alone (its content may be what is broken)."""
    package = Path(deb).name.split("_")[0]
    if package.startswith("venv-"):
        return f"venvdeb build <release> {package[len('venv-'):]} --dist <distribution>"
    return "venvdeb wheelhouse build <release> --dist <distribution>"


_VERIFIED: set[tuple] = set()  # files found whole in this process, as they were then


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
    seen = (str(deb.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)
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
        _VERIFIED.add(seen)
        return
    try:
        package = DebFile(str(deb))
        package.debcontrol()
        package.data.tgz().getmembers()  # reads to the end of the data: a cut shows
    except (ArError, DebError, EOFError, OSError, ValueError, KeyError) as exc:
        raise VenvdebError(f"{deb}: not a whole Debian package ({type(exc).__name__}: {exc})",
                           hint=f"rebuild it: {rebuild}") from None
    _VERIFIED.add(seen)


def copy_atomic(src: Path, dest: Path) -> None:
    """Copy under a temporary name beside ``dest``, then rename: a reader never sees half a file."""
    tmp = dest.with_name(f".{dest.name}.part")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


def link_or_copy(src: Path, dest: Path) -> None:
    """Hard links when the cache and the build share a filesystem: 65 MB need not be copied."""
    if os.stat(src).st_dev == os.stat(dest.parent).st_dev:
        os.link(src, dest)
    else:
        shutil.copy2(src, dest)
