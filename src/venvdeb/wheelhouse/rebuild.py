"""`venvdeb wheelhouse rebuild`: a release's wheelhouse built again from what its build recorded,
and compared byte for byte: promotion's gate for the wheelhouse, as `venvdeb rebuild` is a
service package's.

The build to repeat is the wheelhouse's version in the ledger: its date (SOURCE_DATE_EPOCH) and
history (the changelog). Everything else is done again: the resolution under the release's
constraints, each wheel fetched (the cache's copy only if its sha256 is the index's), and every
wheel built from an sdist built afresh in a fresh chroot, whatever the cache holds, so that the
comparison owes nothing to the build it checks. The package goes into ``<out>/rebuild``; the
ledger and the cache's records are left as they were. The same bytes: the gate passes. Other
bytes (an sdist whose build is not reproducible, or a wheel that is not what its sdist gives):
it fails, and diffoscope says where, down to the wheel's files.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from debian.debfile import DebFile

from .. import deb as debs
from ..environment import Environment
from ..errors import VenvdebError
from ..files import sha256_file
from ..model import Point
from ..model.ledger import Ledger, ledger_file
from ..model.results import RebuildResult
from ..progress import Progress
from .build import Options, build


def rebuild(point: Point, deb: Path, options: Options, environment: Environment,
            progress: Progress | None = None, checked=None) -> RebuildResult:
    """``deb``, a build of ``point``'s wheelhouse recorded in the ledger, built again and compared."""
    started = time.monotonic()
    progress = progress or Progress(quiet=True)
    control = DebFile(str(deb)).debcontrol()
    package, version = control["Package"], control["Version"]
    if package != point.wheelhouse_package:
        raise VenvdebError(f"{deb}: package {package} is not {point.wheelhouse_package}, release {point.name}'s "
                           "wheelhouse", hint="give that release's wheelhouse .deb")
    entry = Ledger(options.state_dir / ledger_file(point.name, point.distribution, package)).recorded(version)
    wanted = sha256_file(deb)
    built = build(point, replace(options, out_dir=options.out_dir / "rebuild"), environment, progress,
                  checked=checked, replay=entry)
    got, report, differences = debs.compare_rebuild(deb, Path(built.deb), wanted)
    progress.log(f"{package} {version}: rebuilt, " + ("the same bytes" if report is None else
                 f"OTHER bytes (sha256 {got[:12]}..., not {wanted[:12]}...); diffoscope: {report}"))
    return RebuildResult(package, version, str(deb), wanted, got, report is None,
                         rebuilt="" if report is None else built.deb, report=str(report or ""),
                         differences=differences, seconds=round(time.monotonic() - started, 1))
