"""A farm's service versions, decided in one place: the master.

A worker says which upstream version it builds (``venvdeb build --plan``); the master takes the
next version of it above everything the repository has published of the package (staging and
production) and everything its ledger holds, built or in flight, under the ledger's lock, and
records it as in flight. Two builds of one package on two workers, at the same moment, so get
two versions, and none of them is one the repository already has. A build that fails keeps its
reservation: its version is skipped, never reused (its .deb may be in an upload directory). After
publishing, the master adds the worker's ledger entry (its changes and closure: what the next
build's changelog continues from) to its own ledger.
"""

from __future__ import annotations

from pathlib import Path

from debian.debian_support import Version as DebianVersion

from ..errors import VenvdebError
from ..model import Point
from ..model.ledger import Entry, Ledger, ledger_file
from ..model.versions import next_version


def master_ledger(point: Point, state_dir: Path, package: str) -> Ledger:
    return Ledger(state_dir / ledger_file(point.name, point.distribution, package))


def reserve_version(point: Point, package: str, upstream: str, state_dir: Path, published: list[str]) -> str:
    """The version a build of ``package`` at Debian upstream version ``upstream`` makes, taken."""
    where = f"{package} for {point.name} on {point.distribution}"

    def next_of(highest_in_ledger: str | None) -> str:
        taken = [v for v in (highest_in_ledger, *published) if v]
        return next_version(upstream, max(taken, key=DebianVersion) if taken else None, where, point.debian)

    return master_ledger(point, state_dir, package).reserve(next_of)


def record_build(point: Point, package: str, version: str, state_dir: Path, built: Path) -> Entry:
    """Add the entry for ``version`` from a worker's ledger (``built``) to the master's."""
    found = [e for e in Ledger(built).entries if e.version == version]
    if not found:
        raise VenvdebError(f"{built}: no entry for {package} {version}",
                           hint="give the ledger the build of that version wrote (the worker's state directory)")
    master_ledger(point, state_dir, package).add(found[0])
    return found[0]
