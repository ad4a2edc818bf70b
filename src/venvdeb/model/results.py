"""What the stages report: the JSON that `venvdeb ... --json` prints and Buildbot's steps read.

Each result is a dataclass; ``as_dict`` is the JSON, ``from_dict`` reads it back. Reading is
lenient on purpose: a worker may run another venvdeb than the master, so a key it does not send
reads as None rather than failing the step that only wanted to show it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


class _Result:
    @classmethod
    def from_dict(cls, data: dict | None):
        data = data or {}
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})  # type: ignore[arg-type]

    def as_dict(self) -> dict:
        return asdict(self)  # type: ignore[call-overload]


@dataclass
class WheelhouseResult(_Result):
    """`venvdeb wheelhouse build`."""

    release: str
    package: str
    version: str
    architecture: str
    deb: str
    wheels: int  # how many
    built: int  # of which built from sdists
    size: int  # bytes of wheels
    digest: str  # of everything the package's bytes depend on
    constraints: str
    interpreter: str
    changed: bool = False  # False: the same package was there already
    deb_size: int | None = None
    stats: dict = field(default_factory=dict)  # downloads, bytes, cache hits


@dataclass
class FetchResult(_Result):
    """`venvdeb wheelhouse fetch`: a published wheelhouse, verified."""

    package: str
    version: str
    deb: str
    sha256: str
    deb_size: int
    suite: str
    repo_url: str


@dataclass
class BuildResult(_Result):
    """`venvdeb build`: one service package."""

    package: str
    version: str
    deb: str
    deb_size: int
    installed_size_kib: int
    architecture: str
    depends: str
    wheelhouse: str  # "<package> <version>" it was built from
    wheels: int  # how many wheels (Python distributions) the venv holds; "distributions" are Debian's
    seconds: float
    reason: str  # the changelog entry's first line
    skipped: str = ""  # why nothing was built (--only-if-changed): the last build's package stands
