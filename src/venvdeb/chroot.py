"""Clean chroots of the target distribution: made once with mmdebstrap, cached as a tarball,
unpacked afresh for every use, entered with unshare and chroot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import VenvdebError

# What every smoke test needs, so that installing a service package downloads nothing from
# Debian: the interpreter, adduser for the maintainer scripts, and systemd for
# systemd-analyze verify.
BASE_PACKAGES = ("python3", "adduser", "systemd", "ca-certificates")
DEFAULT_MAX_AGE = 7 * 24 * 3600


def mmdebstrap_argv(distribution: str, dest: Path, include=BASE_PACKAGES) -> list[str]:
    # --skip=cleanup/apt/lists keeps the package lists: a smoke test then only refreshes them.
    return ["mmdebstrap", "--quiet", "--mode=root", "--variant=apt", f"--include={','.join(include)}",
            "--skip=cleanup/apt/lists", distribution, str(dest)]


def tarball(distribution: str, cache_dir: Path, max_age: float = DEFAULT_MAX_AGE, log=print) -> Path:
    """The cached chroot tarball, made (or remade when older than ``max_age`` seconds) as needed."""
    path = Path(cache_dir) / "chroots" / f"{distribution}.tar"
    if path.is_file() and time.time() - path.stat().st_mtime < max_age:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    log(f"chroot: creating {path} with mmdebstrap")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{distribution}-", suffix=".tar")
    os.close(fd)
    try:
        proc = subprocess.run(mmdebstrap_argv(distribution, Path(tmp)), capture_output=True, text=True)
        if proc.returncode != 0:
            raise VenvdebError(f"mmdebstrap {distribution} failed:\n{proc.stderr[-1500:]}",
                               hint="apt-get install mmdebstrap, and check that Debian's mirror is reachable")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def enter_argv(root: Path, argv: list[str], env: dict | None = None) -> list[str]:
    """Run ``argv`` in ``root``: own mount and PID namespaces, /proc mounted, a clean environment."""
    # HOME in /tmp: caches that commands write for the user (stevedore, pip) are not the package's.
    variables = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8", "HOME": "/tmp",
                 "DEBIAN_FRONTEND": "noninteractive", **(env or {})}
    return ["unshare", "--mount", "--pid", "--fork", "--kill-child", f"--root={root}", "--mount-proc",
            "--", "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in sorted(variables.items())), *argv]


@dataclass
class Chroot:
    root: Path

    def run(self, argv: list[str], check: bool = False, timeout: float = 900) -> subprocess.CompletedProcess:
        proc = subprocess.run(enter_argv(self.root, argv), capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise VenvdebError(f"in the chroot, {' '.join(argv)} failed ({proc.returncode}):\n"
                               f"{(proc.stdout + proc.stderr)[-2000:]}")
        return proc

    def write(self, path: str, data: bytes | str, mode: int = 0o644) -> Path:
        dest = self.root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data.encode() if isinstance(data, str) else data)
        dest.chmod(mode)
        return dest


@contextmanager
def fresh(tarball_path: Path, work_dir: Path | None = None):
    """A new chroot unpacked from the tarball, removed afterwards whatever happens."""
    root = Path(tempfile.mkdtemp(prefix="venvdeb-chroot-", dir=work_dir))
    try:
        subprocess.run(["tar", "--extract", "--file", str(tarball_path), "--directory", str(root),
                        "--numeric-owner", "--preserve-permissions"], check=True, capture_output=True)
        shutil.copyfile("/etc/resolv.conf", root / "etc" / "resolv.conf", follow_symlinks=True)
        # No daemon starts inside a chroot: there is no init to own it.
        policy = root / "usr" / "sbin" / "policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        yield Chroot(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
