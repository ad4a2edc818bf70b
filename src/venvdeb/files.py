"""Files written whole or not at all, and their digests. Every stage writes artifacts this way."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path


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
