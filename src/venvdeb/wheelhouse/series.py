"""Services that follow a stable series: the wheelhouse holds the series' newest point release.

A release may give a service a series instead of a pin (``version = "33.0.*"``): its root is then
``nova==33.0.*``, and the constraints may pin an older point release of it (a lock compiled when
33.0.2 was the newest) or none (upstream's upper-constraints do not pin the services). The newest
final release of the series on the index is what is built: it moves that one pin, logged. A pin
stays a pin (``version = "33.0.2"`` is never moved), and nothing else moves: the rest of the
closure must still resolve under the constraints, or the build says so.
"""

from __future__ import annotations

from typing import Callable, Iterable

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from ..errors import VenvdebError
from ..model import Point
from ..model.constraints import Pin


def newest(versions: Iterable[Version], series: str) -> Version | None:
    """The newest final release in ``series`` ("33.0.*"): no pre-release, no development release."""
    spec = SpecifierSet(f"=={series}")
    found = [v for v in versions if not v.is_prerelease and v in spec]
    return max(found) if found else None


def follow(point: Point, pins: dict[str, Pin], versions_of: Callable[[str], list[Version]], log) -> dict[str, Pin]:
    """``pins``, with each series-following service's pin moved to its series' newest release."""
    moved = dict(pins)
    for service in point.services:
        series = service.source.series
        if not series:
            continue
        name = canonicalize_name(service.source.pypi)
        found = newest(versions_of(name), series)
        if found is None:
            raise VenvdebError(
                f"{point.path}: key 'services.{service.name}.version': {point.index_url} has no final release of "
                f"{service.source.pypi} in the series {series}",
                hint=f"see {point.index_url}/{name}/ for its releases, and follow a series that has one")
        pin = pins.get(name)
        if pin is None or Version(pin.version) < found:
            log(f"point release: {service.source.pypi} {pin.version if pin else '(not pinned)'} -> {found} "
                f"(series {series})")
            # The index's sha256 is checked as for any file; the constraints' hashes were for the old one.
            moved[name] = Pin(name, str(found))
    return moved
