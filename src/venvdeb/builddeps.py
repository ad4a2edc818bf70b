"""The release's Debian build-dependencies: checked with dpkg-query, installed with apt-get."""

from __future__ import annotations

import os
import subprocess

from .errors import VenvdebError


def query_argv(packages: list[str]) -> list[str]:
    return ["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n", *packages]


def install_argv(packages: list[str]) -> list[str]:
    return ["apt-get", "install", "--yes", "--no-install-recommends", *packages]


def missing(packages: list[str]) -> list[str]:
    if not packages:
        return []
    result = subprocess.run(query_argv(packages), capture_output=True, text=True)
    installed = {line.split()[0] for line in result.stdout.splitlines()
                 if line.split()[1:] == ["installed"]}
    return [p for p in packages if p not in installed]


def ensure(packages: list[str], install: bool, where: str, log=print) -> None:
    absent = missing(list(packages))
    if not absent:
        return
    if not install:
        raise VenvdebError(
            f"{where}: build_depends not installed: {', '.join(absent)}",
            hint=f"run 'apt-get install {' '.join(absent)}', or pass --install-build-deps",
        )
    log(f"installing build-dependencies: {' '.join(absent)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(install_argv(absent), capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise VenvdebError(
            f"{where}: apt-get could not install {', '.join(absent)}:\n{result.stderr[-1500:]}",
            hint="check the package names for this distribution, and run apt-get update",
        )
