"""Clean-room builds: the same rendered source, built by sbuild in a fresh chroot of its distribution.

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
   they do for `build.build_tree`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from debian.deb822 import Deb822

from .. import deb
from ..environment import Host, images
from ..errors import Rejected, VenvdebError
from ..progress import activity, tail


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


# sbuild passes only its allowed variables (ENVIRONMENT_FILTER) on to dpkg-buildpackage; VENVDEB_UV
# is removed all the same, so that debian/rules uses pip from the venv, as it must in a chroot
# without uv, whatever sbuild's configuration. MAKEFLAGS (a caller's make jobserver) and
# DEB_BUILD_OPTIONS would pass the filter and make the clean-room build depend on who started it;
# SBUILD_CONFIG would add a configuration file to the one of this host.
SBUILD_UNSET = ("VENVDEB_UV", "SBUILD_CONFIG", "MAKEFLAGS", "DEB_BUILD_OPTIONS")
SBUILD_VARIABLES = {"LC_ALL": "C.UTF-8", "TZ": "UTC"}


def run_logged(host: Host, argv: list[str], cwd: Path, log_file: Path, what: str) -> None:
    with log_file.open("a") as log:
        log.write(f"$ {' '.join(argv)}\n")
        log.flush()
        result = host.run(argv, cwd=cwd, setenv=SBUILD_VARIABLES, unset=SBUILD_UNSET, log=log)
    if result.returncode != 0:
        raise Rejected(f"{argv[0]} failed for {what} (log: {log_file}):\n{tail(log_file)}")


def build_in_sbuild(tree: Path, wheelhouse_deb: Path, distribution: str, cache_dir: Path,
                    log_file: Path) -> Path:
    """Build a rendered tree with sbuild in a clean chroot; the .deb it wrote beside the tree."""
    tree, wheelhouse_deb = tree.resolve(), wheelhouse_deb.resolve()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text("")
    if not wheelhouse_deb.is_file():
        raise VenvdebError(f"{wheelhouse_deb}: no such wheelhouse package")
    host = Host()  # sbuild makes its own chroot of the distribution
    arch = host.architecture
    chroot = images.buildd(distribution, cache_dir, arch).ensure(log=lambda m: None, log_file=log_file)
    arch_all, arch_any = package_architectures((tree / "debian" / "control").read_text())

    # The same clamped mtimes as a host build: the source tarball does not vary with the time
    # the tree was rendered.
    deb.clamp_mtimes(tree, deb.changelog_epoch(tree))
    work = Path(tempfile.mkdtemp(dir=tree.parent, prefix=".sbuild-"))
    try:
        source_dir, build_dir = work / "source", work / "build"
        source_dir.mkdir()
        build_dir.mkdir()
        with activity(f"{deb.package_version(tree)}: sbuild", log_file):
            run_logged(host, dpkg_source_argv(tree), source_dir, log_file, tree.name)
            dscs = sorted(source_dir.glob("*.dsc"))
            if len(dscs) != 1:
                raise VenvdebError(f"dpkg-source made {[d.name for d in dscs]} for {tree.name} (log: {log_file})")
            run_logged(host, sbuild_argv(dscs[0], chroot, distribution, wheelhouse_deb, build_dir, arch_all,
                                         arch_any, arch), build_dir, log_file, tree.name)
            # A debug package is not shipped; a source with no stripped binaries has none anyway.
            debs = sorted(p for p in build_dir.glob("*.deb") if "-dbgsym_" not in p.name)
            if len(debs) != 1:
                raise VenvdebError(f"sbuild produced {[d.name for d in debs]}, expected one .deb (log: {log_file})")
        for artifact in [debs[0], *build_dir.glob("*.buildinfo")]:
            os.replace(artifact, tree.parent / artifact.name)
        return tree.parent / debs[0].name
    finally:
        shutil.rmtree(work, ignore_errors=True)
