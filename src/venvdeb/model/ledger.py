"""The version ledger of a wheelhouse package.

The version must grow with every change of content and stay put when nothing changed, so a
rebuild is idempotent. The ledger maps each content digest, in order, to a serial; the
changelog of the package is rendered from it, so a rebuild of the same content gives the same
changelog, the same SOURCE_DATE_EPOCH and the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.utils import format_datetime
from datetime import datetime, timezone
from pathlib import Path

from ..files import write_atomic


@dataclass(frozen=True)
class Entry:
    version: str
    digest: str
    date: str  # RFC 2822, as debian/changelog wants it
    wheels: dict  # name -> version
    changes: tuple[str, ...]
    wheelhouse: str = ""  # for a service package: the wheelhouse version it was built from


def ledger_file(release: str, distribution: str, package: str) -> str:
    """Where a package's ledger is, under the state directory: one directory per release and
    distribution, since one packaging root builds several of each for the same package."""
    return f"{release}/{distribution}/{package}.ledger.json"


def diff(old: dict, new: dict) -> list[str]:
    """Human-readable changes between two {name: version} maps."""
    lines = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            lines.append(f"Add {name} {new[name]}.")
        elif name not in new:
            lines.append(f"Remove {name} {old[name]}.")
        elif old[name] != new[name]:
            lines.append(f"Update {name} {old[name]} -> {new[name]}.")
    return lines


class Ledger:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.entries: list[Entry] = []
        if self.path.is_file():
            for e in json.loads(self.path.read_text())["entries"]:
                self.entries.append(Entry(e["version"], e["digest"], e["date"], e["wheels"], tuple(e["changes"]),
                                          e.get("wheelhouse", "")))

    def entry_for(self, digest: str, wheels: dict, now: datetime | None = None, suffix: str = "") -> tuple[Entry, bool]:
        """The entry of this content: the last one if unchanged, else a new one (not yet saved).
        Its version is the next serial, with ``suffix`` (``+deb12``: which Debian it is for)."""
        # The same content again is the same package, if its version already says which Debian it
        # is for (a ledger moved over from before the mark gets the next serial, marked).
        if self.entries and self.entries[-1].digest == digest and self.entries[-1].version.endswith(suffix):
            return self.entries[-1], False
        previous = self.entries[-1].wheels if self.entries else {}
        changes = diff(previous, wheels) if self.entries else [f"Initial wheelhouse: {len(wheels)} wheels."]
        if not changes:
            changes = ["Rebuild: same distributions, different files or constraints."]
        when = (now or datetime.now(timezone.utc)).replace(microsecond=0)
        serial = int(self.entries[-1].version.split("+")[0]) + 1 if self.entries else 1
        return Entry(f"{serial}{suffix}", digest, format_datetime(when), dict(wheels), tuple(changes)), True

    def last(self) -> Entry | None:
        return self.entries[-1] if self.entries else None

    def rebuild_entry(self, version: str, digest: str, wheels: dict, reason: str, wheelhouse: tuple[str, str],
                      now: datetime | None = None) -> Entry:
        """A service package's next entry: every build is one, with its reason and what changed."""
        package, wh_version = wheelhouse
        last = self.last()
        if last is None:
            changes = [reason, f"Built from {package} {wh_version}.", f"Bundle {len(wheels)} Python distributions."]
        else:
            moved = (f"Wheelhouse {package} {last.wheelhouse} -> {wh_version}." if last.wheelhouse != wh_version
                     else f"Wheelhouse {package} {wh_version}, unchanged.")
            changes = [reason, moved, *(diff(last.wheels, wheels) or ["No distribution changed."])]
        when = (now or datetime.now(timezone.utc)).replace(microsecond=0)
        return Entry(version, digest, format_datetime(when), dict(wheels), tuple(changes), wh_version)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)
        data = {"entries": [vars(e) | {"changes": list(e.changes)} for e in self.entries]}
        write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True).encode())

    def history(self, upto: Entry) -> list[Entry]:
        entries = self.entries if upto in self.entries else [*self.entries, upto]
        return entries[: entries.index(upto) + 1]
