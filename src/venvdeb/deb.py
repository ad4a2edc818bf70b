"""Debian helpers every stage uses: dpkg and apt in an environment, changelogs, file dates,
dpkg-buildpackage.

Each takes the environment it works in (venvdeb.environment): the same helper installs the
wheelhouse on this host or a package in a clean chroot.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import textwrap
from collections.abc import Iterable
from datetime import timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from debian.changelog import Changelog
from debian.deb822 import BuildInfo, Deb822, PkgRelation

from .environment import Environment, unprivileged
from .errors import Rejected, ToolError, VenvdebError
from .files import sha256_file, take, write_atomic
from .progress import activity, say

APT_VARIABLES = {"DEBIAN_FRONTEND": "noninteractive"}


# dpkg and apt ----------------------------------------------------------------------------------

def query_argv(packages: list[str]) -> list[str]:
    return ["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n", *packages]


def install_argv(packages: list[str]) -> list[str]:
    return ["apt-get", "install", "--yes", "--no-install-recommends", *packages]


def missing(environment: Environment, packages: list[str]) -> list[str]:
    if not packages:
        return []
    result = environment.run(query_argv(packages))
    installed = {line.split()[0] for line in result.stdout.splitlines()
                 if line.split()[1:] == ["installed"]}
    return [p for p in packages if p not in installed]


def ensure_installed(environment: Environment, packages: list[str], install: bool, where: str, log=say) -> None:
    """Check that ``packages`` are installed; install the missing ones with apt when ``install``."""
    absent = missing(environment, list(packages))
    if not absent:
        return
    if not install:
        raise VenvdebError(
            f"{where}: build_depends not installed: {', '.join(absent)}",
            hint=f"run 'apt-get install {' '.join(absent)}', or pass --install-build-deps",
        )
    log(f"installing build-dependencies: {' '.join(absent)}")
    result = environment.run(install_argv(absent), setenv=APT_VARIABLES)
    if result.returncode != 0:
        raise ToolError(
            f"{where}: apt-get could not install {', '.join(absent)}:\n{result.stderr[-1500:]}",
            hint="check the package names for this distribution, and run apt-get update",
        )


def sources_entry(url: str, suite: str, keyring: str) -> str:
    """A deb822 .sources stanza for apt, Signed-By the repository's keyring."""
    return str(Deb822({"Types": "deb", "URIs": url, "Suites": suite, "Components": "main", "Signed-By": keyring}))


# changelogs and dates ---------------------------------------------------------------------------

def changelog(package: str, distribution: str, maintainer: str, history) -> str:
    """debian/changelog from a history of entries (version, date, changes), oldest first."""
    log = Changelog()
    for entry in history:  # new_block() puts each entry on top: oldest first
        log.new_block(
            package=package, version=entry.version, distributions=distribution, urgency="medium",
            author=maintainer, date=entry.date,
            changes=["", *[line for c in entry.changes for line in change_lines(c)], ""],
        )
    return str(log)


def change_lines(change: str) -> list[str]:
    """One change as debian/changelog lays it out: a bullet, wrapped at 80 columns (lintian warns
    of longer lines: a farm's reason names a repository and a commit). A word (a URL, a path) is
    never split."""
    return textwrap.wrap(change, width=80, initial_indent="  * ", subsequent_indent="    ",
                         break_long_words=False, break_on_hyphens=False) or ["  *"]


def epoch_of_date(date: str) -> int:
    """SOURCE_DATE_EPOCH of a changelog date: the time every file of the package gets."""
    return int(parsedate_to_datetime(date).astimezone(timezone.utc).timestamp())


def epoch_of(entry) -> int:
    return epoch_of_date(entry.date)


def year_of(entry) -> int:
    return parsedate_to_datetime(entry.date).year


def package_version(tree: Path) -> str:
    """What a rendered tree builds, as a person names it: "venv-nova 34.0.0-deb12u1"."""
    top = Changelog((tree / "debian" / "changelog").read_text())
    return f"{top.package} {top.version}"


def changelog_epoch(tree: Path) -> int:
    """SOURCE_DATE_EPOCH of a rendered tree: the date of its changelog's last entry."""
    return epoch_of_date(Changelog((tree / "debian" / "changelog").read_text()).date)


