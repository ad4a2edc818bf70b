"""`venvdeb smoke`: install a package with apt in a clean chroot of the target distribution.

apt is configured with a deb822 .sources entry for the staging suite, Signed-By the
repository's keyring. The candidate .deb is installed by apt from a local path (apt resolves
its dependencies from the configured suites); when staging already holds an earlier version,
that one is installed first and the candidate upgrades it. Then: the service's own commands,
pip check, every console script's entry point, no build path in the venv, systemd-analyze
verify of the units; then purge, and nothing may be left behind.
"""

from __future__ import annotations

import json
import os
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

from debian.debfile import DebFile
from debian.debian_support import Version

from . import chroot
from .model import Release, Service
from .repo import KEYRING, Repository, sources_entry
from .serve import serving

KEYRING_IN_CHROOT = "/etc/apt/keyrings/venvdeb.gpg"
# Where files may come and go without being the package's: apt's and dpkg's own state, logs.
VOLATILE = ("proc", "sys", "dev", "run", "tmp", "var/cache", "var/lib/apt", "var/lib/dpkg", "var/log",
            "var/lib/systemd", "var/lib/ucf", "etc/ld.so.cache")
# Accounts stay after purge, as Debian policy has it: a reused UID could own old files.
ACCOUNTS = ("etc/passwd", "etc/passwd-", "etc/group", "etc/group-", "etc/shadow", "etc/shadow-",
            "etc/gshadow", "etc/gshadow-", "etc/subuid", "etc/subgid", "etc/subuid-", "etc/subgid-")


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""
    seconds: float = 0.0


@dataclass
class SmokeResult:
    package: str
    version: str
    checks: list[Check] = field(default_factory=list)
    upgraded_from: str | None = None

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def as_dict(self) -> dict:
        return {"package": self.package, "version": self.version, "passed": self.passed,
                "upgraded_from": self.upgraded_from, "checks": [vars(c) for c in self.checks]}


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path of the chroot outside the volatile places, with what it is."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel != "." and rel.startswith(VOLATILE):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            key = os.path.relpath(path, root)
            if key.startswith(VOLATILE) or key in ACCOUNTS:
                continue
            st = os.lstat(path)
            found[key] = (st.st_mode, st.st_size if not os.path.isdir(path) else 0)
    return found


# As the generated console script does it: `from <module> import <first attribute>`, which may
# import a submodule, then the remaining attributes.
ENTRY_POINT_CHECK = """
import importlib, importlib.metadata, sys
wanted = set(sys.argv[1:])
found = {e.name: e for e in importlib.metadata.entry_points(group="console_scripts") if e.name in wanted}
missing = wanted - set(found)
if missing:
    sys.exit("no entry point for: " + ", ".join(sorted(missing)))
for name, ep in sorted(found.items()):
    first, *rest = ep.attr.split(".")
    obj = getattr(__import__(ep.module, fromlist=[first]), first)
    for attr in rest:
        obj = getattr(obj, attr)
    if not callable(obj):
        sys.exit(f"{name}: {ep.value} is not callable")
print("imported", len(found), "entry points")
"""


