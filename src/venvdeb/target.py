"""The target interpreter, and the build environment made from it.

Wheels are chosen and built for the distribution's own interpreter (``/usr/bin/python3`` on
Debian), never for whatever ``python3`` happens to be first on PATH. Debian's pip in a fresh venv
(23.0.1 on bookworm, without ``wheel``) fails legacy sdist builds, so the build environment
upgrades it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import VenvdebError

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


def clean_pip_env(extra: dict | None = None) -> dict:
    """An environment where pip reads no machine-wide configuration.

    Site pip.conf files and PIP_* variables (find-links, extra indexes, constraints) would
    make builds depend on the machine they run on.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if extra:
        env.update(extra)
    return env


@dataclass(frozen=True)
class Target:
    python: str
    markers: dict
    tags: tuple[str, ...]
    interpreter: str  # e.g. cp311
    version: str  # e.g. 3.11.2
    platform: str
    env_dir: Path

    @property
    def bin(self) -> Path:
        return self.env_dir / "bin"

    @property
    def env_python(self) -> str:
        return str(self.bin / "python")

    def tag_rank(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tags)}


def venv_argv(python: str, env_dir: Path) -> list[str]:
    return [python, "-m", "venv", str(env_dir)]


def bootstrap_argv(env_dir: Path) -> list[str]:
    return [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--upgrade",
            "pip", "packaging", "setuptools", "wheel", "build"]


def _identity(python: str) -> str:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(sys.version); print(sys.executable)"],
            capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise VenvdebError(
            f"target interpreter {python} does not run: {exc}",
            hint="install the distribution's python3 (apt-get install python3 python3-venv) or fix 'python' in the release",
        ) from None
    return hashlib.sha256(out.encode()).hexdigest()[:16]


def prepare(python: str, cache_dir: Path, log=print) -> Target:
    """Create (once) the build environment for ``python`` and probe it."""
    env_dir = Path(cache_dir) / "buildenv" / _identity(python)
    done = env_dir / "probe.json"
    if not done.is_file():
        if env_dir.exists():
            shutil.rmtree(env_dir)  # left half-made by an interrupted run
        log(f"build environment: creating {env_dir} from {python}")
        for argv in (venv_argv(python, env_dir), bootstrap_argv(env_dir)):
            result = subprocess.run(argv, capture_output=True, text=True, env=clean_pip_env())
            if result.returncode != 0:
                shutil.rmtree(env_dir, ignore_errors=True)
                raise VenvdebError(
                    f"could not create the build environment with {python}: {' '.join(argv)} failed:\n{result.stderr[-2000:]}",
                    hint="apt-get install python3-venv, and check that PyPI is reachable",
                )
        probe = subprocess.run([str(env_dir / "bin" / "python"), "-c", PROBE],
                               capture_output=True, text=True, check=True).stdout
        tmp = done.with_suffix(".tmp")
        tmp.write_text(probe)
        os.replace(tmp, done)
    data = json.loads(done.read_text())
    return Target(
        python=python, markers=data["markers"], tags=tuple(data["tags"]),
        interpreter=data["interpreter"], version=data["version"], platform=data["platform"],
        env_dir=env_dir,
    )
