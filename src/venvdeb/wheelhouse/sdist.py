"""Building sdists into wheels with PEP 517, each in an environment of its own.

A build's environment is a venv of the target interpreter made, in the build's own directory of
the chroot's scratch, from the release's build lock alone (model/build_lock.py): installed with
``--require-hashes --only-binary :all:``, so nothing unpinned and no code of it runs while it is
installed. pip then builds with its isolation off and ``--check-build-dependencies``: the
upstream code's build fetches nothing, and a build requirement the lock lacks is named.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from ..environment import Target
from ..environment.python import BUILD_EPOCH, build_wheel
from ..errors import ProviderFailure, VenvdebError
from ..model import Point, build_lock
from ..progress import activity
from . import hints


class SdistBuilder:
    def __init__(self, target: Target, point: Point, log_dir: Path, jobs: int | None = None, timeout: int = 1800):
        self.target = target
        self.point = point
        self.log_dir = Path(log_dir)
        self.timeout = timeout
        self._slots = threading.Semaphore(jobs or os.cpu_count() or 1)

    @property
    def lock(self) -> build_lock.BuildLock:
        """Read when the first sdist is built: a release whose closure is all wheels needs none."""
        try:
            return build_lock.of(self.point)
        except VenvdebError as exc:
            raise ProviderFailure("build", exc.message, exc.hint) from None

    def build(self, name: str, version: str, sdist: Path, work: Path) -> Path:
        """Build ``sdist``; return the wheel under ``work``. Raises ProviderFailure with a hint."""
        lock = self.lock
        work = Path(tempfile.mkdtemp(dir=work, prefix=f"build-{name}-"))
        env = {"SOURCE_DATE_EPOCH": BUILD_EPOCH, "MAKEFLAGS": "-j1"}
        log_file = self.log_dir / f"{name}-{version}.log"
        # Shown from when it has a slot: builds waiting for one are not running.
        with self._slots, activity(f"pip wheel {sdist.name}", log_file):
            code, log, out = build_wheel(self.target, lock.text, lock.label, sdist, work, env, self.timeout)
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log_file.write_text(log)
            wheels = sorted(out.glob("*.whl")) if out.is_dir() else []
            if code != 0 or len(wheels) != 1:
                lacking = build_lock.missing(self.point, log, sdist.name)
                if lacking:
                    raise ProviderFailure("build", f"{lacking[0]} (log: {log_file})",
                                          lacking[1])
                raise ProviderFailure(
                    "build",
                    f"building {sdist.name} failed: {hints.failure_excerpt(log)} (log: {log_file})",
                    hints.for_build_failure(name, log),
                )
        return wheels[0]
