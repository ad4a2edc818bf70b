"""Clean-room builds: the same rendered source, built by sbuild in a fresh bookworm chroot.

`venvdeb build` on the build host uses whatever the host has installed. With sbuild's unshare
mode the package is built in a chroot unpacked from a minimal tarball for every build, holding
only build-essential and the source's Build-Depends, with the network cut off while
debian/rules runs: a build that succeeds here needs nothing the source does not declare.

1. the chroot tarball is made once per distribution and architecture with mmdebstrap, and reused
   (sbuild runs apt-get update and dist-upgrade in it at the start of each build anyway);
2. the rendered tree is turned into a .dsc in a temporary directory;
3. sbuild builds it, taking the wheelhouse .deb (a Build-Depends at its exact version, never in
   the Debian archive) from a local repository that sbuild itself makes of --extra-package;
4. the .deb (and the .buildinfo, which records the chroot's packages) land beside the tree, as
   they do for `service_build.build_tree`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from debian.changelog import Changelog
from debian.deb822 import Deb822

from .errors import VenvdebError
from .wheelhouse_deb import clamp_mtimes, epoch_of_date

DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY_MIRROR = "http://deb.debian.org/debian-security"


def apt_sources(distribution: str, mirror: str = DEFAULT_MIRROR,
                security_mirror: str = DEFAULT_SECURITY_MIRROR) -> list[str]:
    """The chroot's apt sources: the release, its updates and its security suite, as a Debian
    buildd sees them. They stay in the tarball, so sbuild's dist-upgrade brings in fixes."""
    return [f"deb {mirror} {distribution} main",
            f"deb {mirror} {distribution}-updates main",
            f"deb {security_mirror} {distribution}-security main"]


def chroot_tarball(cache_dir: Path, distribution: str, arch: str = "amd64") -> Path:
    """Where the chroot of a distribution lives: in venvdeb's cache, not ~/.cache/sbuild, so a
    build host's other sbuild chroots are neither used nor touched."""
    return cache_dir / "sbuild" / f"{distribution}-{arch}.tar.zst"


def mmdebstrap_argv(distribution: str, output: Path, arch: str = "amd64",
                    sources: list[str] | None = None) -> list[str]:
    """The mmdebstrap command that writes the chroot tarball sbuild's unshare mode unpacks.

    The buildd variant is what Debian's buildds use: essential packages, apt and
    build-essential; everything else comes from the Build-Depends. The compression (zstd) follows
    from the output's name. The sources are always given: without them mmdebstrap would read
    them from stdin when stdin is not a terminal.
    """
    return ["mmdebstrap", "--variant=buildd", f"--architectures={arch}", "--format=tar",
            distribution, str(output), *(sources if sources is not None else apt_sources(distribution))]


def ensure_chroot(cache_dir: Path, distribution: str, log_file: Path, arch: str = "amd64",
                  sources: list[str] | None = None) -> Path:
    """The chroot tarball, made if it is missing. It is written under a temporary name in the
    same directory and renamed: an interrupted mmdebstrap never leaves a tarball that a later
    build would take for a complete one, and two builds making it at once both end well."""
    tarball = chroot_tarball(cache_dir, distribution, arch)
    if tarball.is_file():
        return tarball
    tarball.parent.mkdir(parents=True, exist_ok=True)
    # mmdebstrap picks the compression from the name's end: the temporary name keeps .tar.zst.
    fd, name = tempfile.mkstemp(dir=tarball.parent, prefix=f".{tarball.name}.", suffix=".tar.zst")
    os.close(fd)
    tmp = Path(name)
    try:
        argv = mmdebstrap_argv(distribution, tmp, arch, sources)
        with log_file.open("a") as log:
            log.write(f"$ {' '.join(argv)}\n")
            log.flush()
            result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        if result.returncode != 0:
            raise VenvdebError(f"mmdebstrap could not make the {distribution} chroot (log: {log_file}):\n"
                               f"{tail(log_file)}", hint="it needs deb.debian.org, and to run as root")
        tmp.chmod(0o644)  # mkstemp's 0600 is not what a cached file should have
        os.replace(tmp, tarball)
    finally:
        tmp.unlink(missing_ok=True)
    return tarball


def package_architectures(control_text: str) -> tuple[bool, bool]:
    """(arch_all, arch_any): whether debian/control declares Architecture: all binary packages,
    and whether it declares any others (any, amd64, linux-any ...)."""
    arch_all = arch_any = False
    for paragraph in Deb822.iter_paragraphs(control_text):
        if "Package" not in paragraph:
            continue  # the source paragraph
        for arch in paragraph.get("Architecture", "").split():
            if arch == "all":
                arch_all = True
            else:
                arch_any = True
    return arch_all, arch_any


def dpkg_source_argv(tree: Path) -> list[str]:
    """Build the source package of a rendered tree, in the current directory.

    The templates declare "3.0 (native)" while the version has a Debian revision (3.4.2-1):
    dpkg-source refuses to build that ("native package version may not have a revision"),
    although dpkg-buildpackage -b on the host never notices. Format 1.0 without an
    .orig.tar.gz is also a native source package and accepts a revision; the tree itself is
    unchanged, and only a binary build is made of it.
    """
    return ["dpkg-source", "--format=1.0", "-b", str(tree)]


