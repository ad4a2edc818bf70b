"""`venvdeb repo`: the reprepro repository of staging and production suites.

One repository holds every release's two suites (``<distribution>-<release>-staging`` and
``<distribution>-<release>``), each signed (InRelease and Release.gpg) with the configured key.

Older versions: Debian's reprepro (5.3, in bookworm and trixie alike: trixie's is
"5.4.6+really5.3.2", the multiple-versions feature reverted) keeps one version of a package per
suite. So every change of a suite is also recorded as a reprepro snapshot named after it
(``dists/<suite>/snapshots/<package>_<version>/``, signed like the suite): snapshots keep their
pool files, and one apt sources entry for a snapshot makes that version installable again
(``venvdeb repo rollback`` prints it), after which ``apt install <package>=<version>`` works.

Writers are serialised twice: by a flock of venvdeb's own, and by reprepro's --waitforlock for
anyone else. A lock left by a killed reprepro is cleared, but only when no reprepro process is
working on this repository.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from debian.deb822 import Deb822, Release as Deb822Release
from debian.debfile import DebFile
from debian.debian_support import Version

from ..deb import buildinfo_of, check_buildinfo, deb_name, sources_entry
from ..errors import Rejected, ToolError, VenvdebError
from ..files import sha256_file, write_atomic
from ..model import Release
from ..model.results import InitResult, Listed, PromoteResult, Published, RefreshResult, RollbackResult
from . import gates as gate_rules
from . import keyring
from .signing import Key, export_keyring, public_keyring, sign_release, user_id

WAIT_FOR_LOCK = "60"  # reprepro retries: one per second
# Each suite's Release says until when it may be trusted (reprepro's ValidFor): an InRelease
# captured today and served again later is refused by apt and by `wheelhouse fetch` once that has
# passed. `venvdeb repo refresh` re-signs every suite with a new date (Buildbot runs it nightly).
VALID_FOR = "7d"
SUITES = "suites.json"  # what each suite holds, for readers that run no tool (record_suites)
KEYRING = "venvdeb-archive-keyring.gpg"
BUILDINFO = "buildinfo"  # each published package's .buildinfo, served beside dists/ and pool/
KEYRING_BUILDS = "keyring"  # the keyring packages built, before reprepro takes them into pool/ (not served)


@dataclass(frozen=True)
class Suite:
    codename: str
    description: str


def suites(releases: list[Release]) -> list[Suite]:
    found = []
    for r in (point for release in releases for point in release.points()):
        found.append(Suite(r.staging_suite, f"venvdeb {r.name} for {r.distribution}: staging"))
        found.append(Suite(r.production_suite, f"venvdeb {r.name} for {r.distribution}: production"))
    return found


def distributions_conf(suites_: list[Suite], fingerprints_: list[str], architectures: str,
                       valid_for: str = VALID_FOR) -> str:
    """conf/distributions: one stanza per suite, signed by each key of ``fingerprints_`` (two while
    the key is rotated), valid for ``valid_for``."""
    stanzas = []
    for s in suites_:
        stanzas.append("\n".join([
            "Origin: venvdeb", "Label: venvdeb", f"Codename: {s.codename}", f"Suite: {s.codename}",
            f"Architectures: {architectures}", "Components: main", f"Description: {s.description}",
            f"SignWith: {' '.join(fingerprints_)}", f"ValidFor: {valid_for}",
        ]))
    return "\n\n".join(stanzas) + "\n"


def release_date(when: datetime.datetime) -> str:
    """A date as reprepro writes it in a Release: ``Mon, 07 Dec 2026 03:40:00 UTC``."""
    return when.astimezone(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S UTC")


def snapshot_name(package: str, version: str) -> str:
    return f"{package}_{version.replace(':', '%3a')}"


class Repository:
    def __init__(self, base: Path, key: Key | None = None):
        self.base = Path(base)
        self.key = key

    # -- running reprepro ---------------------------------------------------------------------
    def argv(self, *args: str) -> list[str]:
        return ["reprepro", "--basedir", str(self.base), "--waitforlock", WAIT_FOR_LOCK, *args]

    def reprepro(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = self.key.env() if self.key else dict(os.environ)
        proc = subprocess.run(self.argv(*args), capture_output=True, text=True, env=env)
        if check and proc.returncode != 0:
            raise ToolError(f"reprepro {' '.join(args)} failed in {self.base}:\n{proc.stderr.strip()[-1500:]}")
        return proc

    @contextmanager
    def locked(self):
        """Serialise venvdeb's writers, then clear a stale reprepro lock if one was left."""
        self.base.mkdir(parents=True, exist_ok=True)
        with open(self.base / "venvdeb.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.clear_stale_lock()
            yield

    def reprepro_running(self) -> bool:
        base = str(self.base.resolve())
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                continue
            if cmdline and os.path.basename(cmdline[0]) == b"reprepro":
                args = [a.decode(errors="replace") for a in cmdline]
                for i, a in enumerate(args):
                    if a in ("-b", "--basedir") and i + 1 < len(args):
                        if os.path.realpath(os.path.join(cwd, args[i + 1])) == base:
                            return True
                    elif a.startswith("--basedir="):
                        if os.path.realpath(os.path.join(cwd, a.split("=", 1)[1])) == base:
                            return True
        return False

    def clear_stale_lock(self) -> bool:
        lock = self.base / "db" / "lockfile"
        if lock.exists() and not self.reprepro_running():
            # A reprepro orphaned by its killed venvdeb may have finished (and removed it) meanwhile.
            lock.unlink(missing_ok=True)
            # Whatever the killed run left half-done. reprepro's databases are not transactional:
            # an includedeb killed midway can record a package without its references, or leave
            # its file in the pool unknown to the checksum database. The references are rebuilt
            # from the packages the suites hold, then files no index references are removed.
            self.reprepro("rereference")
            self.reprepro("deleteunreferenced")
            return True
        return False

    # -- commands -----------------------------------------------------------------------------
    def init(self, releases: list[Release], architectures: str = "amd64") -> InitResult:
        if self.key is None:
            raise VenvdebError("repo init needs a signing key", hint="give --gnupghome and --key, or --make-key")
        conf = self.base / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        # Run again (a new release's suites), it keeps the keys a rotation left signing.
        signing = self.signing_keys()
        signing = signing if self.key.fingerprint in signing else [self.key.fingerprint]
        write_atomic(conf / "distributions", distributions_conf(suites(releases), signing, architectures).encode())
        write_atomic(conf / "options", b"verbose\n")
        export_keyring(self.key, self.base / KEYRING, signing)
        with self.locked():
            self.reprepro("export")
            self.ensure_keyring()
            self.record_suites()
        return InitResult(str(self.base), [s.codename for s in suites(releases)], str(self.base / KEYRING),
                          self.key.fingerprint)

    # -- the signing keys, and the keyring package --------------------------------------------
    def _distributions(self) -> list[Deb822]:
        """conf/distributions' stanzas, one per suite; none before init."""
        conf = self.base / "conf" / "distributions"
        if not conf.is_file():
            return []
        with open(conf) as f:
            return [p for p in Deb822.iter_paragraphs(f) if "Codename" in p]

    def signing_keys(self) -> list[str]:
        """The fingerprints conf/distributions signs with (the same for every suite)."""
        found = self._distributions()
        return found[0].get("SignWith", "").split() if found else []

    def set_signing_keys(self, fingerprints_: list[str]) -> None:
        """Every suite signed by ``fingerprints_`` from now on: conf/distributions, the served
        keyring, every suite's and snapshot's signature, and the keyring package (under the lock)."""
        stanzas = self._distributions()
        for stanza in stanzas:
            stanza["SignWith"] = " ".join(fingerprints_)
        write_atomic(self.base / "conf" / "distributions", "\n".join(stanza.dump() for stanza in stanzas).encode())
        export_keyring(self.key, self.base / KEYRING, fingerprints_)
        self.reprepro("export")
        self.resign_snapshots()
        self.ensure_keyring()
        self.record_suites()

    def rotate_key(self, new: str) -> list[str]:
        """The transition: every suite signed by its keys and by ``new``, whose public key the
        keyring package carries from now on. The keys it signs with."""
        current = self.signing_keys()
        if new in current:
            raise VenvdebError(f"{self.base}: already signed by {new}",
                               hint="finish the rotation with 'venvdeb repo rotate-key --finish'")
        with self.locked():
            self.set_signing_keys([*current, new])
        return self.signing_keys()

    def finish_rotation(self) -> list[str]:
        """The end of the transition: signed by the newest key alone, the keyring package with it
        alone. Once every host has the keyring that trusts it (the transition's)."""
        current = self.signing_keys()
        if len(current) < 2:
            raise VenvdebError(f"{self.base}: signed by one key ({', '.join(current)}): no rotation to finish",
                               hint="start one with 'venvdeb repo rotate-key --make-key' or '--new-key FINGERPRINT'")
        with self.locked():
            self.set_signing_keys(current[-1:])
        return self.signing_keys()

    def ensure_keyring(self) -> str:
        """venvdeb-archive-keyring with the signing keys, in every suite (under the lock): a new
        version when the keys changed, none when every suite has them already. Its version."""
        fingerprints_ = self.signing_keys()
        data = public_keyring(self.key.gnupghome, fingerprints_)
        codenames = self.codenames()
        have = {suite: self.versions(suite, keyring.PACKAGE) for suite in codenames}
        published = sorted({v for versions in have.values() for v in versions}, key=Version)
        current = None
        if published:
            pool = next(Path(p) for versions in have.values() for v, p in versions.items() if v == published[-1])
            if DebFile(str(pool)).data.get_content(f".{keyring.INSTALLED}") == data:
                current = published[-1]
        # Its versions are the repository's own: 1, 2, 3, one more for each set of keys.
        version = current or (str(int(published[-1]) + 1) if published else "1")
        missing = [suite for suite in codenames if version not in have[suite]]
        if missing:  # built only when a suite lacks it: the same keys and version give the same bytes
            deb = keyring.build(data, version, user_id(self.key.gnupghome, fingerprints_[-1]), fingerprints_,
                                self.base / KEYRING_BUILDS)
            for suite in missing:
                self.reprepro("includedeb", suite, str(deb))
        return version

    def refresh(self, now: datetime.datetime | None = None) -> RefreshResult:
        """Sign every suite's Release again, with today's Date and a new Valid-Until; and every
        rollback snapshot's, whose sources entry `repo rollback` printed (reprepro's export
        signs the suites alone)."""
        if not (self.base / "conf" / "distributions").is_file():
            raise VenvdebError(f"{self.base}: not a repository (no conf/distributions)", hint="run 'venvdeb repo init'")
        with self.locked():
            self.reprepro("export")
            self.resign_snapshots(now)
            self.record_suites()
        found = {}
        for release in sorted((self.base / "dists").glob("*/Release")):
            fields = Deb822Release(release.read_bytes())
            found[fields["Codename"]] = fields.get("Valid-Until", "")
        stale = sorted(suite for suite, until in found.items() if not until)
        if stale:
            raise VenvdebError(f"{self.base}: suites without Valid-Until: {', '.join(stale)} "
                               "(conf/distributions from before ValidFor)",
                               hint="run 'venvdeb repo init' (it rewrites conf/distributions), then refresh")
        return RefreshResult(str(self.base), found)

    def resign_snapshots(self, now: datetime.datetime | None = None) -> int:
        """Each snapshot's Release with ``now``'s Date and a Valid-Until ``VALID_FOR`` later, signed
        again: its indices are as they were, only its dates move. How many."""
        if self.key is None:
            raise VenvdebError("signing the snapshots again needs the signing key", hint="give --gnupghome/--key")
        now = (now or datetime.datetime.now(datetime.timezone.utc)).replace(microsecond=0)
        until = now + datetime.timedelta(days=int(VALID_FOR.rstrip("d")))
        releases = sorted(self.base.glob("dists/*/snapshots/*/Release"))
        signing = self.signing_keys()
        for release in releases:
            fields = Deb822Release(release.read_bytes())
            fields["Date"], fields["Valid-Until"] = release_date(now), release_date(until)
            write_atomic(release, fields.dump().encode())
            sign_release(self.key, release, signing)
        return len(releases)

    def versions(self, suite: str, package: str) -> dict[str, str]:
        """version -> pool file, for every version of ``package`` in ``suite``."""
        proc = self.reprepro("--list-format", "${version}\t${$fullfilename}\n", "listfilter", suite,
                             f"Package (== {package})")
        found = {}
        for line in proc.stdout.splitlines():
            if "\t" in line:
                version, path = line.split("\t", 1)
                found[version] = path
        return found

    def previous(self, suite: str, package: str, version: str) -> str | None:
        """The newest version ``suite`` has of ``package`` that is older than ``version``."""
        older = [v for v in self.versions(suite, package) if Version(v) < Version(version)]
        return max(older, key=Version) if older else None

    def newest(self, suite: str, package: str) -> str | None:
        found = self.versions(suite, package)
        return max(found, key=Version) if found else None

    def keyring(self) -> bytes:
        """The repository's public keyring, as apt's Signed-By reads it."""
        return (self.base / KEYRING).read_bytes()

    def publish(self, suite: str, deb: Path, gates: tuple[str, ...]) -> Published:
        """``deb`` into ``suite``, if each of ``gates`` passed for its bytes (repository/gates.py)."""
        control = DebFile(str(deb)).debcontrol()
        package, version = control["Package"], control["Version"]
        digest = sha256_file(deb)
        gate_rules.require(self.gates(package, version), digest, gates, package, version, str(deb),
                           f"published to {suite}")
        # Checked before anything changes: a .buildinfo refused after includedeb would leave the
        # package in the suite without its snapshot.
        buildinfo = self.buildinfo_to_keep(deb, control, digest)
        with self.locked():
            existing = self.versions(suite, package).get(version)
            if existing:
                if sha256_file(Path(existing)) == digest:
                    # A run killed after includedeb left the package without its snapshot: made now.
                    self.ensure_snapshot(suite, package, version)
                    return Published(suite, package, version, False, "already published with the same bytes")
                raise VenvdebError(
                    f"{suite} already has {package} {version} with different bytes ({existing})",
                    hint="a published version is immutable: rebuild with a new version (venvdeb build bumps it)",
                )
            # Two builds of a package ran at once and the later version was published first: the
            # suite keeps it (reprepro would skip the older one, and say so only on stderr).
            newer = [v for v in self.versions(suite, package) if Version(v) > Version(version)]
            if newer:
                return Published(suite, package, version, False, f"{suite} has the newer {max(newer, key=Version)}")
            self.reprepro("includedeb", suite, str(deb))
            if buildinfo is not None:
                name, data = buildinfo
                write_atomic(self.base / BUILDINFO / name, data)
            self.reprepro("gensnapshot", suite, snapshot_name(package, version))
            self.record_suites()
        return Published(suite, package, version, True, snapshot=f"{suite}/snapshots/{snapshot_name(package, version)}")

    @staticmethod
    def buildinfo_to_keep(deb: Path, control, digest: str) -> tuple[str, bytes] | None:
        """The .buildinfo beside ``deb`` (dpkg's record of its build), checked to record this very
        file: its name under buildinfo/, where publish puts it for anyone to rebuild the package,
        and its bytes; None if the package has none."""
        found = buildinfo_of(deb)
        if not found.is_file():
            return None
        name = deb_name(control)
        return f"{name.removesuffix('.deb')}.buildinfo", check_buildinfo(found, name, digest)

    def promote(self, source: str, dest: str, package: str, version: str, gates: tuple[str, ...]) -> PromoteResult:
        """``package`` ``version`` from ``source`` to ``dest``, if each of ``gates`` passed for the
        very file in ``source``."""
        record = self.gates(package, version)
        failed = {g: _not_passed(g, record.get(g), package, version) for g in gates}
        failed = {g: why for g, why in failed.items() if why}
        if failed:
            why = "; ".join(f"{g}: {why}" for g, why in failed.items())
            raise Rejected(
                f"{package} {version} cannot be promoted to {dest}: gate(s) not passed: {why}",
                hint="run them for the file in staging: " + gate_rules.commands(gates, failed,
                                                                                f"<{package}_{version}.deb>"),
            )
        with self.locked():
            staged = self.versions(source, package)
            if version not in staged:
                raise VenvdebError(f"{source} has no {package} {version}", hint="publish it to staging first")
            # The gates passed for one file: the one promoted must be it, byte for byte.
            if sha256_file(Path(staged[version])) != record.get("sha256"):
                raise Rejected(
                    f"{package} {version} in {source} is not the file whose gates passed "
                    f"(sha256 {sha256_file(Path(staged[version]))}, gates recorded for {record.get('sha256')})",
                    hint=f"run the gates again for the file in {source}, or publish the file they passed for")
            if version in self.versions(dest, package):
                self.ensure_snapshot(dest, package, version)  # a promotion killed before it
                return PromoteResult(dest, package, version, False, "already there")
            self.reprepro("copyfilter", dest, source, f"Package (== {package}), Version (== {version})")
            self.reprepro("gensnapshot", dest, snapshot_name(package, version))
            self.record_suites()
        return PromoteResult(dest, package, version, True, snapshot=f"{dest}/snapshots/{snapshot_name(package, version)}")

    def record_suites(self) -> None:
        """What each suite holds (package -> version and pool file), written after every change
        under the repository's lock, for readers that must run no tool (the release page)."""
        listed = {}
        for suite in self.codenames():
            proc = self.reprepro("--list-format", "${package}\t${version}\t${$fullfilename}\n", "list", suite,
                                 check=False)
            listed[suite] = {package: [version, pool] for package, version, pool in
                             (line.split("\t") for line in proc.stdout.splitlines() if line.count("\t") == 2)} \
                if proc.returncode == 0 else {}
        write_atomic(self.base / SUITES, json.dumps(listed, indent=1, sort_keys=True).encode())

    def suites(self) -> dict[str, dict[str, tuple[str, Path]]]:
        """What record_suites wrote: suite -> package -> (version, pool file); nothing if never."""
        try:
            data = json.loads((self.base / SUITES).read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return {suite: {package: (version, Path(pool)) for package, (version, pool) in packages.items()}
                for suite, packages in data.items()}

    def codenames(self) -> list[str]:
        return [p["Codename"] for p in self._distributions()]

    def ensure_snapshot(self, suite: str, package: str, version: str) -> None:
        """The snapshot of ``suite`` with ``package`` ``version``, if a killed run did not make it
        (under the repository's lock, the suite still has that version)."""
        if snapshot_name(package, version) not in self.snapshots(suite):
            self.reprepro("gensnapshot", suite, snapshot_name(package, version))

    def snapshots(self, suite: str) -> list[str]:
        where = self.base / "dists" / suite / "snapshots"
        return sorted(p.name for p in where.iterdir()) if where.is_dir() else []

    def restore(self, suite: str, package: str, version: str) -> RollbackResult:
        """Make ``version`` (which ``suite`` had: its snapshot says so) ``package``'s version in
        ``suite`` again, as reprepro's restore does: new installs and `apt install
        package=version` get it."""
        name = snapshot_name(package, version)
        with self.locked():
            if name not in self.snapshots(suite):
                raise VenvdebError(f"{suite} never had {package} {version} (no snapshot {name})",
                                   hint=f"known snapshots: {', '.join(self.snapshots(suite)) or 'none'}")
            current = sorted(self.versions(suite, package))
            if current == [version]:
                return RollbackResult(suite, package, version, restored=False, reason="already the suite's version")
            self.reprepro("restore", suite, name, package)
            self.record_suites()
        return RollbackResult(suite, package, version, restored=True, replaced=current)

    def rollback_sources(self, suite: str, package: str, version: str, url: str, keyring: str) -> str:
        """The deb822 sources entry that makes ``package`` ``version`` installable again."""
        name = snapshot_name(package, version)
        if name not in self.snapshots(suite):
            raise VenvdebError(f"{suite} never had {package} {version} (no snapshot {name})",
                               hint=f"known snapshots: {', '.join(self.snapshots(suite)) or 'none'}")
        return sources_entry(url, f"{suite}/snapshots/{name}", keyring)

    def list(self, suite: str, keyring_too: bool = False) -> list[Listed]:
        """The suite's packages: the releases' own, and with ``keyring_too`` the repository's
        keyring package, which every suite has."""
        proc = self.reprepro("--list-format", "${package}\t${version}\t${architecture}\n", "list", suite)
        return [Listed(*line.split("\t")) for line in proc.stdout.splitlines()
                if line.count("\t") == 2 and (keyring_too or line.split("\t")[0] != keyring.PACKAGE)]

    # -- gate records -------------------------------------------------------------------------
    def gates_path(self, package: str, version: str) -> Path:
        return self.base / "gates" / f"{package}_{version.replace(':', '%3a')}.json"

    def gates(self, package: str, version: str) -> dict:
        path = self.gates_path(package, version)
        return json.loads(path.read_text()) if path.is_file() else {}

    def record_gate(self, package: str, version: str, gate: str, result: dict, deb_sha256: str) -> None:
        # lint (from a worker) and smoke (on the master) end at about the same time: under a lock
        # of its own (a publish may hold the repository's), neither result overwrites the other.
        self.gates_path(package, version).parent.mkdir(parents=True, exist_ok=True)
        with open(self.base / "gates" / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            record = self.gates(package, version)
            if record.get("sha256") not in (None, deb_sha256):
                record = {}  # another build of the same version: its results do not carry over
            record["sha256"] = deb_sha256
            record[gate] = result
            write_atomic(self.gates_path(package, version), json.dumps(record, indent=1, sort_keys=True).encode())


def _not_passed(gate: str, result, package: str, version: str) -> str | None:
    """Why ``gate``'s recorded ``result`` does not let ``package`` ``version`` be promoted, or None.
    The cloud gate must have passed with this very version installed beside the others."""
    if not isinstance(result, dict):
        return "not run"
    if result.get("passed") is not True:
        return "failed"
    if gate == "cloud" and (result.get("versions") or {}).get(package) != version:
        return f"passed with {package} {(result.get('versions') or {}).get(package)} installed, not {version}"
    return None
