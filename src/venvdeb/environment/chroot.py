"""A clean chroot as an environment: unpacked afresh from an image, entered with unshare.

Each command gets its own mount and PID namespaces with /proc mounted, and a clean set of
variables: nothing of the host's environment leaks in. The chroot is removed when the
``fresh`` block ends, whatever happens in it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from pathlib import Path

from .base import Environment

# HOME in /tmp: caches that commands write for the user (stevedore, pip) are not the package's.
BASE_VARIABLES = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8", "HOME": "/tmp",
                  "DEBIAN_FRONTEND": "noninteractive"}


def enter_argv(root: Path, argv: list[str], variables: Mapping[str, str], cwd: str | None = None) -> list[str]:
    """Run ``argv`` in ``root``: own mount and PID namespaces, /proc mounted, only ``variables``."""
    where = [f"--wd={cwd}"] if cwd else []
    return ["unshare", "--mount", "--pid", "--fork", "--kill-child", f"--root={root}", *where, "--mount-proc",
            "--", "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in sorted(variables.items())), *argv]


class Chroot(Environment):
    default_timeout = 900

    def __init__(self, root: Path, distribution: str):
        self.root = Path(root)
        self.distribution = distribution

    def variables(self, setenv: Mapping[str, str] | None, unset: Iterable[str]) -> dict[str, str]:
        # The base is already clean: there is nothing of the host's to unset.
        return {**BASE_VARIABLES, **(setenv or {})}

    def command(self, argv, variables, cwd):
        return enter_argv(self.root, argv, variables, cwd), None, None

    def path(self, inside) -> Path:
        return self.root / str(inside).lstrip("/")

    def describe(self) -> str:
        return f"a clean {self.distribution} chroot"


@contextmanager
def fresh(tarball: Path, distribution: str, work_dir: Path | None = None):
    """A new chroot unpacked from ``tarball``, removed afterwards whatever happens."""
    root = Path(tempfile.mkdtemp(prefix="venvdeb-chroot-", dir=work_dir))
    try:
        subprocess.run(["tar", "--extract", "--file", str(tarball), "--directory", str(root),
                        "--numeric-owner", "--preserve-permissions"], check=True, capture_output=True)
        shutil.copyfile("/etc/resolv.conf", root / "etc" / "resolv.conf", follow_symlinks=True)
        # No daemon starts inside a chroot: there is no init to own it.
        policy = root / "usr" / "sbin" / "policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        yield Chroot(root, distribution)
    finally:
        shutil.rmtree(root, ignore_errors=True)
