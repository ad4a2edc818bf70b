"""Pins from an upper-constraints file or a pip-tools lock.

Both are pip requirements files: ``name===1.2; marker`` lines (upstream OpenStack), or
``name==1.2 \\`` continued by ``--hash=sha256:...`` options (pip-compile --generate-hashes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..errors import VenvdebError


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: str
    marker: Marker | None = None
    hashes: frozenset[str] = field(default_factory=frozenset)
    line: int = 0

    def applies(self, env: dict) -> bool:
        return self.marker is None or self.marker.evaluate(env)


@dataclass(frozen=True)
class Constraints:
    origin: str
    text: str
    pins: tuple[Pin, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def for_target(self, env: dict) -> dict[str, Pin]:
        """The pins that apply to the target interpreter, by canonical name."""
        chosen: dict[str, Pin] = {}
        for pin in self.pins:
            if pin.applies(env):
                if pin.name in chosen and chosen[pin.name].version != pin.version:
                    raise VenvdebError(
                        f"{self.origin}:{pin.line}: {pin.name} is pinned twice for this target "
                        f"({chosen[pin.name].version} at line {chosen[pin.name].line} and {pin.version})",
                        hint="make the environment markers of the two lines exclusive",
                    )
                chosen[pin.name] = pin
        return chosen


def _logical_lines(text: str):
    """Join backslash continuations; yield (first line number, content without comments)."""
    buf, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw
        if line.lstrip().startswith("#"):
            line = ""
        elif " #" in line:
            line = line[: line.index(" #")]
        if not buf:
            start = number
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        buf += line
        if buf.strip():
            yield start, buf.strip()
        buf = ""
    if buf.strip():
        yield start, buf.strip()


def parse(text: str, origin: str) -> Constraints:
    pins: list[Pin] = []
    problems: list[str] = []
    for number, line in _logical_lines(text):
        words = line.split()
        hashes = {w.split("=", 1)[1] for w in words if w.startswith("--hash=")}
        spec = " ".join(w for w in words if not w.startswith("--hash="))
        if spec.startswith("-"):
            problems.append(f"{origin}:{number}: option {spec.split()[0]!r} is not supported in constraints")
            continue
        try:
            req = Requirement(spec)
        except InvalidRequirement as exc:
            problems.append(f"{origin}:{number}: not a requirement: {spec!r} ({exc})")
            continue
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator not in ("==", "==="):
            problems.append(f"{origin}:{number}: {spec!r} is not an exact pin (use name==version)")
            continue
        bad = [h for h in hashes if not h.startswith("sha256:")]
        if bad:
            problems.append(f"{origin}:{number}: only sha256 hashes are supported, got {bad[0]}")
            continue
        pins.append(
            Pin(
                name=canonicalize_name(req.name),
                version=specs[0].version,
                marker=req.marker,
                hashes=frozenset(h.split(":", 1)[1] for h in hashes),
                line=number,
            )
        )
    if problems:
        raise VenvdebError(
            "constraints are malformed:\n" + "\n".join(f"  - {p}" for p in problems),
            hint="constraints hold one exact pin per line, as upper-constraints.txt or pip-compile write them",
        )
    return Constraints(origin=origin, text=text, pins=tuple(pins))


def load_file(path: Path) -> Constraints:
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise VenvdebError(f"{path}: constraints file not found") from None
    return parse(text, str(path))
