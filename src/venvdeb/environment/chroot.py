"""A clean chroot as an environment: made afresh from an image, entered with unshare.

Each command runs as root of a user namespace (idmap.py: on the host, a subordinate id, not
root), with its own mount and PID namespaces, /proc mounted, the host's file system detached,
and a clean set of variables: nothing of the host's environment leaks in. The chroot is removed when the
``fresh`` block ends, whatever happens in it.

A chroot made with ``egress`` (smoke's) gives each command a network namespace of its own as
well: loopback, and apt's proxy, through which only the hosts of ``egress`` are reachable
(egress.py). The host's services on 127.0.0.1 (the web UI, the workers' port) and the rest of its
network are not.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from pathlib import Path

from . import egress as egress_proxy, idmap, rootfs, stale
from .base import Environment

HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# HOME in /tmp: caches that commands write for the user (stevedore, pip) are not the package's.
BASE_VARIABLES = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8", "HOME": "/tmp",
                  "DEBIAN_FRONTEND": "noninteractive"}


def enter_argv(root: Path, argv: list[str], variables: Mapping[str, str], cwd: str | None = None,
               binds: tuple[Path, ...] = (), egress: Path | None = None, hides: tuple[Path, ...] = (),
               read_only: tuple[Path, ...] = (), offline: bool = False) -> list[str]:
    """Run ``argv`` in ``root`` as root of a user namespace: own mount and PID namespaces, /proc
    mounted, only ``variables``; with ``read_only`` and ``binds``, those host directories are seen
    at the same paths inside, read-only and then writable (``hides`` below them out of sight);
    with ``egress`` (the proxy's socket), a network namespace of its own whose only way out is the
    proxy; ``offline``, one with no way out at all (enter.py)."""
    command = ["/usr/bin/env", "-i", *(f"{k}={v}" for k, v in sorted(variables.items())), *argv]
    options = [option for path in read_only for option in ("--bind-ro", str(path))]
    options += [option for path in binds for option in ("--bind", str(path))]
    options += [option for path in hides for option in ("--hide", str(path))] + (["--wd", cwd] if cwd else [])
    egress = None if offline else egress
    options += ["--egress", str(egress)] if egress else []
    return ["unshare", "--mount", "--pid", *(["--net"] if egress or offline else []), "--fork", "--kill-child", "--",
            sys.executable, "-m", "venvdeb.environment.enter", str(root), *options, "--", *command]


class Chroot(Environment):
    default_timeout = 900

    def __init__(self, root: Path, distribution: str, binds: tuple[Path, ...] = (), egress: Path | None = None,
                 proxy_variables: bool = False, base: int | None = None, hides: tuple[Path, ...] = (),
                 read_only: tuple[Path, ...] = (), scratch: Path | None = None):
        self.root = Path(root)
        self.scratch = scratch  # bound writable, among ``binds``
        self.read_only = tuple(Path(b).resolve() for b in read_only)
        self.hides = tuple(Path(h) for h in hides)
        self.base = idmap.subordinate_range()[0] if base is None else base  # the chroot's root on the host
        self.distribution = distribution
        self.binds = tuple(Path(b).resolve() for b in binds)
        self.egress = egress
        self.proxy_variables = proxy_variables and egress is not None

    def variables(self, setenv: Mapping[str, str] | None, unset: Iterable[str]) -> dict[str, str]:
        # The base is already clean: there is nothing of the host's to unset. In a build chroot,
        # pip goes through the egress proxy too (apt has its own setting, which no_proxy would
        # override: smoke's chroots, whose apt reaches the repository on 127.0.0.1 through the
        # proxy and whose checks ask services on loopback directly, get no variables).
        proxy = egress_proxy.proxy_variables() if self.proxy_variables else {}
        return {**BASE_VARIABLES, **proxy, **(setenv or {})}

    def command(self, argv, variables, cwd, offline=False):
        return enter_argv(self.root, argv, variables, cwd, self.binds, self.egress, self.hides, self.read_only,
                          offline), None, None

    def path(self, inside) -> Path:
        """Where ``inside`` is on the host: a bound directory is the same path on both sides.
        Refused where a part of it in the chroot is a symlink (idmap.inside)."""
        inside = Path(inside)
        if any(inside == b or b in inside.parents for b in (*self.binds, *self.read_only)):
            return inside
        return idmap.inside(self.root, self.root / str(inside).lstrip("/"))

    def stage(self, path: Path) -> str:
        """Copy a host file into the chroot (unless it is in a bound directory); its path inside."""
        path = Path(path).resolve()
        if any(b in path.parents for b in (*self.binds, *self.read_only)):
            return str(path)
        inside = f"/tmp/venvdeb-files/{path.name}"
        dest = self.path(inside)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
        idmap.own(dest, self.root, self.base)
        return inside

    def write(self, path, data, mode: int = 0o644) -> Path:
        dest = super().write(path, data, mode)
        if not any(b == dest or b in dest.parents for b in self.binds):
            idmap.own(dest, self.root, self.base)
        return dest

    def describe(self) -> str:
        return f"a clean {self.distribution} chroot"


@contextmanager
def fresh(tarball: Path, distribution: str, work_dir: Path | None = None, binds: tuple[Path, ...] = (),
          egress: set[tuple[str, int]] | None = None, proxy_variables: bool = False, hides: tuple[Path, ...] = (),
          read_only: tuple[Path, ...] = (), scratch: bool = False, cache: egress_proxy.DebCache | None = None):
    """A new chroot from ``tarball``: an overlay on its shared unpacked tree (rootfs.py), or, where
    overlays cannot be mounted, a copy of that tree. Removed afterwards whatever happens. The bound
    directories are mounted per command, in that command's namespace: removing the chroot
    never touches them. ``egress``: the (host, port)s its commands may reach, and nothing else;
    ``proxy_variables``: its commands get http_proxy and the like, for pip; ``read_only``: host
    directories seen read-only; ``scratch``: a directory of its own, the one it may write that the
    host sees (``Chroot.scratch``), removed with it; ``cache``: where the egress proxy keeps the
    Debian packages it fetches (egress.py)."""
    work = Path(tempfile.mkdtemp(prefix=stale.owned(stale.CHROOT), dir=work_dir))  # a killed run's: stale.py
    own = work / "scratch"
    if scratch:
        own.mkdir(mode=0o755)
        binds = (*binds, own)
    base = idmap.subordinate_range()[0]
    try:
        with contextlib.ExitStack() as stack:
            tree = stack.enter_context(rootfs.shared_tree(tarball, base))
            root = stack.enter_context(rootfs.overlay(tree, work))
            prepare(root, base)
            socket_path = stack.enter_context(egress_proxy.proxy(egress, cache)) if egress is not None else None
            made = Chroot(root, distribution, binds, socket_path, proxy_variables, base, hides, read_only,
                          own.resolve() if scratch else None)
            if egress is not None:
                made.write("/etc/apt/apt.conf.d/00venvdeb-egress", egress_proxy.APT_CONFIG)
            yield made
    finally:
        shutil.rmtree(work, ignore_errors=True)


def prepare(root: Path, base: int) -> None:
    # The chroot reaches the network as the host does: the host's resolver, and the certificate
    # authorities it trusts (a network that inspects TLS adds its own to the host's bundle).
    resolv = root / "etc" / "resolv.conf"
    resolv.unlink(missing_ok=True)
    shutil.copyfile("/etc/resolv.conf", resolv, follow_symlinks=True)
    # Readable by all whatever the caller's umask: apt fetches as its _apt user.
    resolv.chmod(0o644)
    if HOST_CA_BUNDLE.is_file():
        bundle = root / str(HOST_CA_BUNDLE).lstrip("/")
        bundle.parent.mkdir(parents=True, exist_ok=True)
        bundle.unlink(missing_ok=True)
        shutil.copyfile(HOST_CA_BUNDLE, bundle)
        bundle.chmod(0o644)
    # Loopback by name, for services that bind or call "localhost" (a network namespace has no DNS).
    hosts = root / "etc" / "hosts"
    if not hosts.is_file() or "localhost" not in hosts.read_text():
        hosts.write_text("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
        hosts.chmod(0o644)
    # The host's console is not the chroot's (a node of the image, 5:1): nothing there writes to it.
    (root / "dev" / "console").unlink(missing_ok=True)
    # No daemon starts inside a chroot: there is no init to own it.
    policy = root / "usr" / "sbin" / "policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    for written in (resolv, root / str(HOST_CA_BUNDLE).lstrip("/"), hosts, policy):
        if written.exists():
            idmap.own(written, root, base)
