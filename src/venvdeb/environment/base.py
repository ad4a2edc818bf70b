"""The one interface for where a command runs: this host, or a clean chroot of a distribution.

Every stage that runs a tool asks an environment to run it, instead of knowing how chroots are
entered: the wheelhouse build (the target's interpreter, sdist builds, dpkg-buildpackage), the
service build (installing the wheelhouse, dpkg-buildpackage) and smoke (apt and the service).
debusine's executors have this shape.

Commands are argv lists. The environment a command sees is the environment's own base (the
host's variables on the host; a small clean set in a chroot) with ``setenv`` added and the names
in ``unset`` removed (a name ending in ``*`` removes every variable with that prefix).
"""

from __future__ import annotations

import subprocess
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import IO

from ..errors import ToolError, VenvdebError


def without(variables: Mapping[str, str], unset: Iterable[str]) -> dict[str, str]:
    names = {u for u in unset if not u.endswith("*")}
    prefixes = tuple(u[:-1] for u in unset if u.endswith("*"))
    return {k: v for k, v in variables.items() if k not in names and not (prefixes and k.startswith(prefixes))}


# Debian's default umask for every command venvdeb runs, whatever its caller's: a Buildbot master
# runs with 077, and then what apt writes in a chroot (its lists, the files it fetches as _apt)
# or a build writes would be unreadable to the users that need it.
COMMAND_UMASK = 0o022


class Environment(ABC):
    distribution: str  # the Debian codename whose tools and interpreter run the commands
    default_timeout: float | None = None
    scratch: Path  # where its commands may write, seen at the same path by the host: a build's work

    @abstractmethod
    def command(self, argv: list[str], variables: dict[str, str], cwd: str | None,
                offline: bool = False) -> tuple[list[str], dict | None, str | None]:
        """What to run on the host for ``argv``: (argv, the host process's environment, its cwd);
        ``offline``: in a network namespace of its own with nothing in it."""

    @abstractmethod
    def variables(self, setenv: Mapping[str, str] | None, unset: Iterable[str]) -> dict[str, str]:
        """The variables a command run here sees."""

    @abstractmethod
    def path(self, inside: str | Path) -> Path:
        """Where a path of this environment is on the host."""

    @abstractmethod
    def stage(self, path: Path) -> str:
        """Make a host file visible here (a .deb to install); its path here."""

    @abstractmethod
    def describe(self) -> str: ...

    def run(self, argv: list[str], *, cwd: str | Path | None = None, setenv: Mapping[str, str] | None = None,
            unset: Iterable[str] = (), timeout: float | None = None, log: IO | None = None,
            check: bool = False, offline: bool = False) -> subprocess.CompletedProcess:
        """Run ``argv`` here. Output is captured as text, or written to ``log`` (stdout and stderr
        together) when given. ``check`` turns a failure into a VenvdebError with the output's tail.
        ``offline``: no network at all (a package's build: ``debian/rules`` needs only the wheelhouse)."""
        host_argv, env, host_cwd = self.command([str(a) for a in argv], self.variables(setenv, unset),
                                                str(cwd) if cwd is not None else None, offline)
        output = {"stdout": log, "stderr": subprocess.STDOUT} if log is not None else {"capture_output": True}
        try:
            proc = subprocess.run(host_argv, env=env, cwd=host_cwd, stdin=subprocess.DEVNULL, text=True,
                                  timeout=timeout if timeout is not None else self.default_timeout,
                                  umask=COMMAND_UMASK, **output)
        except FileNotFoundError as exc:
            if host_cwd is not None and not Path(host_cwd).is_dir():
                raise ToolError(f"{self.describe()}: cannot run {argv[0]} in {cwd}: no such directory") from None
            raise VenvdebError(f"{self.describe()}: {argv[0]} is not installed ({exc.strerror})",
                               hint="make setup installs the tools venvdeb runs") from None
        if check and proc.returncode != 0:
            said = "" if log is not None else (proc.stdout + proc.stderr)[-2000:]
            raise ToolError(f"{self.describe()}: {' '.join(argv)} failed ({proc.returncode}):\n{said}")
        return proc

    def write(self, path: str | Path, data: bytes | str, mode: int = 0o644) -> Path:
        dest = self.path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data.encode() if isinstance(data, str) else data)
        dest.chmod(mode)
        return dest

    def exists(self, path: str | Path) -> bool:
        return self.path(path).exists()

    @cached_property
    def architecture(self) -> str:
        """dpkg's architecture here (amd64, arm64, ...): what arch:any packages are built for."""
        return self.run(["dpkg", "--print-architecture"], check=True).stdout.strip()