class Smoke:
    def __init__(self, release: Release, service: Service, repo: Repository, cache_dir: Path,
                 max_age: float = chroot.DEFAULT_MAX_AGE, log=print):
        self.release, self.service, self.repo = release, service, repo
        self.cache_dir, self.max_age, self.log = cache_dir, max_age, log

    def run(self, deb: Path) -> SmokeResult:
        control = DebFile(str(deb)).debcontrol()
        result = SmokeResult(control["Package"], control["Version"])
        tarball = chroot.tarball(self.release.distribution, self.cache_dir, self.max_age, self.log)
        with serving(self.repo.base) as url, chroot.fresh(tarball) as ch:
            self._configure(ch, url)
            self._step(result, "apt-get update", lambda: ch.run(["apt-get", "update"]))
            if not result.passed:
                return result
            before = snapshot(ch.root)
            previous = self._previous(result.version)
            if previous:
                result.upgraded_from = previous
                self._step(result, f"install {result.package} {previous} from staging",
                           lambda: ch.run(["apt-get", "install", "-y", f"{result.package}={previous}"]))
            candidate = f"/tmp/candidate/{deb.name}"
            ch.write(candidate, deb.read_bytes())
            verb = "upgrade to" if previous else "install"
            self._step(result, f"{verb} {result.package} {result.version} with apt",
                       lambda: ch.run(["apt-get", "install", "-y", candidate]))
            if result.passed:
                self._checks(ch, result)
            self._step(result, f"purge {result.package}", lambda: ch.run(["apt-get", "purge", "-y", result.package]))
            if result.passed:
                left = sorted(set(snapshot(ch.root)) - set(before))
                result.checks.append(Check("nothing left after purge", not left, "\n".join(left[:50])))
        return result

    def from_staging(self) -> SmokeResult:
        """What an operator does: `apt install <package>` from the signed staging suite."""
        package = self.service.package
        versions = self.repo.versions(self.release.staging_suite, package)
        result = SmokeResult(package, max(versions, key=Version) if versions else "")
        tarball = chroot.tarball(self.release.distribution, self.cache_dir, self.max_age, self.log)
        with serving(self.repo.base) as url, chroot.fresh(tarball) as ch:
            self._configure(ch, url)
            self._step(result, "apt-get update", lambda: ch.run(["apt-get", "update"]), show=True)
            self._step(result, f"apt install {package}", lambda: ch.run(["apt-get", "install", "-y", package]),
                       show=True)
            if result.passed:
                for command in self.service.smoke_commands:
                    self._step(result, f"run: {command}", lambda c=command: ch.run(shlex.split(c)), show=True)
        return result

    def _configure(self, ch: chroot.Chroot, url: str) -> None:
        ch.write(KEYRING_IN_CHROOT, (self.repo.base / KEYRING).read_bytes())
        ch.write("/etc/apt/sources.list.d/venvdeb.sources",
                 sources_entry(url, self.release.staging_suite, KEYRING_IN_CHROOT))
        ch.write("/etc/apt/apt.conf.d/90venvdeb",
                 'Acquire::Languages "none";\nAPT::Install-Recommends "false";\n'
                 # a chroot has no /dev/pts: dpkg's output is logged without one
                 'Dpkg::Use-Pty "0";\n')

    def _previous(self, version: str) -> str | None:
        """The newest version staging has of this package that is older than the candidate."""
        older = [v for v in self.repo.versions(self.release.staging_suite, self.service.package)
                 if Version(v) < Version(version)]
        return max(older, key=Version) if older else None

    def _step(self, result: SmokeResult, name: str, action, show: bool = False) -> None:
        started = time.monotonic()
        proc = action()
        ok = proc.returncode == 0
        detail = "" if ok else (proc.stdout + proc.stderr)[-2500:]
        result.checks.append(Check(name, ok, detail, round(time.monotonic() - started, 1)))
        self.log(f"smoke: {'ok  ' if ok else 'FAIL'} {name}")
        if show:  # the demo shows what apt and the commands said
            for line in (proc.stdout + proc.stderr).strip().splitlines()[-12:]:
                self.log(f"    | {line}")

    def _checks(self, ch: chroot.Chroot, result: SmokeResult) -> None:
        venv = f"/usr/lib/venvs/{self.service.name}"
        for command in self.service.smoke_commands:
            self._step(result, f"run: {command}", lambda c=command: ch.run(shlex.split(c)))
        self._step(result, "pip check", lambda: ch.run([f"{venv}/bin/python", "-m", "pip", "check"]))
        if self.service.console_scripts:
            self._step(result, "console scripts' entry points import",
                       lambda: ch.run([f"{venv}/bin/python", "-c", ENTRY_POINT_CHECK, *self.service.console_scripts]))
        # A build tree path always contains debian/<package>/ before the venv's path.
        self._step(result, "no file in the venv names the build path",
                   lambda: _inverted(ch.run(["grep", "-rlF", f"debian/{self.service.package}{venv}", venv])))
        units = [f"/lib/systemd/system/{d.name}.service" for d in self.service.daemons]
        if units:
            if (ch.root / "usr/bin/systemd-analyze").exists():
                self._step(result, "systemd-analyze verify",
                           lambda: ch.run(["systemd-analyze", "verify", "--man=no", *units]))
            else:
                result.checks.append(Check("systemd-analyze verify", True, "skipped: not in the chroot"))


def _inverted(proc):
    """grep finds nothing (1): the check passes; it finds something (0): it fails, listing it."""
    proc.returncode = {0: 1, 1: 0}.get(proc.returncode, proc.returncode)
    return proc


def gate_record(result: SmokeResult) -> dict:
    return json.loads(json.dumps(result.as_dict()))
