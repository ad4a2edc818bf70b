"""The target interpreter of an environment, and the build environment made from it.

Wheels are chosen and built for the distribution's own interpreter (``/usr/bin/python3`` on
Debian), never for whatever ``python3`` happens to be first on PATH. Debian's pip in a fresh venv
(23.0.1 on bookworm, without ``wheel``) fails legacy sdist builds, so the build environment
upgrades it. The build environment lives in the cache, which the environment sees at the same
path as the host does.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import ToolError, VenvdebError
from .base import Environment

# Wheels built from source (sdists, git checkouts) get fixed timestamps, so a rebuild gives the
# same archive: 1980-01-01, the earliest time a zip can hold.
BUILD_EPOCH = "315532800"

# Asked of the target interpreter itself, inside its build environment.
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
    env_dir: Path
    environment: Environment

    @property
    def bin(self) -> Path:
        return self.env_dir / "bin"

    @property
    def env_python(self) -> str:
        return str(self.bin / "python")

    def tag_rank(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tags)}

    def pip_run(self, argv: list[str], extra: dict | None = None, **kwargs):
        """Run a command of the build environment with pip's configuration cleared."""
        return self.environment.run(argv, setenv=pip_variables(extra), unset=PIP_UNSET, **kwargs)


def venv_argv(python: str, env_dir: Path) -> list[str]:
    return [python, "-m", "venv", str(env_dir)]


def bootstrap_argv(env_dir: Path) -> list[str]:
    return [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--upgrade",
            "pip", "packaging", "setuptools", "wheel", "build"]


def _identity(environment: Environment, python: str) -> str:
    try:
        proc = environment.run([python, "-c", "import sys; print(sys.version); print(sys.executable)"])
        problem = None if proc.returncode == 0 else (proc.stderr.strip()[-500:] or f"exit status {proc.returncode}")
    except VenvdebError as exc:
        problem = exc.message
    if problem is not None:
        raise VenvdebError(
            f"target interpreter {python} does not run in {environment.describe()}: {problem}",
            hint="install the distribution's python3 (apt-get install python3 python3-venv) or fix 'python' in the release",
        )
    return hashlib.sha256(proc.stdout.encode()).hexdigest()[:16]


def prepare(environment: Environment, python: str, cache_dir: Path, log=print) -> Target:
    """Create (once) the build environment for ``python`` in ``environment``, and probe it."""
    env_dir = Path(cache_dir) / "buildenv" / _identity(environment, python)
    done = env_dir / "probe.json"
    if not done.is_file():
        if env_dir.exists():
            shutil.rmtree(env_dir)  # left half-made by an interrupted run
        log(f"build environment: creating {env_dir} from {python}")
        for argv in (venv_argv(python, env_dir), bootstrap_argv(env_dir)):
            result = environment.run(argv, setenv=pip_variables(), unset=PIP_UNSET)
            if result.returncode != 0:
                shutil.rmtree(env_dir, ignore_errors=True)
                raise ToolError(
                    f"could not create the build environment with {python}: {' '.join(argv)} failed:\n{result.stderr[-2000:]}",
                    hint="apt-get install python3-venv, and check that PyPI is reachable",
                )
        probe = environment.run([str(env_dir / "bin" / "python"), "-c", PROBE], check=True).stdout
        tmp = done.with_suffix(".tmp")
        tmp.write_text(probe)
        os.replace(tmp, done)
    data = json.loads(done.read_text())
    return Target(
        python=python, markers=data["markers"], tags=tuple(data["tags"]),
        interpreter=data["interpreter"], version=data["version"], platform=data["platform"],
        env_dir=env_dir, environment=environment,
    )
