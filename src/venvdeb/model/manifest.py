"""The wheelhouse manifest: what the wheelhouse stage hands to the service stage.

The wheelhouse .deb installs it as ``manifest.json`` beside its wheels; a service build reads it
(from the installed package, or from the .deb) and walks the service's closure over it, offline.
Each item carries what a service build needs of a wheel without opening it: its hash and size,
its license (debian/copyright, the SBOM), its requirements (the closure) and its console scripts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import VenvdebError
from ..files import sha256_file
from . import wheelmeta


def wheel_dir(release_name: str) -> str:
    """Where a release's wheelhouse package installs its wheels and this manifest (no leading /):
    data not for the Python path, named for the tool and the release so releases install side by side."""
    return f"usr/share/venvdeb/wheelhouse/{release_name}"


@dataclass(frozen=True)
class WheelItem:
    name: str  # canonical
    version: str
    file: str
    sha256: str
    size: int
    origin: str  # "index" (downloaded) or "built" (from an sdist or a checkout)
    license: str = ""
    requires: tuple[str, ...] = ()
    console_scripts: tuple[str, ...] = ()
    source: dict | None = None  # the file it came from: {"file", "url", "sha256"}

    @classmethod
    def from_wheel(cls, path: Path, name: str, version: str, origin: str, source: dict | None = None) -> "WheelItem":
        described = wheelmeta.describe(path)
        return cls(name=name, version=version, file=path.name, sha256=sha256_file(path), size=path.stat().st_size,
                   origin=origin, license=described["license"], requires=tuple(described["requires"]),
                   console_scripts=tuple(described["console_scripts"]), source=source)

    @classmethod
    def from_dict(cls, data: dict) -> "WheelItem":
        return cls(name=data["name"], version=data["version"], file=data["file"], sha256=data["sha256"],
                   size=data["size"], origin=data["origin"], license=data.get("license", ""),
                   requires=tuple(data.get("requires", ())), console_scripts=tuple(data.get("console_scripts", ())),
                   source=data.get("source"))

    def as_dict(self) -> dict:
        data = {"name": self.name, "version": self.version, "file": self.file, "sha256": self.sha256,
                "size": self.size, "origin": self.origin, "license": self.license, "requires": list(self.requires),
                "console_scripts": list(self.console_scripts)}
        return data | ({"source": self.source} if self.source is not None else {})


@dataclass(frozen=True)
class Manifest:
    release: str
    package: str  # the wheelhouse package
    version: str  # its version
    interpreter: str  # e.g. cp311
    python: str  # e.g. 3.11.2
    constraints: str  # where the constraints came from, as recorded
    constraints_sha256: str
    wheels: tuple[WheelItem, ...] = field(default_factory=tuple)
    # The release's constraint overrides in force: [{"name", "version", "reason"}] (model/overrides.py).
    overrides: tuple[dict, ...] = ()
    # What built its wheels from source (origin "built"): {"sha256" of the toolchain's lock, its "pins"}.
    toolchain: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"release": self.release, "package": self.package, "version": self.version,
                "interpreter": self.interpreter, "python": self.python, "constraints": self.constraints,
                "constraints_sha256": self.constraints_sha256, "wheels": [w.as_dict() for w in self.wheels]} | (
                    {"overrides": list(self.overrides)} if self.overrides else {}) | (
                    {"toolchain": self.toolchain} if self.toolchain else {})

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str) -> "Manifest":
        try:
            data = json.loads(text)
            return cls(release=data.get("release", ""), package=data["package"], version=data["version"],
                       interpreter=data["interpreter"], python=data.get("python", ""),
                       constraints=data.get("constraints", ""), constraints_sha256=data.get("constraints_sha256", ""),
                       overrides=tuple(data.get("overrides", ())), toolchain=data.get("toolchain") or {},
                       wheels=tuple(WheelItem.from_dict(w) for w in data["wheels"]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise VenvdebError(f"{where}: not a wheelhouse manifest ({type(exc).__name__}: {exc})",
                               hint="rebuild the wheelhouse with this venvdeb") from None

    @classmethod
    def load(cls, path: Path) -> "Manifest":
        try:
            text = Path(path).read_text()
        except FileNotFoundError:
            raise VenvdebError(f"{path}: no wheelhouse manifest here",
                               hint="build the wheelhouse first: venvdeb wheelhouse build <release>") from None
        return cls.from_json(text, str(path))
