"""A release's build lock: what builds its sdists and git checkouts into wheels.

Each wheel built from source is built in an environment of its own, made from the build lock
alone (pip, setuptools, wheel, build and every build requirement the release's sdists declare,
pinned with hashes, from wheels only), with pip's build isolation off: pip then fetches nothing
while the upstream code builds, and ``--check-build-dependencies`` names a build requirement the
lock lacks instead of fetching it.

``venvdeb lock`` writes the lock's input (``<lock>.in``) from the release's sdists, as each one's
``pyproject.toml`` declares its build requirements (read from the archive as data: nothing of it
runs on the host), and compiles it with pip-compile in a build chroot.
"""

from __future__ import annotations

import hashlib
import re
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from ..errors import VenvdebError
from .release import Point

# What every build environment holds, whatever the sdists declare. setuptools stays below 81: old
# setup.py files (horizon's XStatic sdists) import pkg_resources, which setuptools 81 removed
# (OpenStack's stable branches cap it as a build constraint for the same reason).
BASE = {
    "build": "the build frontend",
    "pip": "installs the lock and runs each build",
    "setuptools<81": "the legacy backend; old setup.py files import pkg_resources, gone in 81",
    "wheel": "bdist_wheel, for setuptools' older backends",
}
# An sdist without [build-system] gets setuptools' legacy backend, with this requirement (PEP 518).
LEGACY_REQUIRES = ("setuptools>=40.8.0",)

# pip's words, with --no-build-isolation --check-build-dependencies, for a build requirement the
# environment lacks or holds at another version.
MISSING = re.compile(r"Some build dependencies for (?P<who>.+?) (?:are missing|conflict with the backend "
                     r"dependencies): (?P<what>.+?)\.?\s*$", re.M)


@dataclass(frozen=True)
class BuildLock:
    """A release's build lock, as the host read it."""

    path: Path
    label: str  # its path within the packaging root, as manifests record it
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def pins(self) -> list[str]:
        return sorted(line.split()[0] for line in self.text.splitlines()
                      if line and not line[0].isspace() and not line.startswith("#") and "==" in line)

    def record(self) -> dict:
        """What a wheelhouse's manifest records of the toolchain its wheels were built with."""
        return {"lock": self.label, "sha256": self.sha256, "pins": self.pins}


def of(point: Point) -> BuildLock:
    """The point's build lock; a clear error if the release has none, or it was never compiled."""
    c = point.constraints
    fix = f"run 'venvdeb lock {point.name} --build-only' and commit the result"
    if c.build_lock is None:
        raise VenvdebError(
            f"{point.path}: key 'constraints.build_lock': release {point.name} builds wheels from source, "
            "and has no build lock to build them with",
            hint=f"set build_lock = \"locks/{point.name}-build.txt\" in [constraints], then {fix}")
    try:
        text = c.build_lock.read_text()
    except FileNotFoundError:
        raise VenvdebError(f"{point.path}: key 'constraints.build_lock': {c.build_lock} does not exist",
                           hint=fix) from None
    try:
        label = str(c.build_lock.relative_to(point.root))
    except ValueError:
        label = c.build_lock.name
    return BuildLock(c.build_lock, label, text)


def missing(point: Point, log: str, who: str) -> tuple[str, str] | None:
    """If pip refused to build ``who`` (an sdist's name, a checkout) for a build requirement the
    lock lacks or holds at another version: (what is missing, the fix)."""
    found = MISSING.search(log)
    if not found:
        return None
    lock = point.constraints.build_lock
    return (f"build requirement {found['what']} of {who} is not in the build lock {lock}",
            f"run 'venvdeb lock {point.name} --build-only' (it reads each sdist's declared build requirements); "
            f"a requirement the sdist asks for only as it builds goes in constraints.build_requires of "
            f"{point.path} first")


# -- what the sdists declare ----------------------------------------------------------------------

def declared(sdist: Path) -> list[str]:
    """The build requirements an sdist declares in its pyproject.toml (PEP 518), read from the
    archive as data."""
    return from_pyproject(_pyproject(sdist), sdist.name)


def from_pyproject(data: bytes | None, where: str) -> list[str]:
    """The build requirements a pyproject.toml declares; without one, or without its
    [build-system], those of setuptools' legacy backend."""
    if data is None:
        return list(LEGACY_REQUIRES)
    try:
        system = tomllib.loads(data.decode()).get("build-system", {})
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise VenvdebError(f"{where}: pyproject.toml cannot be read: {exc}") from None
    requires = system.get("requires", list(LEGACY_REQUIRES)) if isinstance(system, dict) else None
    if not isinstance(requires, list):
        raise VenvdebError(f"{where}: pyproject.toml: build-system.requires is not a list")
    good = []
    for item in requires:
        try:
            good.append(str(Requirement(item)))
        except (InvalidRequirement, TypeError):
            raise VenvdebError(f"{where}: pyproject.toml: build-system.requires has {item!r}, "
                               "which is not a requirement") from None
    return good


def _pyproject(sdist: Path) -> bytes | None:
    """The sdist's top-level pyproject.toml (``<name>-<version>/pyproject.toml``), if it has one."""
    if sdist.name.endswith(".zip"):
        with zipfile.ZipFile(sdist) as z:
            names = [n for n in z.namelist() if n.count("/") == 1 and n.endswith("/pyproject.toml")]
            return z.read(names[0]) if names else None
    with tarfile.open(sdist) as tar:
        for member in tar:
            if member.isfile() and member.name.count("/") == 1 and member.name.endswith("/pyproject.toml"):
                return tar.extractfile(member).read()
    return None


def requirements_in(point: Point, wanted: dict[str, set[str]]) -> str:
    """The build lock's pip-tools input: the base, what each sdist (or checkout) declares, with
    who asks, and the release's own constraints.build_requires."""
    lines = [f"# The build toolchain of release {point.name}: generated by 'venvdeb lock', do not edit."]
    lines += [f"{req}  # {why}" for req, why in BASE.items()]
    asked = {req: set(who) for req, who in wanted.items()}
    for req in point.constraints.build_requires:
        asked.setdefault(req, set()).add(f"{point.path.name}: constraints.build_requires")
    lines += [f"{req}  # {', '.join(sorted(who))}" for req, who in sorted(asked.items()) if req not in BASE]
    return "\n".join(lines) + "\n"
