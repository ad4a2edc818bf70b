"""Building sdists into wheels with PEP 517, in the target's build environment."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from pathlib import Path

from ..environment import Target
from ..environment.python import BUILD_EPOCH
from ..errors import ProviderFailure
from ..progress import activity
from . import hints

LEGACY_SETUPTOOLS_SIGN = "No module named 'pkg_resources'"
# The last setuptools with pkg_resources, which old setup.py files import.
LEGACY_SETUPTOOLS = "setuptools<81"


def build_argv(target: Target, sdist: Path, out_dir: Path) -> list[str]:
    return [target.env_python, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir",
            "--wheel-dir", str(out_dir), str(sdist)]


class SdistBuilder:
    def __init__(self, target: Target, log_dir: Path, jobs: int | None = None, timeout: int = 1800):
        self.target = target
        self.log_dir = Path(log_dir)
        self.timeout = timeout
        self._slots = threading.Semaphore(jobs or os.cpu_count() or 1)

    def build(self, name: str, version: str, sdist: Path, work: Path) -> Path:
        """Build ``sdist``; return the wheel under ``work``. Raises ProviderFailure with a hint."""
        out = Path(tempfile.mkdtemp(dir=work, prefix=f"build-{name}-"))
        argv = build_argv(self.target, sdist, out)
        env = {"SOURCE_DATE_EPOCH": BUILD_EPOCH, "MAKEFLAGS": "-j1"}
        log_file = self.log_dir / f"{name}-{version}.log"
        # Shown from when it has a slot: builds waiting for one are not running.
        with self._slots, activity(f"pip wheel {sdist.name}", log_file):
            code, log = self._run(argv, env, out)
            if code != 0 and LEGACY_SETUPTOOLS_SIGN in log:
                # Old setup.py files import pkg_resources, which setuptools 81 removed: cap the
                # isolated build environment's setuptools for this one build.
                legacy = work / "legacy-setuptools.txt"
                with open(legacy, "x") as constraint:  # never through a link the failed build left there
                    constraint.write(LEGACY_SETUPTOOLS + "\n")
                code, retry = self._run([*argv[:-1], "--build-constraint", str(legacy), argv[-1]], env, out)
                log += f"\n--- retried with {LEGACY_SETUPTOOLS} (the sdist imports pkg_resources) ---\n{retry}"
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log_file.write_text(f"$ {' '.join(argv)}\n{log}")
            wheels = sorted(out.glob("*.whl"))
            if code != 0 or len(wheels) != 1:
                raise ProviderFailure(
                    "build",
                    f"building {sdist.name} failed: {hints.failure_excerpt(log)} (log: {log_file})",
                    hints.for_build_failure(name, log),
                )
        return wheels[0]

    def _run(self, argv: list[str], env: dict, cwd: Path) -> tuple[int, str]:
        try:
            result = self.target.pip_run(argv, env, cwd=cwd, timeout=self.timeout)
            return result.returncode, result.stdout + result.stderr
        except subprocess.TimeoutExpired as exc:
            return -1, f"{exc.stdout or ''}{exc.stderr or ''}\ntimed out after {self.timeout}s"
