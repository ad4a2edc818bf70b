"""Debian's piuparts as smoke's install and purge test: as root of the smoke chroot's user
namespace (it mounts /proc and devpts for a chroot of its own there), it passes a package that
cleans up after itself and fails one that leaves a file behind, naming the file."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import write
from venvdeb.environment import images
from venvdeb.gates import piuparts

pytestmark = [pytest.mark.integration, pytest.mark.network]

LITTER = """#!/bin/sh
set -e
mkdir -p /var/lib/litter
echo left > /var/lib/litter/behind
"""


def tiny(tmp_path, name: str, postinst: str | None = None):
    tree = tmp_path / name
    write(tree / "DEBIAN" / "control", f"""
        Package: {name}
        Version: 1.0
        Architecture: all
        Maintainer: Test <test@example.org>
        Depends: python3
        Description: a package for piuparts
         It has a postinst of its own or none.
    """)
    write(tree / "usr" / "share" / "doc" / name / "README", "x\n")
    if postinst:
        write(tree / "DEBIAN" / "postinst", postinst).chmod(0o755)
    deb = tmp_path / f"{name}_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(deb)], check=True, capture_output=True)
    return deb


def test_piuparts_passes_a_clean_package_and_fails_one_that_leaves_a_file(tmp_path, cache_dir):
    image = images.smoke("bookworm", cache_dir)
    results = {}
    with image.tree() as clean:
        for deb in (tiny(tmp_path, "tidy"), tiny(tmp_path, "litter", LITTER)):
            said = []

            def step(name, action, detail=None):
                proc = action()
                output = proc.stdout + proc.stderr
                said.append((name, proc.returncode, detail(output, proc.returncode == 0) if detail else output))
                return proc.returncode == 0

            with images.with_piuparts(image).fresh(egress=image.mirrors()) as ch:
                piuparts.test(ch, clean, deb, "bookworm", {}, step)
            results[deb.name] = said
    tidy, litter = results["tidy_1.0_all.deb"], results["litter_1.0_all.deb"]
    assert [(name, code) for name, code, _ in tidy] == [("piuparts' base: the clean chroot, copied", 0),
                                                        (piuparts.CHECK, 0)], tidy
    assert "PASS: Installation and purging test." in tidy[-1][2]
    name, code, detail = litter[-1]
    assert name == piuparts.CHECK and code != 0
    assert "/var/lib/litter/behind" in detail and "FAIL" in detail, detail
