"""This host as an environment: commands run as they are, with the host's variables."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path

from .base import Environment, without

OS_RELEASE = Path("/etc/os-release")


def codename(os_release: Path = OS_RELEASE) -> str:
    """VERSION_CODENAME of /etc/os-release (bookworm, trixie); empty when it has none."""
    try:
        lines = os_release.read_text().splitlines()
    except FileNotFoundError:
        return ""
    for line in lines:
        key, _, value = line.partition("=")
        if key == "VERSION_CODENAME":
            return value.strip().strip('"')
    return ""


class Host(Environment):
    """This machine. Nothing upstream runs here (builds run in chroots, for_build): it runs
    venvdeb's own tools (mmdebstrap, sbuild, reprepro, lintian) and tests' builds of trees
    venvdeb rendered."""

    def __init__(self, scratch: Path | None = None):
        self.scratch = Path(scratch or tempfile.gettempdir())

    @cached_property
    def distribution(self) -> str:  # type: ignore[override]
        return codename()

    def variables(self, setenv: Mapping[str, str] | None, unset: Iterable[str]) -> dict[str, str]:
        return {**without(os.environ, unset), **(setenv or {})}

    def command(self, argv, variables, cwd, offline=False):
        return (["unshare", "--net", "--", *argv] if offline else argv), variables, cwd

    def path(self, inside) -> Path:
        return Path(inside)

    def stage(self, path) -> str:
        return str(Path(path).resolve())

    def describe(self) -> str:
        return f"this host ({self.distribution or 'unknown distribution'})"
