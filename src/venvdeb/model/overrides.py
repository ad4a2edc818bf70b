"""Constraint overrides: a release moves single pins of its constraints, each with a reason.

Upstream's upper-constraints are a release's contract, and most of the time they are right. A
release engineer sometimes needs one pin moved before upstream moves it: a library released after
the constraints file was taken (2026.2's nova needs keystoneauth1 5.16.0, the master branch's file
pins 5.15.0), or a security fix. An override says so in the release file:

    [constraints.overrides.keystoneauth1]
    version = "5.16.0"
    reason = "nova 34.0.0 requires keystoneauth1>=5.16.0; released after the constraints were taken"

It differs from editing the lock by hand. The lock is compiled output: `venvdeb lock` writes it
again and a hand edit is lost, and a hand edit moves a pin without re-resolving what depends on it.
An override is an input: `venvdeb lock` applies it to the upstream file before it resolves, so the
whole closure is resolved around it; every wheelhouse build checks the lock still holds it; and it
is shown, with its reason, where a reader of the release looks (the wheelhouse's changelog and
manifest, the release page). When upstream's own file moves the pin, `venvdeb lock` says the
override is no longer needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import VenvdebError
from .constraints import Constraints, Pin
from .schema import Key, validate


@dataclass(frozen=True)
class Override:
    name: str  # as the release file writes it
    version: str
    reason: str

    @property
    def canonical(self) -> str:
        return canonicalize_name(self.name)

    def as_dict(self) -> dict:
        return {"name": self.name, "version": self.version, "reason": self.reason}

    def describe(self) -> str:
        return f"{self.name} {self.version}: {self.reason}"


def _one_line(value: str) -> str | None:
    if not value.strip():
        return "must not be empty: say why the release departs from its constraints"
    return "one line of text, without control characters" if any(ord(c) < 32 for c in value) else None


def _version(value: str) -> str | None:
    try:
        Version(value)
    except InvalidVersion:
        return f"{value!r} is not a Python version"
    return None


# One [constraints.overrides.<package>] table.
OVERRIDE_SCHEMA = {
    "version": Key(str, required=True, check=_version,
                   doc="The exact version the release pins instead; the index must have it."),
    "reason": Key(str, required=True, check=_one_line,
                  doc="Why the release departs from its constraints (e.g. 'released after the constraints "
                      "were taken', or a security advisory): shown in the wheelhouse's changelog and manifest "
                      "and on the release page."),
}


def problems(table: dict) -> list[str]:
    """What is wrong with a release's ``constraints.overrides`` table, key by key."""
    found = []
    seen: dict[str, str] = {}
    for name, entry in table.items():
        key = f"constraints.overrides.{name}"
        if not isinstance(entry, dict):
            found.append(f"key '{key}': expected a table (version = \"...\", reason = \"...\")")
            continue
        found.extend(validate(entry, OVERRIDE_SCHEMA, prefix=f"{key}."))
        if canonicalize_name(name) in seen:
            found.append(f"key '{key}': the same package as 'constraints.overrides.{seen[canonicalize_name(name)]}'")
        seen[canonicalize_name(name)] = name
    return found


def from_table(table: dict) -> tuple[Override, ...]:
    return tuple(Override(name, entry["version"], entry["reason"]) for name, entry in sorted(table.items()))


def apply(cons: Constraints, overrides: Iterable[Override], release_path, env: dict | None = None) -> dict[str, Pin]:
    """The pins of ``cons`` that apply to ``env`` (all of them without one), each override's pin moved.
    An override of a package the constraints do not pin is refused: there is nothing to override,
    and a package a release needs besides its constraints is a service's requirement."""
    pins = cons.for_target(env) if env is not None else {p.name: p for p in cons.pins}
    moved = dict(pins)
    for o in overrides:
        if o.canonical not in pins:
            raise VenvdebError(
                f"{release_path}: key 'constraints.overrides.{o.name}': {cons.origin} does not pin {o.name}",
                hint="an override moves a pin the constraints have; name the package as they do, or remove the "
                     "override (a package the constraints lack is a service's 'requirements')")
        moved[o.canonical] = Pin(o.canonical, o.version, line=pins[o.canonical].line)
    return moved


def rewrite(text: str, cons: Constraints, overrides: Iterable[Override], release_path) -> str:
    """The upstream file's text with each overridden pin's lines pinning the override's version:
    what pip-compile is given. Every line of that package moves (its environment markers stay)."""
    apply(cons, overrides, release_path)  # refuses a package the file does not pin
    by_line = {p.line: p for p in cons.pins}
    wanted = {o.canonical: o for o in overrides}
    lines = text.splitlines(keepends=True)
    for number, pin in by_line.items():
        if pin.name in wanted:
            marker = f";{pin.marker}" if pin.marker is not None else ""
            ending = "\n" if lines[number - 1].endswith("\n") else ""
            lines[number - 1] = f"{wanted[pin.name].name}==={wanted[pin.name].version}{marker}{ending}"
    return "".join(lines)


def redundant(cons: Constraints, overrides: Iterable[Override], env: dict) -> list[Override]:
    """Overrides whose version the constraints already pin for ``env`` (the target interpreter's
    markers): upstream has moved, the override can go."""
    pins = cons.for_target(env)
    return [o for o in overrides if o.canonical in pins and pins[o.canonical].version == o.version]


def check_lock(lock: Constraints, overrides: Iterable[Override], release_path) -> None:
    """A lock compiled under the overrides pins each of them; one that does not was compiled before
    an override was added or changed, or edited by hand."""
    pins = {p.name: p for p in lock.pins}
    for o in overrides:
        pin = pins.get(o.canonical)
        if pin is None or pin.version != o.version:
            have = f"pins {pin.version} (line {pin.line})" if pin else "does not pin it"
            raise VenvdebError(
                f"{lock.origin}: {o.name}: the lock {have}, but {release_path} overrides it to {o.version} "
                f"(key 'constraints.overrides.{o.name}')",
                hint="compile the lock again: venvdeb lock <release> --constraint <upper-constraints>")
