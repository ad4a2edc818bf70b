"""A wheelhouse as a service build sees it: its manifest, and the closure of one service in it.

Service builds are offline: the closure is walked over the manifest (each wheel's requirements
were recorded when the wheelhouse was made), with the same resolver as the wheelhouse build.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from ..errors import PackageFailure, ProviderFailure, VenvdebError
from ..model.closure import Artifact, Resolver, Root
from ..model.constraints import Pin
from ..model.manifest import Manifest, WheelItem


@dataclass(frozen=True)
class Wheelhouse:
    package: str
    version: str
    directory: Path  # where the wheels are: installed, or unpacked from the .deb
    install_dir: str  # where the package installs them on a host
    interpreter: str
    items: dict[str, WheelItem]  # by canonical name

    @classmethod
    def load(cls, directory: Path, install_dir: str) -> "Wheelhouse":
        manifest = Manifest.load(Path(directory) / "manifest.json")
        return cls(package=manifest.package, version=manifest.version, directory=Path(directory),
                   install_dir=install_dir, interpreter=manifest.interpreter,
                   items={w.name: w for w in manifest.wheels})

    def describe(self) -> str:
        return f"{self.package} {self.version}"


class ManifestProvider:
    """The resolver's provider over a wheelhouse manifest, plus the service's own wheel if any."""

    def __init__(self, wheelhouse: Wheelhouse, extra: dict[str, WheelItem] | None = None):
        self.wheelhouse = wheelhouse
        self.items = {**wheelhouse.items, **(extra or {})}

    def _missing(self, name: str) -> ProviderFailure:
        return ProviderFailure(
            "wheelhouse", f"{name} is not in the wheelhouse {self.wheelhouse.describe()}",
            "add it to the service's requirements (or the release's constraints) and rebuild the wheelhouse",
        )

    def versions(self, name: str) -> list[Version]:
        if name not in self.items:
            raise self._missing(name)
        return [Version(self.items[name].version)]

    def artifact(self, name: str, version: str) -> Artifact:
        item = self.items.get(name)
        if item is None or Version(item.version) != Version(version):
            raise self._missing(f"{name}=={version}")
        return Artifact(name, item.version, item.file, item.file, item.sha256, "wheel")

    def requirements(self, artifact: Artifact) -> list[Requirement]:
        return [Requirement(r) for r in self.items[artifact.name].requires]


def closure(wheelhouse: Wheelhouse, roots: list[Root], markers: dict, tags: list[str],
            extra: dict[str, WheelItem] | None = None) -> list[WheelItem]:
    """The manifest items of everything ``roots`` need, or an error naming what is missing."""
    provider = ManifestProvider(wheelhouse, extra)
    pins = {name: Pin(name, item.version) for name, item in provider.items.items()}
    result = Resolver(pins, markers, provider, constraints_origin=f"the wheelhouse {wheelhouse.describe()}",
                      jobs=1).resolve(roots)
    failures = list(result.failures)
    supported = set(tags)
    for node in result.nodes.values():
        wheel_tags = {str(t) for t in parse_wheel_filename(node.artifact.filename)[3]}
        if not wheel_tags & supported:
            failures.append(PackageFailure(
                node.name, "abi", f"{node.artifact.filename} is built for {', '.join(sorted(wheel_tags))}, "
                f"which the target interpreter cannot load", "rebuild the wheelhouse for the release's interpreter"))
    if failures:
        lines = "\n".join(f"  - {f.package}: {f.reason}" for f in failures)
        hints = sorted({f.hint for f in failures if f.hint})
        raise VenvdebError(f"the service cannot be built from {wheelhouse.describe()}:\n{lines}",
                           hint="; ".join(hints) or "rebuild the wheelhouse for this interpreter")
    return [provider.items[name] for name in sorted(result.nodes)]
