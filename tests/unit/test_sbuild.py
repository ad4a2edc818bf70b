"""The commands of a clean-room build: mmdebstrap's chroot, dpkg-source, sbuild (no command is run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from venvdeb.errors import VenvdebError
from venvdeb.environment.images import apt_sources, buildd, mmdebstrap_argv
from venvdeb.service.sbuild import dpkg_source_argv, package_architectures, sbuild_argv

CONTROL = """\
Source: venv-svc
Build-Depends: debhelper-compat (= 13), dh-virtualenv (>= 1.2), python3-venv, test-wheelhouse-s1 (= 1)

Package: venv-svc
Architecture: {arch}
Description: x
"""


def test_chroot_tarball_lives_in_the_cache():
    assert buildd("bookworm", Path("/c")).path == Path("/c/sbuild/bookworm-amd64.tar.zst")
    assert buildd("trixie", Path("/c"), "arm64").path == Path("/c/sbuild/trixie-arm64.tar.zst")


def test_mmdebstrap_argv():
    argv = mmdebstrap_argv("bookworm", Path("/c/sbuild/.tmp.tar.zst"))
    assert argv[0] == "mmdebstrap"
    assert "--variant=buildd" in argv and "--architectures=amd64" in argv
    # Suite, then output, then the sources: never read from stdin.
    i = argv.index("bookworm")
    assert argv[i + 1] == "/c/sbuild/.tmp.tar.zst"
    assert argv[i + 2:] == ["deb http://deb.debian.org/debian bookworm main",
                            "deb http://deb.debian.org/debian bookworm-updates main",
                            "deb http://deb.debian.org/debian-security bookworm-security main"]
    assert all(isinstance(a, str) for a in argv)


def test_mmdebstrap_argv_other_sources():
    sources = apt_sources("bookworm", mirror="http://mirror.example/debian")
    argv = mmdebstrap_argv("bookworm", Path("/o.tar.zst"), arch="arm64", sources=sources[:1])
    assert "--architectures=arm64" in argv
    assert argv[-1] == "deb http://mirror.example/debian bookworm main"


@pytest.mark.parametrize("arch, expected", [
    ("all", (True, False)),
    ("any", (False, True)),
    ("amd64 arm64", (False, True)),
    ("linux-any", (False, True)),
])
def test_package_architectures(arch, expected):
    assert package_architectures(CONTROL.format(arch=arch)) == expected


def test_package_architectures_of_several_packages():
    text = CONTROL.format(arch="all") + "\nPackage: venv-svc-ext\nArchitecture: any\nDescription: y\n"
    assert package_architectures(text) == (True, True)
    # The source paragraph's fields are not a binary package's.
    assert package_architectures("Source: x\nArchitecture: any\n") == (False, False)


def test_dpkg_source_argv_builds_a_native_source_with_a_revision():
    # "3.0 (native)" refuses the version 3.4.2-1; format 1.0 without an orig tarball accepts it.
    assert dpkg_source_argv(Path("/w/venv-svc-3.4.2")) == ["dpkg-source", "--format=1.0", "-b", "/w/venv-svc-3.4.2"]


def argv_for(arch_all=True, arch_any=False, **kw):
    return sbuild_argv(Path("/w/src/venv-svc_3.4.2-1.dsc"), Path("/c/sbuild/bookworm-amd64.tar.zst"), "bookworm",
                       Path("/out/s1/test-wheelhouse-s1_1_all.deb"), Path("/w/build"), arch_all, arch_any, **kw)


def test_sbuild_argv_arch_all_package():
    argv = argv_for(arch_all=True, arch_any=False)
    assert argv[0] == "sbuild" and argv[-1] == "/w/src/venv-svc_3.4.2-1.dsc"
    assert all(isinstance(a, str) for a in argv)
    for flag in ("--chroot-mode=unshare", "--chroot=/c/sbuild/bookworm-amd64.tar.zst", "--dist=bookworm",
                 "--arch=amd64", "--arch-all", "--no-arch-any", "--no-source",
                 "--extra-package=/out/s1/test-wheelhouse-s1_1_all.deb",
                 "--no-run-lintian", "--no-run-piuparts", "--no-run-autopkgtest",
                 "--nolog", "--build-dir=/w/build"):
        assert flag in argv, flag
    assert "--arch-any" not in argv and "--no-arch-all" not in argv


def test_sbuild_argv_arch_any_package():
    argv = argv_for(arch_all=False, arch_any=True)
    assert "--arch-any" in argv and "--no-arch-all" in argv
    assert "--no-arch-any" not in argv and "--arch-all" not in argv


def test_sbuild_argv_both():
    argv = argv_for(arch_all=True, arch_any=True, arch="arm64")
    assert "--arch-any" in argv and "--arch-all" in argv and "--arch=arm64" in argv


def test_sbuild_argv_nothing_to_build():
    with pytest.raises(VenvdebError, match="no binary package"):
        argv_for(arch_all=False, arch_any=False)


def test_sbuild_argv_has_no_host_repository():
    # The wheelhouse comes in as an extra package, not as a repository the chroot cannot see.
    argv = argv_for()
    assert not [a for a in argv if a.startswith("--extra-repository")]
    assert [a for a in argv if a.startswith("--extra-package")] == ["--extra-package=/out/s1/test-wheelhouse-s1_1_all.deb"]
