"""Chroot images: tarballs of a Debian distribution made by mmdebstrap, once, and cached.

Two kinds, made by the same code:
- ``smoke``: apt, the interpreter, adduser and systemd, as an operator's minimal host has them;
  unpacked afresh (``Image.fresh``) for every smoke test, remade after ``max_age``;
- ``buildd``: what Debian's buildds start from (essential, apt, build-essential), which sbuild's
  unshare mode unpacks itself for every build; kept until removed (sbuild upgrades it anyway).

An image is written under a temporary name beside its final one and renamed when mmdebstrap has
finished: an interrupted run never leaves a tarball that a later one would take for complete.
Making it holds an flock beside it: the two smoke tests that start together on a new machine (and
piuparts beside each) wait for the one mmdebstrap run rather than each making it again.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ToolError
from ..progress import activity, tail, say
from . import chroot, egress, idmap, rootfs
from .egress import DebCache
from .host import Host

DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY_MIRROR = "http://deb.debian.org/debian-security"
# What every smoke test needs: the interpreter, adduser for the maintainer scripts, and systemd
# for systemd-analyze verify. What a package depends on besides (sudo for nova's helpers) and a
# database server for smoke (neutron's MariaDB) come from the mirror, as on a host.
SMOKE_PACKAGES = ("python3", "adduser", "systemd", "ca-certificates")
# What building needs in a chroot of the target: debhelper and dh-virtualenv for service packages,
# the interpreter's venv and headers for sdists (the release adds its own build_depends), and
# sudo's visudo, which checks the sudoers file of a service with privileged helpers.
# python3-packaging: the target interpreter is probed with the distribution's own (python.py).
# git: pbr asks a checkout's history for its version (git-sourced services are built in the chroot).
BUILD_PACKAGES = ("build-essential", "ca-certificates", "debhelper", "dh-virtualenv", "dpkg-dev", "fakeroot", "git",
                  "pkg-config", "python3-dev", "python3-packaging", "python3-venv", "sudo")
DEFAULT_MAX_AGE = 7 * 24 * 3600
DEBS = "debs"  # beside the images: the Debian packages their chroots fetched (egress.DebCache)
UNSTABLE = ("sid", "unstable", "experimental")


def apt_sources(distribution: str, mirror: str = DEFAULT_MIRROR,
                security_mirror: str = DEFAULT_SECURITY_MIRROR) -> list[str]:
    """A chroot's apt sources: the release, its updates and its security suite, as a Debian
    buildd sees them. They stay in the tarball, so an upgrade in the chroot brings in fixes.
    Unstable has neither updates nor security suites."""
    if distribution in UNSTABLE:
        return [f"deb {mirror} {distribution} main"]
    return [f"deb {mirror} {distribution} main",
            f"deb {mirror} {distribution}-updates main",
            f"deb {security_mirror} {distribution}-security main"]


def mmdebstrap_argv(distribution: str, output: Path, arch: str = "amd64", sources: list[str] | None = None,
                    variant: str = "buildd", include: tuple[str, ...] = ()) -> list[str]:
    """The mmdebstrap command that writes an image.

    The compression follows from the output's name. The sources are always given: without them
    mmdebstrap would read them from stdin when stdin is not a terminal. ``--skip=cleanup/apt/lists``
    keeps the package lists of an image with extra packages: a smoke test then only refreshes them.
    """
    extra = [f"--include={','.join(include)}", "--skip=cleanup/apt/lists"] if include else []
    return ["mmdebstrap", f"--variant={variant}", f"--architectures={arch}", "--format=tar", *extra,
            distribution, str(output), *(sources if sources is not None else apt_sources(distribution))]


@dataclass(frozen=True)
class Image:
    distribution: str
    path: Path  # the cached tarball
    arch: str = "amd64"
    variant: str = "buildd"
    include: tuple[str, ...] = ()
    max_age: float | None = None  # seconds before it is made again; None: kept until removed
    sources: tuple[str, ...] | None = None

    def argv(self, output: Path) -> list[str]:
        return mmdebstrap_argv(self.distribution, output, self.arch,
                               list(self.sources) if self.sources is not None else None, self.variant, self.include)

    def current(self) -> bool:
        if not self.path.is_file():
            return False
        return self.max_age is None or time.time() - self.path.stat().st_mtime < self.max_age

    def ensure(self, log=say, log_file: Path | None = None) -> Path:
        """The tarball, made (or remade when too old) as needed. mmdebstrap's output goes to
        ``log_file`` when given (a build's log), else to a log beside the image."""
        if self.current():
            return self.path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f".{self.path.name}.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed
            if self.current():  # made while this waited
                return self.path
            return self._make(log, log_file)

    def _make(self, log, log_file: Path | None) -> Path:
        log(f"chroot image: creating {self.path} with mmdebstrap")
        log_file = log_file or self.path.with_name(f"{self.path.name}.log")
        # mmdebstrap picks the compression from the name's end: the temporary name keeps it.
        suffix = "".join(self.path.suffixes)
        fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=suffix)
        os.close(fd)
        tmp = Path(name)
        try:
            argv = self.argv(tmp)
            with activity(f"mmdebstrap {self.distribution} image {self.path.name}", log_file):
                with log_file.open("a") as out:
                    out.write(f"$ {' '.join(argv)}\n")
                    out.flush()
                    result = Host().run(argv, log=out)  # mmdebstrap itself runs on the host
                if result.returncode != 0:
                    raise ToolError(f"mmdebstrap could not make the {self.distribution} chroot (log: {log_file}):\n"
                                    f"{tail(log_file)}",
                                    hint="apt-get install mmdebstrap; it needs Debian's mirror and root, and a "
                                         "distribution the mirror has")
            tmp.chmod(0o644)  # mkstemp's 0600 is not what a cached file should have
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        return self.path

    @contextmanager
    def fresh(self, log=say, work_dir: Path | None = None, binds: tuple[Path, ...] = (),
              egress: set[tuple[str, int]] | None = None, proxy_variables: bool = False, hides: tuple[Path, ...] = (),
              read_only: tuple[Path, ...] = (), scratch: bool = False):
        """A clean chroot environment unpacked from this image (made first if need be), with
        ``binds`` (host directories) seen at the same paths inside; with ``egress``, its commands
        reach those (host, port)s through apt's proxy and nothing else, and the Debian packages
        it fetches from this image's mirrors are kept beside the image, for every chroot."""
        cache = DebCache(self.path.parent / DEBS, frozenset(self.mirrors())) if egress is not None else None
        with chroot.fresh(self.ensure(log), self.distribution, work_dir, binds, egress,
                          proxy_variables, hides, read_only, scratch, cache) as environment:
            yield environment

    @contextmanager
    def tree(self, log=say):
        """This image's unpacked tree (made first if need be), held while the block runs; its
        files are the chroots' user namespace's (idmap.py). Not to be written."""
        with rootfs.shared_tree(self.ensure(log), idmap.subordinate_range()[0]) as tree:
            yield tree

    def mirrors(self) -> set[tuple[str, int]]:
        """The hosts this image's apt sources name."""
        sources = list(self.sources) if self.sources is not None else apt_sources(self.distribution)
        found = set()
        for line in sources:  # one-line form: deb [options] URI suite components
            words = re.sub(r"\[[^\]]*\]", " ", line).split()
            if len(words) > 1 and words[0] in ("deb", "deb-src"):
                found.add(egress.host_port(words[1]))
        return found


