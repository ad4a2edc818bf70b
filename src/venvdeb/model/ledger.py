"""The version ledger of a wheelhouse package.

The version must grow with every change of content and stay put when nothing changed, so a
rebuild is idempotent. The ledger maps each content digest, in order, to a serial; the
changelog of the package is rendered from it, so a rebuild of the same content gives the same
changelog, the same SOURCE_DATE_EPOCH and the same bytes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from dataclasses import dataclass
from email.utils import format_datetime
from datetime import datetime, timezone
from pathlib import Path

from debian.debian_support import Version as DebianVersion

from ..errors import VenvdebError
from ..files import write_atomic


@dataclass(frozen=True)
class Entry:
    version: str
    digest: str
    date: str  # RFC 2822, as debian/changelog wants it
    wheels: dict  # name -> version
    changes: tuple[str, ...]
    wheelhouse: str = ""  # for a service package: the wheelhouse version it was built from
    # The newest version its build's ledger had ("": none): builds of one package at once each
    # continue from the ledger as it was when they started, and a rebuild must repeat that
    # changelog, not the ledger's later one. None: not recorded (a ledger from before).
    follows: str | None = None


def ledger_file(release: str, distribution: str, package: str) -> str:
    """Where a package's ledger is, under the state directory: one directory per release and
    distribution, since one packaging root builds several of each for the same package."""
    return f"{release}/{distribution}/{package}.ledger.json"


def packaging_line(commit: str) -> list[str]:
    """The changelog's record of the packaging revision a build used (a farm's builds check it
    out per build): none when the packaging root is not a known commit."""
    return [f"Packaging at commit {commit}."] if commit else []


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
    """A package's builds, oldest first, and the versions builds in flight have taken.

    Every read-modify-write holds an flock on ``<ledger>.lock``: two builds of one package at once
    (two terminals, a pipeline and a forced build) take two versions, and neither loses the
    other's entry. A build that dies keeps its reservation: its version is skipped, never reused.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.entries: list[Entry] = []
        self.reserved: list[str] = []
        self._held = 0  # locked() is re-entrant: add() inside a caller's locked() must not wait on itself
        self._load()

    def _load(self) -> None:
        data = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self.entries = [Entry(e["version"], e["digest"], e["date"], e["wheels"], tuple(e["changes"]),
                              e.get("wheelhouse", ""), e.get("follows")) for e in data.get("entries", [])]
        self.reserved = list(data.get("reserved", []))

    def _save(self) -> None:
        # (follows is left out where not recorded: a ledger from before reads as it did)
        data = {"entries": [{k: v for k, v in vars(e).items() if not (k == "follows" and v is None)}
                            | {"changes": list(e.changes)} for e in self.entries]}
        if self.reserved:
            data["reserved"] = self.reserved
        write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True).encode())

    @contextlib.contextmanager
    def locked(self):
        """Hold the ledger's lock, with its entries as they are on disk now."""
        if self._held:
            self._held += 1
            try:
                yield self
            finally:
                self._held -= 1
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._load()
            self._held = 1
            try:
                yield self
            finally:
                self._held = 0

    def reserve(self, next_of) -> str:
        """Take the version ``next_of(highest version built or in flight)`` for a build starting now."""
        with self.locked():
            taken = [e.version for e in self.entries] + self.reserved
            version = next_of(max(taken, key=DebianVersion) if taken else None)
            self.reserved.append(version)
            self._save()
        return version

    def release(self, version: str) -> None:
        """A build that reserved ``version`` ended without adding it (it failed, or was skipped)."""
        with self.locked():
            if version in self.reserved:
                self.reserved.remove(version)
                self._save()

    def entry_for(self, digest: str, wheels: dict, now: datetime | None = None, suffix: str = "",
                  packaging_commit: str = "", notes: tuple[str, ...] = ()) -> tuple[Entry, bool]:
        """The entry of this content: the last one if unchanged, else a new one (not yet saved).
        Its version is the next serial, with ``suffix`` (``+deb12``: which Debian it is for); a new
        entry names the packaging commit it was built from, when known, and ends with ``notes``
        (the constraint overrides in force)."""
        # The same content again is the same package, if its version already says which Debian it
        # is for (a ledger moved over from before the mark gets the next serial, marked).
        if self.entries and self.entries[-1].digest == digest and self.entries[-1].version.endswith(suffix):
            return self.entries[-1], False
        previous = self.entries[-1].wheels if self.entries else {}
        changes = diff(previous, wheels) if self.entries else [f"Initial wheelhouse: {len(wheels)} wheels."]
        if not changes:
            changes = ["Rebuild: same distributions, different files or constraints."]
        changes += packaging_line(packaging_commit) + list(notes)
        when = (now or datetime.now(timezone.utc)).replace(microsecond=0)
        serial = int(self.entries[-1].version.split("+")[0]) + 1 if self.entries else 1
        return Entry(f"{serial}{suffix}", digest, format_datetime(when), dict(wheels), tuple(changes),
                     follows=self.entries[-1].version if self.entries else ""), True

    def last(self) -> Entry | None:
        return self.entries[-1] if self.entries else None

    def recorded(self, version: str) -> Entry:
        """The entry of the build of ``version``: what a rebuild repeats."""
        found = [e for e in self.entries if e.version == version]
        if not found:
            raise VenvdebError(f"{self.path}: no build of version {version} is recorded",
                               hint="rebuild with the state directory of the build that made it (a farm's master "
                                    "records every build it publishes)")
        return found[0]

    def rebuild_entry(self, version: str, digest: str, wheels: dict, reason: str, wheelhouse: tuple[str, str],
                      now: datetime | None = None, packaging_commit: str = "", news: tuple[str, ...] = ()) -> Entry:
        """A service package's next entry: every build is one, with its reason and what changed."""
        package, wh_version = wheelhouse
        last = self.last()
        if last is None:
            changes = [reason, f"Built from {package} {wh_version}.", f"Bundle {len(wheels)} Python distributions."]
        else:
            moved = (f"Wheelhouse {package} {last.wheelhouse} -> {wh_version}." if last.wheelhouse != wh_version
                     else f"Wheelhouse {package} {wh_version}, unchanged.")
            changes = [reason, moved, *(diff(last.wheels, wheels) or ["No distribution changed."])]
        changes[1:1] = packaging_line(packaging_commit)
        changes[:0] = news  # what is new upstream, before why this build happened
        when = (now or datetime.now(timezone.utc)).replace(microsecond=0)
        return Entry(version, digest, format_datetime(when), dict(wheels), tuple(changes), wh_version,
                     follows=last.version if last else "")

    def add(self, entry: Entry) -> None:
        with self.locked():
            same = [e for e in self.entries if e.version == entry.version]
            if same and same[0].digest == entry.digest:
                return  # the same content, built at the same time by another build: one entry
            if same:
                raise VenvdebError(f"{self.path}: version {entry.version} was taken by another build meanwhile",
                                   hint="run the build again: it will take the next version")
            self.entries.append(entry)
            self.entries.sort(key=lambda e: DebianVersion(e.version))  # builds may end out of order
            if entry.version in self.reserved:
                self.reserved.remove(entry.version)
            self._save()

    def history(self, upto: Entry) -> list[Entry]:
        """The changelog's entries, oldest first, up to ``upto``: those its build had (every
        entry up to the one it ``follows``), else the ledger's before it. (A third build of the
        package at once, ended between another's start and its end, is the one case this counts
        in where that build had not seen it: its rebuild then differs, and says so.)"""
        entries = self.entries if upto in self.entries else [*self.entries, upto]
        if upto.follows is None:
            return entries[: entries.index(upto) + 1]
        if not upto.follows:
            return [upto]
        return [e for e in entries if e is not upto and DebianVersion(e.version) <= DebianVersion(upto.follows)] \
            + [upto]
