"""The target interpreter of an environment, and the build environment made from it.

Wheels are chosen and built for the distribution's own interpreter (``/usr/bin/python3`` on
Debian), never for whatever ``python3`` happens to be first on PATH. It is probed as it is, with
the distribution's own ``packaging`` (python3-packaging, in every build image), isolated (-I).

Two kinds of environment are made of it, in the environment's scratch directory, each from a
lock of versions and hashes installed from wheels only; never the host runs anything from them,
and they go with the chroot:

- the toolchain (toolchain.txt: pip-tools and what it needs), which compiles locks;
- a build's own environment, made for each wheel built from source from the release's build
  lock alone (model/build_lock.py), in which pip builds with its isolation off.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ToolError, VenvdebError
from .base import Environment

TOOLCHAIN = Path(__file__).with_name("toolchain.txt")


# Wheels built from source (sdists, git checkouts) get fixed timestamps, so a rebuild gives the
# same archive: 1980-01-01, the earliest time a zip can hold.
BUILD_EPOCH = "315532800"

# Asked of the target interpreter itself, with the distribution's own packaging module.
PROBE = """
import json, sys, sysconfig
from packaging import markers, tags
print(json.dumps({
    "markers": markers.default_environment(),
    "tags": [str(t) for t in tags.sys_tags()],
    "interpreter": tags.interpreter_name() + tags.interpreter_version(),
    "version": "%d.%d.%d" % sys.version_info[:3],
    "platform": sysconfig.get_platform(),
}))
"""

# Site pip.conf files and PIP_* variables (find-links, extra indexes, constraints) would make
# builds depend on the machine they run on.
PIP_UNSET = ("PIP_*",)


def pip_variables(extra: dict | None = None) -> dict:
    """Variables under which pip reads no machine-wide configuration (with PIP_UNSET)."""
    return {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1",
            **(extra or {})}


@dataclass(frozen=True)
class Target:
    python: str
    markers: dict
    tags: tuple[str, ...]
    interpreter: str  # e.g. cp311
    version: str  # e.g. 3.11.2
    platform: str
    environment: Environment
    log: Callable[[str], None] = field(default=lambda message: print(message, file=sys.stderr), repr=False,
                                       compare=False)
    _made: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def env_dir(self) -> Path:
        return Path(self.environment.scratch) / "buildenv"

    @property
    def bin(self) -> Path:
        return self.env_dir / "bin"

    def build_environment(self) -> Path:
        """The toolchain's environment (pip-tools, for locks), made once, when first asked for."""
        with self._made:
            if not (self.env_dir / "made").is_file():
                make_build_environment(self.environment, self.python, self.env_dir, self.log)
        return self.env_dir

    def tag_rank(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tags)}

    def pip_run(self, argv: list[str], extra: dict | None = None, **kwargs):
        """Run a command of the build environment with pip's configuration cleared."""
        return self.environment.run(argv, setenv=pip_variables(extra), unset=PIP_UNSET, **kwargs)


def venv_argv(python: str, env_dir: Path) -> list[str]:
    return [python, "-m", "venv", str(env_dir)]


def toolchain_argv(env_dir: Path, toolchain: str) -> list[str]:
    """The pinned toolchain, verified by hash, from wheels only: installing it runs no code of it."""
    return [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--require-hashes",
            "--only-binary", ":all:", "--no-deps", "-r", toolchain]


def install_argv(env_dir: Path, lock: str) -> list[str]:
    """The build lock into a build's environment: verified by hash, from wheels only."""
    return [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--require-hashes",
            "--only-binary", ":all:", "--no-deps", "-r", lock]


def wheel_argv(env_dir: Path, source: Path, out_dir: Path) -> list[str]:
    return [str(env_dir / "bin" / "python"), "-m", "pip", "wheel", "--no-deps", "--no-cache-dir",
            "--no-build-isolation", "--check-build-dependencies", "--wheel-dir", str(out_dir), str(source)]


def build_wheel(target: Target, lock: str, label: str, source: Path, work: Path, env: dict,
                timeout: int = 1800) -> tuple[int, str, Path]:
    """Build ``source`` (an sdist, or a checkout) under ``work``, the build's own directory, in a
    fresh environment made from the build lock ``lock`` (its text; ``label`` names it): (pip's
    exit status, its output, the directory the wheel is in)."""
    env_dir, out, staged = work / "env", work / "out", work / "build-lock.txt"
    # Written afresh for each build, in its directory ("x": never through a link planted there).
    with open(staged, "x") as f:
        f.write(lock)
    log = ""
    for argv in (venv_argv(target.python, env_dir), install_argv(env_dir, str(staged))):
        result = target.environment.run(argv, setenv=pip_variables(), unset=PIP_UNSET, timeout=timeout)
        log += f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}"
        if result.returncode != 0:
            return result.returncode, log + f"\nthe build environment could not be made from {label}\n", out
    argv = wheel_argv(env_dir, source, out)
    try:
        result = target.environment.run(argv, setenv=pip_variables(env), unset=PIP_UNSET, cwd=work,
                                        timeout=timeout)
        return result.returncode, log + f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}", out
    except subprocess.TimeoutExpired as exc:
        return -1, f"{log}{exc.stdout or ''}{exc.stderr or ''}\ntimed out after {timeout}s", out


def make_build_environment(environment: Environment, python: str, env_dir: Path, log) -> None:
    log(f"build environment: {env_dir}, from {python} and the pinned toolchain")
    toolchain = environment.stage(TOOLCHAIN)
    for argv in (venv_argv(python, env_dir), toolchain_argv(env_dir, toolchain)):
        result = environment.run(argv, setenv=pip_variables(), unset=PIP_UNSET)
        if result.returncode != 0:
            raise ToolError(
                f"could not make the build environment with {python}: {' '.join(argv)} failed:\n{result.stderr[-2000:]}",
                hint="check that the package index is reachable (the toolchain's wheels come from it)",
            )
    environment.write(env_dir / "made", b"")


def prepare(environment: Environment, python: str, cache_dir: Path | None = None, log=None) -> Target:
    """The target interpreter of ``environment``, probed (its build environment is made when a
    build first needs it). ``cache_dir`` is no longer used: nothing of a target is kept."""
    try:
        proc = environment.run([python, "-I", "-c", PROBE])
        problem = None if proc.returncode == 0 else (proc.stderr.strip()[-500:] or f"exit status {proc.returncode}")
    except VenvdebError as exc:
        problem = exc.message
    if problem is not None:
        raise VenvdebError(
            f"target interpreter {python} does not run in {environment.describe()}: {problem}",
            hint="install the distribution's python3 and python3-packaging, or fix 'python' in the release",
        )
    data = json.loads(proc.stdout)
    return Target(python=python, markers=data["markers"], tags=tuple(data["tags"]), interpreter=data["interpreter"],
                  version=data["version"], platform=data["platform"], environment=environment,
                  **({"log": log} if log else {}))
