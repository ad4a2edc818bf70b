"""What a builder hands the repository is what was asked of it, or it is refused.

The farm's master reserves a service build's version before a worker builds it, and knows which
package each builder makes; ``venvdeb repo publish`` compares the .deb it is given with that
(``Expected``) before anything is published: its size first (a file too large is not read), then
that it is a whole Debian package, then its Package, Version and Architecture.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from debian.debfile import DebFile

from ..errors import Rejected, VenvdebError
from ..files import verify_checksum


@dataclass(frozen=True)
class Expected:
    """What a package to publish must be; a field left None is not checked."""

    package: str | None = None
    version: str | None = None
    architecture: str | None = None
    max_size: int | None = None  # bytes

    def control(self) -> dict[str, str]:
        """The control fields asked for, by their Debian names."""
        return {f.name.capitalize(): getattr(self, f.name) for f in fields(self)
                if f.name != "max_size" and getattr(self, f.name) is not None}


def check(deb: Path, expected: Expected) -> None:
    """Refuse ``deb`` (Rejected, naming every difference) unless it is what ``expected`` says."""
    size = Path(deb).stat().st_size
    if expected.max_size is not None and size > expected.max_size:
        raise Rejected(f"{deb}: {size} bytes, more than the {expected.max_size} an upload may have; nothing "
                       "was published", hint="a package this large is not one venvdeb built: look at the builder")
    try:
        verify_checksum(deb)  # a whole package, before its fields are read
    except VenvdebError as exc:
        raise Rejected(f"{exc.message}; nothing was published",
                       hint="the file was cut short, or is no package: build it again, and look at the builder") \
            from None
    control = DebFile(str(deb)).debcontrol()
    wrong = [f"{field} is {control.get(field)!r}, not {want!r}" for field, want in expected.control().items()
             if control.get(field) != want]
    if wrong:
        raise Rejected(f"{deb}: not the package that was asked for: {'; '.join(wrong)}; nothing was published",
                       hint="the builder made another package than the one reserved for it: look at the builder")