def smoke(distribution: str, cache_dir: Path, max_age: float = DEFAULT_MAX_AGE, arch: str | None = None) -> Image:
    """The operator's minimal host, of this machine's architecture unless told otherwise."""
    return Image(distribution, Path(cache_dir) / "chroots" / f"{distribution}.tar", arch=arch or Host().architecture,
                 variant="apt", include=SMOKE_PACKAGES, max_age=max_age)


def with_piuparts(image: Image) -> Image:
    """``image`` with Debian's piuparts installed: where smoke runs piuparts on a copy of
    ``image``'s clean tree (gates/piuparts.py). Made with it, aged with it."""
    return replace(image, path=image.path.with_name(image.path.name.replace(".tar", "-piuparts.tar", 1)),
                   include=(*image.include, "piuparts"))


def build(distribution: str, cache_dir: Path, extra: tuple[str, ...] = (), arch: str | None = None,
          max_age: float = DEFAULT_MAX_AGE) -> Image:
    """A chroot to build in, for any distribution (the host's own too): the build tools and the
    release's build_depends installed, so a build downloads nothing from Debian. One image per
    set of packages."""
    packages = tuple(sorted(set(BUILD_PACKAGES) | set(extra)))
    digest = hashlib.sha256(",".join(packages).encode()).hexdigest()[:12]
    return Image(distribution, Path(cache_dir) / "chroots" / f"{distribution}-build-{digest}.tar",
                 arch=arch or Host().architecture, variant="buildd", include=packages, max_age=max_age)


def buildd(distribution: str, cache_dir: Path, arch: str = "amd64", sources: list[str] | None = None) -> Image:
    """In venvdeb's cache, not ~/.cache/sbuild: a build host's other sbuild chroots are neither
    used nor touched."""
    return Image(distribution, Path(cache_dir) / "sbuild" / f"{distribution}-{arch}.tar.zst", arch=arch,
                 sources=tuple(sources) if sources is not None else None)
