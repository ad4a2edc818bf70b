"""`venvdeb rebuild`: a service package built again from what its build recorded, and compared
byte for byte: reproducible builds used as a gate, as Debian's rebuilders do.

The build to repeat is the package's version in the ledger: its date (the changelog's, hence
SOURCE_DATE_EPOCH), its history (the changelog) and the wheelhouse it names. The closure and
packaging at hand must be the ones its digest is of (service/build.py: same_inputs), so a
rebuild never compares against a build of something else. It runs in a fresh build chroot, into a
directory of its own (``<out>/rebuild``), and leaves the ledger as it was. The same bytes: the
gate passes, and the rebuilt copy goes. Other bytes: it fails, and diffoscope (Debian's) says
where they differ, in a report kept beside the rebuilt package.

In a farm the master rebuilds what a worker built, from its own checkout, cache and chroot: the
builder that made the package has no say in the rebuild (docs/farm.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from debian.debfile import DebFile

from .. import deb as debs
from ..environment import Environment
from ..errors import VenvdebError
from ..files import verified_sha256
from ..model import Point, Service
from ..model.ledger import Ledger, ledger_file
from ..model.results import RebuildResult
from ..progress import say
from . import sbom
from .build import HOST_BUILD_DEPENDS, BuildOptions, _build, prepare_build


def rebuild(point: Point, service: Service, deb: Path, options: BuildOptions, environment: Environment,
            published: Callable[[str], Path | None] = lambda version: None, log=say) -> RebuildResult:
    """``deb``, a build of ``service`` recorded in the ledger, built again and compared.
    ``published(version)``: the point's wheelhouse .deb at ``version`` in the repository, if there."""
    started = time.monotonic()
    threading.Thread(target=sbom.validator, daemon=True).start()
    control = DebFile(str(deb)).debcontrol()
    package, version = control["Package"], control["Version"]
    if package != service.package:
        raise VenvdebError(f"{deb}: package {package} is not {service.package}, service {service.name}'s",
                           hint=f"give a venv-{service.name} .deb, or the service {package} is of")
    entry = Ledger(options.state_dir / ledger_file(point.name, point.distribution, package)).recorded(version)
    wanted = verified_sha256(deb)  # the CLI has just checked it whole
    wheelhouse_deb = options.wheelhouse_deb or recorded_wheelhouse(point, entry.wheelhouse, options.out_dir, published)
    where = options.out_dir / "rebuild"
    mine = replace(options, out_dir=where, wheelhouse_deb=wheelhouse_deb, version="", only_if_changed=False)
    if options.isolation == "chroot":
        debs.ensure_installed(environment, HOST_BUILD_DEPENDS, options.install_build_deps,
                              "building service packages", log)
    prepared = prepare_build(point, service, mine, environment, log, replay=entry)
    built = _build(prepared, point, service, mine, environment, log, started)
    got, report, differences = debs.compare_rebuild(deb, Path(built.deb), wanted)
    log(f"{package} {version}: rebuilt, " + ("the same bytes" if report is None else
        f"OTHER bytes (sha256 {got[:12]}..., not {wanted[:12]}...); diffoscope: {report}"))
    return RebuildResult(package, version, str(deb), wanted, got, report is None,
                         rebuilt="" if report is None else built.deb, report=str(report or ""),
                         differences=differences, seconds=round(time.monotonic() - started, 1))


def recorded_wheelhouse(point: Point, version: str, out_dir: Path, published) -> Path:
    """The wheelhouse .deb at ``version``: built here, or published."""
    package = point.wheelhouse_package
    found = sorted(Path(out_dir).glob(f"{package}_{version}_*.deb")) or [p for p in [published(version)] if p]
    if not found:
        raise VenvdebError(f"no {package} {version} in {out_dir} or the repository: the build to repeat was made "
                           "from it", hint="give it: --wheelhouse-deb")
    return found[0]
