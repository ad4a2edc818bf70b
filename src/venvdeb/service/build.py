"""`venvdeb build`: a service's dh-virtualenv package, from its wheelhouse alone.

1. the wheelhouse .deb of the release is in the build environment (it is a Build-Depends, at
   its exact version: its payload, unpacked once into the cache, read-only), and the service's
   closure is walked over its manifest;
2. the next version and changelog entry come from the service's ledger;
3. the source tree is rendered from templates/ into a temporary directory and built with
   dpkg-buildpackage; dh_virtualenv installs with --no-index from the wheelhouse, every
   requirement pinned with its hash;
4. only a complete .deb is moved into the output directory, and only then is the ledger updated.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from debian.debfile import DebFile
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from .. import deb
from ..environment import Environment, prepare, stale
from ..environment.python import PIP_UNSET
from ..errors import ToolError, VenvdebError
from ..files import checksum_file, record_checksum, take, verified_sha256, verify_checksum
from ..model import Point, Service
from ..model.closure import Root
from ..model.ledger import Entry, Ledger, ledger_file
from ..model.manifest import WheelItem, wheel_dir
from ..model.results import BuildResult, PlanResult, RenderResult
from ..model.versions import debian_upstream, next_version
from . import git_source, sbom
from .installed import Wheelhouse, closure
from .render import TEMPLATES, RenderInputs, render, used_templates
from .sbuild import build_in_sbuild
from ..progress import say

# What building any service package needs on the host, besides the wheelhouse.
HOST_BUILD_DEPENDS = ["debhelper", "dh-virtualenv", "dpkg-dev", "python3-venv", "fakeroot"]


@dataclass
class BuildOptions:
    cache_dir: Path
    out_dir: Path  # out/<release>
    state_dir: Path
    reason: str = "Rebuild."
    install_build_deps: bool = False
    wheelhouse_deb: Path | None = None
    isolation: str = "chroot"  # the build environment (a clean chroot), or "sbuild": Debian's, see sbuild.py
    # A build triggered by a new wheelhouse: skipped when neither the service's closure (its wheels,
    # by sha256) nor its packaging changed since the package's last build.
    only_if_changed: bool = False
    # With only_if_changed, whether the last build (given its version) may stand for this one: a
    # pipeline keeps it only when staging holds it gated. None: whenever unchanged.
    keep: Callable[[str], bool] | None = None
    packaging_commit: str = ""  # the packaging repository's commit the root was checked out at
    # The version, when another place decides it (a farm's master, from what is published and in
    # flight); else the next one in the ledger here.
    version: str = ""


def packaging_digest(service: Service, templates: Path = TEMPLATES) -> str:
    """What the package is made from besides its wheels: the service file, the version the release
    gives it, and the templates its debian/ is rendered from (not the others)."""
    h = hashlib.sha256(service.path.read_bytes())
    # The source as the packaging says it: venvdeb's own ("..") is another path on each worker.
    h.update(f"\nsource {replace(service.source, git=service.source.written)}\n".encode())
    for name in used_templates(service, templates):
        h.update(f"{name}\n".encode())
        h.update((templates / name).read_bytes())
    return h.hexdigest()


def latest_wheelhouse_deb(point: Point, options: BuildOptions) -> Path:
    """The wheelhouse .deb a build uses (given, or the last one built here), checked whole first."""
    rebuild = f"venvdeb wheelhouse build {point.name} --dist {point.distribution}"
    if options.wheelhouse_deb:
        verify_checksum(options.wheelhouse_deb, rebuild)
        version = DebFile(str(options.wheelhouse_deb)).debcontrol()["Version"]
        if point.built_for(version) != point.distribution:
            raise VenvdebError(f"{options.wheelhouse_deb}: version {version} is not a wheelhouse for "
                               f"{point.distribution}, which release {point.name} is being built for here",
                               hint=f"give the {point.distribution} wheelhouse (its version ends in "
                                    f"+deb{point.debian}), or --dist {point.built_for(version) or '...'}")
        return options.wheelhouse_deb
    last = Ledger(options.state_dir / ledger_file(point.name, point.distribution, point.wheelhouse_package)).last()
    found = sorted(options.out_dir.glob(f"{point.wheelhouse_package}_{last.version}_*.deb")) if last else []
    if not found:
        raise VenvdebError(
            f"no {point.wheelhouse_package} for release {point.name} on {point.distribution} in {options.out_dir}",
            hint=f"build it first: {rebuild}",
        )
    verify_checksum(found[0], rebuild)
    return found[0]


def wheelhouse_from_deb(point: Point, options: BuildOptions, work: Path) -> Wheelhouse:
    """The wheelhouse as the chroot will see it, read from the .deb without installing it here."""
    deb = latest_wheelhouse_deb(point, options)
    install_dir = "/" + wheel_dir(point.name)
    (work / "manifest.json").write_bytes(DebFile(str(deb)).data.get_content(f".{install_dir}/manifest.json"))
    return Wheelhouse.load(work, install_dir)


def ensure_wheelhouse(point: Point, options: BuildOptions, environment: Environment, log) -> Wheelhouse:
    """The wheelhouse in the build's chroot, where the service's debian/rules reads it: its
    payload, unpacked once per .deb by the host into the cache, which the chroot sees read-only
    (a link at its install directory leads there); installing 160 MB with dpkg into every fresh
    chroot cost a build seconds. dpkg-buildpackage is then told the Build-Depends on it holds."""
    wheelhouse_deb = latest_wheelhouse_deb(point, options)
    install_dir = "/" + wheel_dir(point.name)
    package = DebFile(str(wheelhouse_deb))
    payload = unpacked(wheelhouse_deb, package, install_dir, options.cache_dir)
    # The manifest the host unpacked is the one the wheelhouse build left beside the .deb, when
    # it left one (a .deb fetched from the repository comes alone: its manifest is its own).
    beside = manifest_beside(wheelhouse_deb, package)
    if beside.is_file() and (payload / "manifest.json").read_bytes() != beside.read_bytes():
        raise VenvdebError(f"{wheelhouse_deb}: its manifest is not the one its build recorded beside it",
                           hint=f"build it again: venvdeb wheelhouse build {point.name} --dist {point.distribution}")
    log(f"{wheelhouse_deb.name}: at {install_dir} (the service's Build-Depends), read-only")
    environment.run(["sh", "-ec", 'mkdir -p "${2%/*}"; ln -sfn "$1" "$2"', "link", str(payload), install_dir],
                    check=True)
    return Wheelhouse.load(payload, install_dir)


def unpacked(wheelhouse_deb: Path, package: DebFile, install_dir: str, cache_dir: Path) -> Path:
    """The wheelhouse's payload (its wheels, SHA256SUMS, manifest.json, constraints.txt) under
    ``<cache>/wheelhouses/<the .deb's sha256>``, unpacked by the host once: regular files of the
    install directory only, each written new (a link in the archive, or a name leading elsewhere,
    is refused), moved into place when complete."""
    digest = verified_sha256(wheelhouse_deb)  # latest_wheelhouse_deb has just checked it whole
    final = Path(cache_dir) / "wheelhouses" / digest
    if (final / "manifest.json").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=final.parent, prefix=stale.owned(stale.UNPACK)))
    try:
        prefix = install_dir.strip("/") + "/"
        tar = package.data.tgz()
        for member in tar:
            name = member.name.removeprefix("./")
            if not name.startswith(prefix) or member.isdir():
                continue
            inside = name[len(prefix):]
            if not member.isfile() or not inside or "/" in inside or inside in (".", ".."):
                raise VenvdebError(f"{wheelhouse_deb}: {member.name} is not a file of the wheelhouse's own")
            with tar.extractfile(member) as src, open(work / inside, "xb") as dest:
                shutil.copyfileobj(src, dest)
            # The package's own mtime (its build's SOURCE_DATE_EPOCH), as dpkg would leave it:
            # installers that note a file's mtime note the same one on every machine.
            os.utime(work / inside, (member.mtime, member.mtime))
        if not (work / "manifest.json").is_file():
            raise VenvdebError(f"{wheelhouse_deb}: no {install_dir}/manifest.json: not a venvdeb wheelhouse")
        try:
            work.rename(final)
        except OSError:  # another build unpacked it meanwhile
            if not (final / "manifest.json").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def manifest_beside(deb: Path, package: DebFile) -> Path:
    """Where the wheelhouse build left a copy of the manifest, beside the .deb."""
    control = package.debcontrol()
    return deb.with_name(f"{control['Package']}_{control['Version']}.manifest.json")


@dataclass
class Prepared:
    inputs: RenderInputs
    ledger: Ledger

    @property
    def entry(self):
        return self.inputs.history[-1]


def homepage_of(git: str) -> str | None:
    """A git source's web address for the package's Homepage: an http(s) URL. A repository on this
    machine (venvdeb's own, 'git = ".."'), ssh or git:// has none the package could name."""
    return git if re.match(r"https?://", git) else None


def prepare_build(point: Point, service: Service, options: BuildOptions, environment: Environment,
                  log=say, reserve: bool = False, replay: Entry | None = None) -> Prepared:
    """Everything a build needs before anything is built: validated, resolved, versioned.
    ``reserve``: the version is taken in the ledger for this build (release it if it adds nothing).
    ``replay``: a recorded build made again (service/rebuild.py): its entry, version and history,
    once the closure and packaging at hand are shown to be the ones it recorded."""
    target = prepare(environment, point.python, options.cache_dir, log=log)
    if options.isolation == "sbuild":
        wheelhouse = wheelhouse_from_deb(point, options, Path(tempfile.mkdtemp(prefix=stale.owned(stale.WHEELHOUSE))))
    else:
        wheelhouse = ensure_wheelhouse(point, options, environment, log)

    roots = [Root(r, f"service {service.name} ({service.path.name})") for r in service.root_requirements()]
    extra, own_wheel, reason, built_from = {}, None, options.reason, None
    if service.source.git:
        co = git_source.checkout(options.cache_dir, target, point, service.source.git, service.source.branch,
                                 str(service.path), at=built_at(replay, service) if replay else None)
        own_wheel = co.wheel
        name, version = wheel_name_version(co.wheel)
        extra[name] = WheelItem.from_wheel(co.wheel, name, version, "built")
        roots.insert(0, Root(Requirement(f"{name}=={version}"), f"service {service.name} (git {co.commit[:12]})"))
        upstream_name, upstream_version, homepage = name, version, homepage_of(service.source.git)
        # The commit is said whatever the reason: a static version (venvdeb's own) names none.
        built_from = f"Build {service.source.branch} at {co.commit[:12]}: {co.subject}"
        if options.reason == BuildOptions.reason:
            reason, built_from = built_from, None
        elif co.commit[:12] in reason:  # a farm's reason names the commit already
            built_from = None
    else:
        upstream_name, upstream_version = service.source.pypi, service.source.version
        homepage = f"https://pypi.org/project/{service.source.pypi}/"
    items = closure(wheelhouse, roots, target.markers, list(target.tags), extra)
    if service.source.series:
        upstream_version = point_release(service, items)

    ledger = Ledger(options.state_dir / ledger_file(point.name, point.distribution, service.package))
    closure_lines = "".join(f"{w.name} {w.sha256}\n" for w in items)
    digest = hashlib.sha256(f"{closure_lines}packaging {packaging_digest(service)}\n".encode()).hexdigest()
    if replay is not None:
        same_inputs(replay, digest, wheelhouse, service)
        entry = replay
    else:
        entry = new_entry(ledger, options, service, point, items, digest, wheelhouse, upstream_version,
                          reason, built_from, reserve)
    inputs = RenderInputs(point=point, service=service, wheelhouse=wheelhouse, closure=items,
                          history=ledger.history(entry), python_version=target.version,
                          upstream_name=upstream_name, upstream_version=upstream_version,
                          homepage=homepage, own_wheel=own_wheel)
    return Prepared(inputs, ledger)


def new_entry(ledger: Ledger, options: BuildOptions, service: Service, point: Point, items, digest: str,
              wheelhouse: Wheelhouse, upstream_version: str, reason: str, built_from: str | None,
              reserve: bool) -> Entry:
    """This build's changelog entry: its version (given, reserved, or the next), why, and what changed."""
    def next_of(previous: str | None) -> str:
        return next_version(debian_upstream(upstream_version), previous, str(service.path), point.debian)

    last = ledger.last()
    if options.version:
        version = given_version(options.version, debian_upstream(upstream_version), service)
    else:
        version = ledger.reserve(next_of) if reserve else next_of(last.version if last else None)
    # A series' new point release says so first (the reason says what started the build).
    news = (f"New upstream point release {upstream_version}.",) if (
        service.source.series and last and last.version.rsplit("-", 1)[0] != debian_upstream(upstream_version)) else ()
    if built_from:
        news += (built_from if built_from.endswith(".") else built_from + ".",)
    return ledger.rebuild_entry(version, digest, {w.name: w.version for w in items},
                                reason if reason.endswith(".") else reason + ".",
                                (wheelhouse.package, wheelhouse.version),
                                packaging_commit=options.packaging_commit, news=news)


def built_at(entry: Entry, service: Service) -> str | None:
    """The commit of a git-sourced service that ``entry``'s build was made from, as its changelog
    names it (``Build <branch> at <commit>: <subject>``)."""
    said = f"Build {service.source.branch} at "
    found = [c[len(said):].split(":", 1)[0] for c in entry.changes if c.startswith(said)]
    return found[0] if found and re.fullmatch(r"[0-9a-f]{7,40}", found[0]) else None


def same_inputs(entry: Entry, digest: str, wheelhouse: Wheelhouse, service: Service) -> None:
    """A rebuild of ``entry`` starts from what its build recorded, or not at all: the wheelhouse it
    names, and the closure and packaging its digest is of."""
    if wheelhouse.version != entry.wheelhouse:
        raise VenvdebError(f"{service.package} {entry.version} was built from {wheelhouse.package} {entry.wheelhouse}, "
                           f"not {wheelhouse.version}",
                           hint=f"give that wheelhouse: --wheelhouse-deb (the repository's pool has it once published)")
    if digest != entry.digest:
        raise VenvdebError(f"{service.package} {entry.version}: the closure and packaging here are not the ones it was "
                           f"built from (digest {digest[:12]}..., recorded {entry.digest[:12]}...)",
                           hint="rebuild from the packaging commit its changelog names ('Packaging at commit ...'), "
                                "with the same service file and templates")


def point_release(service: Service, items) -> str:
    """The version of a series-following service that the wheelhouse holds (see wheelhouse/series.py)."""
    name = canonicalize_name(service.source.pypi)
    found = [w.version for w in items if canonicalize_name(w.name) == name]
    if not found:
        raise VenvdebError(f"{service.path}: the wheelhouse has no {service.source.pypi} of the series "
                           f"{service.source.series}", hint="build the release's wheelhouse again")
    return found[0]


def given_version(version: str, upstream: str, service: Service) -> str:
    """A version decided elsewhere must be one of this upstream version's builds."""
    if not version.startswith(f"{upstream}-"):
        raise VenvdebError(f"version {version} is not a build of {service.name} {upstream}, which this build makes",
                           hint=f"ask for the version of upstream {upstream} (venvdeb repo reserve-version)")
    return version


def plan(point: Point, service: Service, options: BuildOptions, environment: Environment, log=say) -> PlanResult:
    """What a build would make, without building: the upstream version its package version must
    start with (so that a farm's master can choose the version), and whether it would be skipped."""
    prepared = prepare_build(point, service, options, environment, log)
    last, entry = prepared.ledger.last(), prepared.entry
    unchanged = options.only_if_changed and last is not None and last.digest == entry.digest
    return PlanResult(service.package, debian_upstream(prepared.inputs.upstream_version), entry.digest,
                      last.version if last else None,
                      f"closure and packaging unchanged since {last.version}" if unchanged else None)


def render_only(point: Point, service: Service, output: Path, reason: str, cache_dir: Path,
                state_dir: Path, out_dir: Path, environment: Environment) -> RenderResult:
    if output.exists():
        raise VenvdebError(f"{output}: already exists; render into a new directory")
    output.parent.mkdir(parents=True, exist_ok=True)
    prepared = prepare_build(point, service, BuildOptions(cache_dir=cache_dir, out_dir=out_dir,
                                                             state_dir=state_dir, reason=reason), environment)
    tmp = Path(tempfile.mkdtemp(dir=output.parent, prefix=".render-"))
    try:
        render(prepared.inputs, tmp / "tree")
        (tmp / "tree").rename(output)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return RenderResult(service.package, prepared.entry.version, str(output))


def build(point: Point, service: Service, options: BuildOptions, environment: Environment,
          log=say) -> BuildResult:
    started = time.monotonic()
    # Rendering validates the SBOM; the validator's import costs most of a second of CPU, done
    # meanwhile, while this thread mostly waits on the chroot's commands.
    threading.Thread(target=sbom.validator, daemon=True).start()
    if options.isolation == "chroot":
        deb.ensure_installed(environment, HOST_BUILD_DEPENDS, options.install_build_deps,
                             "building service packages", log)
    prepared = prepare_build(point, service, options, environment, log, reserve=True)
    try:
        return _build(prepared, point, service, options, environment, log, started)
    finally:
        prepared.ledger.release(prepared.entry.version)  # nothing if the build added it


def _build(prepared: Prepared, point: Point, service: Service, options: BuildOptions, environment: Environment,
           log, started: float) -> BuildResult:
    inputs, entry = prepared.inputs, prepared.entry
    last = prepared.ledger.last()
    if options.only_if_changed and last is not None and last.digest == entry.digest \
            and (options.keep is None or options.keep(last.version)):
        log(f"{service.package}: skipped, unchanged since {last.version}")
        return skipped(service, last, inputs, options, started)
    options.out_dir.mkdir(parents=True, exist_ok=True)
    # In the build chroot's scratch directory, the one it may write (it sees it at the same path).
    work = Path(tempfile.mkdtemp(dir=environment.scratch, prefix=f"{service.package}-"))
    try:
        tree = render(inputs, work / f"{service.package}-{debian_upstream(inputs.upstream_version)}")
        log_file = options.out_dir / "logs" / f"{service.package}_{entry.version}.build.log"
        log(f"building {service.package} {entry.version} from {inputs.wheelhouse.describe()} ({options.isolation})")
        if options.isolation == "sbuild":
            built = build_in_sbuild(tree, latest_wheelhouse_deb(point, options), point.distribution,
                                    options.cache_dir, log_file)
        else:
            built = build_tree(environment, tree, options.cache_dir, log_file,
                               provided=(inputs.wheelhouse.package,))
        final = options.out_dir / built.name
        checksum_file(final).unlink(missing_ok=True)  # never an old file's checksum beside new bytes
        digest = take(built, final, environment.scratch)
        deb.take_buildinfo(built, final, digest, environment.scratch)
        record_checksum(final, digest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    prepared.ledger.add(entry)
    control = DebFile(str(final)).debcontrol()
    return BuildResult(
        package=service.package, version=entry.version, deb=str(final), deb_size=final.stat().st_size,
        installed_size_kib=int(control["Installed-Size"]), architecture=control["Architecture"],
        depends=control["Depends"], wheelhouse=inputs.wheelhouse.describe(),
        wheels=len(inputs.closure), seconds=round(time.monotonic() - started, 1),
        reason=entry.changes[0],
    )


def skipped(service: Service, last, inputs: RenderInputs, options: BuildOptions, started: float) -> BuildResult:
    """The result of a build that had nothing to do: the last build's package stands."""
    found = sorted(options.out_dir.glob(f"{service.package}_{last.version}_*.deb"))
    return BuildResult(
        package=service.package, version=last.version, deb=str(found[-1]) if found else "",
        deb_size=found[-1].stat().st_size if found else 0, installed_size_kib=0, architecture="", depends="",
        wheelhouse=inputs.wheelhouse.describe(), wheels=len(inputs.closure),
        seconds=round(time.monotonic() - started, 1), reason=last.changes[0] if last.changes else "",
        skipped=f"closure and packaging unchanged since {last.version}")


def wheel_name_version(wheel: Path) -> tuple[str, str]:
    name, version, _, _ = parse_wheel_filename(wheel.name)
    return str(name), str(version)


def build_variables(environment: Environment, cache_dir: Path) -> dict:
    """What debian/rules reads besides dpkg-buildpackage's own: uv, which this venvdeb has (its
    hook installs the hash-pinned wheels; without it pip does), and pip with no configuration.
    Used with PIP_UNSET."""
    import uv

    return {"PIP_CONFIG_FILE": os.devnull, "VENVDEB_UV": environment.stage(Path(uv.find_uv_bin())),
            # uv's cache in the build's scratch: what one build writes there, no other build reads.
            "UV_CACHE_DIR": str(Path(environment.scratch) / "uv"), "UV_NO_CONFIG": "1"}


def build_tree(environment: Environment, tree: Path, cache_dir: Path, log_file: Path,
               provided: tuple[str, ...] = ()) -> Path:
    """dpkg-buildpackage in a rendered tree, its Build-Depends checked first (but those on
    ``provided``, which the build has without dpkg: the wheelhouse); the .deb it wrote beside the tree."""
    return deb.buildpackage(environment, tree, log_file, setenv=build_variables(environment, cache_dir),
                            unset=PIP_UNSET, check_depends=True, provided=provided)