def clamp_mtimes(tree: Path, epoch: int) -> None:
    for root, dirs, files in os.walk(tree):
        for name in dirs + files:
            os.utime(os.path.join(root, name), (epoch, epoch), follow_symlinks=False)


# dpkg-buildpackage ------------------------------------------------------------------------------

def buildpackage_argv(checked_build_depends: bool = False) -> list[str]:
    # -b: binary only (the source is generated, never uploaded); -us -uc: signing is the
    # repository's job; --no-pre-clean: the tree was just rendered, there is nothing to clean;
    # -d: the Build-Depends were checked already, with a clearer message than dpkg-buildpackage's.
    return ["dpkg-buildpackage", "-b", "-us", "-uc", "--no-pre-clean", *(["-d"] if checked_build_depends else [])]


def check_build_depends(environment: Environment, tree: Path, provided: Iterable[str] = ()) -> None:
    """dpkg-checkbuilddeps for the tree's Build-Depends, but those on ``provided`` packages, which
    the build has without dpkg knowing (the wheelhouse, read-only from the cache)."""
    argv = ["dpkg-checkbuilddeps"]
    if provided:
        argv += ["-d", build_depends_without(tree, set(provided))]
    missing_ = environment.run(argv, cwd=tree)
    if missing_.returncode != 0:
        raise VenvdebError(f"{tree.name}: {missing_.stderr.strip()}", hint="install them, or pass --install-build-deps")


def build_depends_without(tree: Path, provided: set[str]) -> str:
    """The source's Build-Depends, as debian/control says them, without the relations on ``provided``."""
    with open(tree / "debian" / "control") as f:
        source = next(Deb822.iter_paragraphs(f))
    relations = PkgRelation.parse_relations(source.get("Build-Depends", ""))
    kept = [alternatives for alternatives in relations if not any(r["name"] in provided for r in alternatives)]
    return PkgRelation.str(kept)


def buildpackage(environment: Environment, tree: Path, log_file: Path, *, setenv: dict | None = None,
                 unset: Iterable[str] = (), check_depends: bool = False, hint: str | None = None,
                 provided: Iterable[str] = ()) -> Path:
    """dpkg-buildpackage in a rendered tree, its files dated by the changelog; the one .deb it
    wrote beside the tree (a debug package is not shipped)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    epoch = changelog_epoch(tree)
    clamp_mtimes(tree, epoch)
    if check_depends:
        check_build_depends(environment, tree, provided)
    # MAKEFLAGS: a caller's make jobserver would make the build depend on who started it.
    variables = {"SOURCE_DATE_EPOCH": str(epoch), "LC_ALL": "C.UTF-8", "TZ": "UTC", **(setenv or {})}
    with activity(f"{package_version(tree)}: dpkg-buildpackage", log_file):
        # Offline: debian/rules needs only what is installed (the wheelhouse), and the code it
        # runs (a service's build commands, its config generator) has no network to reach.
        result = environment.run(buildpackage_argv(check_depends), cwd=tree, setenv=variables,
                                 unset=("MAKEFLAGS", *unset), offline=True)
        log_file.write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
            raise Rejected(f"dpkg-buildpackage failed for {tree.name} (log: {log_file}):\n{tail}", hint=hint)
    debs = sorted(p for p in tree.parent.glob("*.deb") if "-dbgsym_" not in p.name and not p.is_symlink())
    if len(debs) != 1:
        raise VenvdebError(f"dpkg-buildpackage produced {[d.name for d in debs]}, expected one .deb (log: {log_file})")
    return debs[0]


def buildinfo_of(deb: Path) -> Path:
    """Where venvdeb keeps the .buildinfo of ``deb``: beside it, under the same name. (dpkg names
    it for the source and the build's architecture, which is not an arch-all package's.)"""
    return Path(deb).with_suffix(".buildinfo")


def deb_name(control) -> str:
    """The file name Debian gives a package: ``<package>_<version without epoch>_<arch>.deb``."""
    return f"{control['Package']}_{control['Version'].split(':', 1)[-1]}_{control['Architecture']}.deb"


def check_buildinfo(buildinfo: Path, name: str, sha256: str) -> bytes:
    """``buildinfo`` is dpkg's record of the build of this very file: it names the package file
    ``name`` with its ``sha256``. Anything else is refused. The bytes checked, read once."""
    try:
        data = Path(buildinfo).read_bytes()
        info = BuildInfo(io.BytesIO(data))
        named = {entry["name"]: entry["sha256"] for entry in info.get("Checksums-Sha256", [])}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Rejected(f"{buildinfo}: not a .buildinfo ({exc})") from None
    if named.get(name) != sha256:
        raise Rejected(f"{buildinfo}: does not record {name} with sha256 {sha256} "
                       f"(it names {', '.join(f'{n} {d}' for n, d in sorted(named.items())) or 'nothing'})",
                       hint="it is another build's record: keep each .deb with the .buildinfo its build wrote")
    return data


def take_buildinfo(built: Path, final: Path, sha256: str, within: Path) -> Path:
    """The .buildinfo dpkg-buildpackage wrote beside ``built``, taken beside ``final`` (files.take),
    once checked to record ``final``'s bytes: how that file was built, for anyone to rebuild it."""
    dest = buildinfo_of(final)
    written = sorted(Path(built).parent.glob("*.buildinfo"))
    if len(written) != 1:
        raise VenvdebError(f"dpkg-buildpackage wrote {len(written)} .buildinfo files beside {Path(built).name}, "
                           "not one")
    take(written[0], dest, within, limit=1 << 20)
    check_buildinfo(dest, Path(final).name, sha256)
    return dest