def sbuild_argv(dsc: Path, chroot: Path, distribution: str, wheelhouse_deb: Path, build_dir: Path,
                arch_all: bool, arch_any: bool, arch: str = "amd64") -> list[str]:
    """The sbuild command that builds `dsc`'s binary packages in a clean chroot.

    The wheelhouse .deb is passed with --extra-package rather than as a flat repository made
    with dpkg-scanpackages and --extra-repository: in unshare mode the host's filesystem is not
    visible in the chroot, so a file:// repository would also need a bind mount configured in
    sbuild.conf. sbuild copies an extra package into the chroot and indexes it as a trusted
    local archive itself, and apt resolves the exact "(= version)" Build-Depends from it.
    """
    if not (arch_all or arch_any):
        raise VenvdebError(f"{dsc.name}: its debian/control declares no binary package to build")
    return [
        "sbuild",
        "--chroot-mode=unshare",
        f"--chroot={chroot}",  # a path: the tarball itself, not a name looked up in ~/.cache/sbuild
        f"--dist={distribution}",
        f"--arch={arch}",
        # Build what the source declares, explicitly: sbuild's defaults for arch:all differ
        # between versions and configurations, and asking dpkg-buildpackage for arch-dependent
        # packages of a source that has none fails.
        "--arch-all" if arch_all else "--no-arch-all",
        "--arch-any" if arch_any else "--no-arch-any",
        "--no-source",
        f"--extra-package={wheelhouse_deb}",
        # The package is checked by venvdeb's own lint step; these would only double the time.
        "--no-run-lintian",
        "--no-run-piuparts",
        "--no-run-autopkgtest",
        # Everything goes to stdout, which venvdeb writes to its own log file.
        "--nolog",
        f"--build-dir={build_dir}",
        str(dsc),
    ]


def tail(log_file: Path, lines: int = 25) -> str:
    try:
        return "\n".join(log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def sbuild_env() -> dict:
    """The environment of dpkg-source and sbuild.

    sbuild passes only its allowed variables (ENVIRONMENT_FILTER) on to dpkg-buildpackage; VENVDEB_UV
    is removed all the same, so that debian/rules uses pip from the venv, as it must in a chroot
    without uv, whatever sbuild's configuration. MAKEFLAGS (a caller's make jobserver) and
    DEB_BUILD_OPTIONS would pass the filter and make the clean-room build depend on who started it;
    SBUILD_CONFIG would add a configuration file to the one of this host."""
    env = {**os.environ, "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    for key in ("VENVDEB_UV", "SBUILD_CONFIG", "MAKEFLAGS", "DEB_BUILD_OPTIONS"):
        env.pop(key, None)
    return env


def run_logged(argv: list[str], cwd: Path, log_file: Path, what: str) -> None:
    with log_file.open("a") as log:
        log.write(f"$ {' '.join(argv)}\n")
        log.flush()
        result = subprocess.run(argv, cwd=cwd, env=sbuild_env(), stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise VenvdebError(f"{argv[0]} failed for {what} (log: {log_file}):\n{tail(log_file)}")


def build_in_sbuild(tree: Path, wheelhouse_deb: Path, distribution: str, cache_dir: Path,
                    log_file: Path) -> Path:
    """Build a rendered tree with sbuild in a clean chroot; the .deb it wrote beside the tree."""
    tree, wheelhouse_deb = tree.resolve(), wheelhouse_deb.resolve()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text("")
    if not wheelhouse_deb.is_file():
        raise VenvdebError(f"{wheelhouse_deb}: no such wheelhouse package")
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    chroot = ensure_chroot(cache_dir, distribution, log_file, arch)
    arch_all, arch_any = package_architectures((tree / "debian" / "control").read_text())

    # The same clamped mtimes as a host build: the source tarball does not vary with the time
    # the tree was rendered.
    clamp_mtimes(tree, epoch_of_date(Changelog((tree / "debian" / "changelog").read_text()).date))
    work = Path(tempfile.mkdtemp(dir=tree.parent, prefix=".sbuild-"))
    try:
        source_dir, build_dir = work / "source", work / "build"
        source_dir.mkdir()
        build_dir.mkdir()
        run_logged(dpkg_source_argv(tree), source_dir, log_file, tree.name)
        dscs = sorted(source_dir.glob("*.dsc"))
        if len(dscs) != 1:
            raise VenvdebError(f"dpkg-source made {[d.name for d in dscs]} for {tree.name} (log: {log_file})")
        run_logged(sbuild_argv(dscs[0], chroot, distribution, wheelhouse_deb, build_dir, arch_all, arch_any, arch),
                   build_dir, log_file, tree.name)
        # A debug package is not shipped; a source with no stripped binaries has none anyway.
        debs = sorted(p for p in build_dir.glob("*.deb") if "-dbgsym_" not in p.name)
        if len(debs) != 1:
            raise VenvdebError(f"sbuild produced {[d.name for d in debs]}, expected one .deb (log: {log_file})")
        for artifact in [debs[0], *build_dir.glob("*.buildinfo")]:
            os.replace(artifact, tree.parent / artifact.name)
        return tree.parent / debs[0].name
    finally:
        shutil.rmtree(work, ignore_errors=True)