# -- rebuilds: the same bytes, or diffoscope's account of how they differ -------------------------

REPORT_LINES = 200  # of diffoscope's report, in a rebuild's result (the whole report is kept in a file)
DIFFOSCOPE_TIMEOUT = 900


def diffoscope_argv(first: Path, second: Path) -> list[str]:
    """diffoscope's text report, on stdout, of how ``second`` differs from ``first``; its exit
    status is 1 when they differ. Bounded: a package that differs everywhere gives a report one can
    read."""
    return ["diffoscope", "--text", "-", "--max-report-size", str(4 << 20),
            "--max-diff-block-lines", "200", "--exclude-directory-metadata", "no", str(first), str(second)]


def diffoscope(first: Path, second: Path, report: Path) -> str:
    """How the two packages differ: the first lines of diffoscope's report (all of it written to
    ``report``). diffoscope reads what a builder made: as nobody, offline, from copies of its own
    (environment/unprivileged.py), its report read from its output."""
    if not shutil.which("diffoscope"):
        raise VenvdebError("diffoscope is not installed: it shows how a rebuild differs",
                           hint="apt-get install diffoscope-minimal")
    with unprivileged.readable(first, second) as (one, other):
        proc = subprocess.run(unprivileged.argv(diffoscope_argv(one, other)), capture_output=True, text=True,
                              timeout=DIFFOSCOPE_TIMEOUT, env=unprivileged.variables(), cwd=unprivileged.CWD)
    if proc.returncode not in (0, 1):
        raise ToolError(f"diffoscope failed (exit {proc.returncode}) on {first.name}: {proc.stderr.strip()[-400:]}")
    # The copies' directories name nothing: the report says the files' own paths.
    text = proc.stdout.replace(str(one), str(first)).replace(str(other), str(second))
    write_atomic(report, text.encode())
    lines = text.splitlines()
    shown = lines[:REPORT_LINES]
    if len(lines) > REPORT_LINES:
        shown.append(f"... {len(lines) - REPORT_LINES} more lines in {report}")
    return "\n".join(shown)


def compare_rebuild(original: Path, rebuilt: Path, wanted: str) -> tuple[str, Path | None, str]:
    """A rebuild of ``original`` (sha256 ``wanted``) against it: (the rebuild's sha256, diffoscope's
    report or None, its first lines). The same bytes: the rebuilt copy and what its build left
    beside it go. Other bytes: they are kept, with the report beside them."""
    got = sha256_file(rebuilt)
    if got == wanted:
        for leftover in (rebuilt, rebuilt.with_name(rebuilt.name + ".sha256"), buildinfo_of(rebuilt)):
            leftover.unlink(missing_ok=True)
        return got, None, ""
    report = rebuilt.with_name(rebuilt.name.removesuffix(".deb") + ".diffoscope.txt")
    return got, report, diffoscope(original, rebuilt, report)
