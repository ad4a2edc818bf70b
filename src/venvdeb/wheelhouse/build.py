"""`venvdeb wheelhouse build`: resolve, fetch and build, then package the release's wheelhouse.

Everything runs in one environment of the release's distribution (the target's interpreter, sdist
builds, dpkg-buildpackage); the .deb is built in a temporary directory and moved into the output
directory only when complete, and only then does the version ledger move.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import parse_wheel_filename

from .. import deb
from ..environment import Environment, Target, prepare
from ..errors import PackageFailure, ProviderFailure, VenvdebError, WheelhouseFailed
from ..files import checksum_file, record_checksum, take, write_atomic
from ..http import Client, NotFound
from ..model import Point, constraints, overrides
from ..model.closure import Resolver
from ..model.ledger import Entry, Ledger, ledger_file
from ..model.manifest import Manifest, WheelItem, wheel_dir
from ..model.results import WheelhouseResult
from ..progress import Progress, say
from ..resources import wheelhouse_builder
from . import package as wheelhouse_deb
from .cache import Cache
from .index import IndexProvider, Materialized
from ..model import build_lock
from . import series, service_versions
from .roots import check_lock_fresh, roots
from .sdist import SdistBuilder


@dataclass
class Options:
    cache_dir: Path
    out_dir: Path
    state_dir: Path
    all_pins: bool = False
    jobs: int = 8
    install_build_deps: bool = False
    packaging_commit: str = ""  # the packaging repository's commit the root was checked out at
    # Per git-sourced service: who asks, and what its checkout declares (see roots.roots).
    checkouts: dict[str, tuple[str, list[Requirement]]] = field(default_factory=dict)


def load_constraints(point: Point, cache: Cache, client: Client) -> constraints.Constraints:
    c = point.constraints
    if c.path is not None:
        return constraints.load_file(c.path)
    # A URL: kept in the cache by content, so that a pinned sha256 needs no network at all.
    if c.sha256:
        cached = cache.root / "constraints" / c.sha256
        if cached.is_file():
            return constraints.parse(cached.read_text(), c.url)
    try:
        data = client.get_bytes(c.url)
    except NotFound:
        raise VenvdebError(f"{point.path}: key 'constraints.url': {c.url} answered 404") from None
    digest = hashlib.sha256(data).hexdigest()
    if c.sha256 and digest != c.sha256:
        raise VenvdebError(
            f"{point.path}: key 'constraints.sha256': {c.url} has sha256 {digest}, not {c.sha256}",
            hint="upstream moved: review the change and update constraints.sha256",
        )
    write_atomic(cache.root / "constraints" / digest, data)
    return constraints.parse(data.decode(), c.url)


def architecture(wheels: list[Materialized]) -> str:
    for w in wheels:
        if any(t.platform != "any" for t in parse_wheel_filename(w.path.name)[3]):
            return "any"
    return "all"


def manifest(wheels: list[Materialized]) -> list[WheelItem]:
    return [WheelItem.from_wheel(w.path, w.name, w.version, w.origin,
                                 source={"file": w.source.filename, "url": w.source.url, "sha256": w.source.sha256})
            for w in sorted(wheels, key=lambda w: w.name)]


def content_digest(point: Point, items: list[WheelItem], constraints_text: str, arch: str) -> str:
    """What the package's bytes depend on; the same digest means the same package."""
    h = hashlib.sha256()
    h.update(json.dumps({"package": point.wheelhouse_package, "release": point.name,
                         "distribution": point.distribution, "architecture": arch,
                         "maintainer": point.maintainer, "constraints": constraints_label(point),
                         "wheels": [(i.file, i.sha256) for i in items]}
                        # (a release without overrides keeps the digest it had before they existed,
                        # and one with no wheel built from source, before toolchains were recorded)
                        | ({"overrides": [o.as_dict() for o in point.constraints.overrides]}
                           if point.constraints.overrides else {})
                        | ({"toolchain": build_lock.of(point).sha256} if any(i.origin == "built" for i in items)
                           else {}),
                        sort_keys=True).encode())
    h.update(constraints_text.encode())
    skeleton = wheelhouse_builder() / "debian"
    for f in sorted(skeleton.rglob("*")):
        if f.is_file():
            h.update(str(f.relative_to(skeleton)).encode() + f.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True)
class Checked:
    """What ``preflight`` found: the constraints, and the overrides still to apply to them."""

    constraints: constraints.Constraints
    moves: tuple


def preflight(point: Point, options: Options, client: Client | None = None, log=say) -> Checked:
    """Every check of the input that needs no build environment: run before one is made, so that
    bad input is named at once and nothing is written (no chroot, no cache)."""
    client = client or Client()
    check_lock_fresh(point)
    cons = load_constraints(point, Cache(options.cache_dir, log=log), client)
    moves = point.constraints.overrides
    if point.constraints.kind == "lock":
        # The lock was compiled under the overrides (with their hashes): it must hold them as they are.
        overrides.check_lock(cons, moves, point.path)
        moves = ()
    else:
        overrides.apply(cons, moves, point.path)  # refuses a package the constraints do not pin
    service_versions.check(point.release, client)  # every distribution of it: the same check as `venvdeb lock`
    return Checked(cons, tuple(moves))


def build(point: Point, options: Options, environment: Environment, progress: Progress | None = None,
          client: Client | None = None, checked: Checked | None = None, replay: Entry | None = None) -> WheelhouseResult:
    """The point's wheelhouse .deb. ``replay``: a recorded build made again (wheelhouse/rebuild.py):
    its version, date and history, every sdist built afresh, the ledger left as it is."""
    progress = progress or Progress(quiet=True)
    client = client or Client()
    cache = Cache(options.cache_dir, log=progress.log)
    checked = checked or preflight(point, options, client, progress.log)
    cons, moves = checked.constraints, checked.moves
    target = prepare(environment, point.python, options.cache_dir, log=progress.log)
    pins = overrides.apply(cons, moves, point.path, target.markers)
    deb.ensure_installed(environment, list(point.build_depends), options.install_build_deps, str(point.path),
                         progress.log)

    options.out_dir.mkdir(parents=True, exist_ok=True)
    work_root = environment.scratch  # the build's own: the chroot sees the cache read-only
    work_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=work_root, prefix=f"wheelhouse-{point.name}-"))
    stats: dict = {}
    try:
        builder = SdistBuilder(target, point, log_dir=options.out_dir / "logs" / point.distribution)
        provider = IndexProvider(point.index_url, target, cache, client, builder, work, stats,
                                 fresh_builds=replay is not None)
        pins = series.follow(point, pins, provider.versions, progress.log)
        resolver = Resolver(pins, target.markers, provider, constraints_origin=cons.origin,
                            jobs=options.jobs * 2, progress=progress)
        resolution = resolver.resolve(roots(point, pins, options.all_pins, options.checkouts),
                                     follow=not options.all_pins)
        for name in resolution.unpinned:
            progress.log(f"warning: {name} is not pinned by the constraints; took {resolution.nodes[name].version}")
        wheels, failures = fetch_all(provider, resolution.nodes, options.jobs, progress)
        failures = resolution.failures + failures
        if failures:
            raise WheelhouseFailed(failures)
        result = package(point, target, cons, wheels, options, work, progress, replay)
        result.stats = stats
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fetch_all(provider: IndexProvider, nodes: dict, jobs: int, progress) -> tuple[list[Materialized], list[PackageFailure]]:
    wheels, failures, done = [], [], 0
    ordered = sorted(nodes.values(), key=lambda n: n.name)

    def one(node):
        try:
            return provider.materialize(node.artifact)
        except ProviderFailure as exc:
            return PackageFailure(node.name, exc.phase, exc.reason, exc.hint)
        except VenvdebError as exc:
            return PackageFailure(node.name, "fetch", exc.message, exc.hint)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for result in pool.map(one, ordered):
            done += 1
            progress("fetch", done, len(ordered))
            (failures if isinstance(result, PackageFailure) else wheels).append(result)
    return wheels, failures


def package(point: Point, target: Target, cons, wheels: list[Materialized], options: Options,
            work: Path, progress, replay: Entry | None = None) -> WheelhouseResult:
    ledger = Ledger(options.state_dir / ledger_file(point.name, point.distribution, point.wheelhouse_package))
    # Two builds of one wheelhouse at once would pick the same version for different content: one
    # at a time chooses its version, writes its package and records it.
    with ledger.locked():
        return _package(point, target, cons, wheels, options, work, progress, ledger, replay)


def _package(point: Point, target: Target, cons, wheels: list[Materialized], options: Options,
             work: Path, progress, ledger: Ledger, replay: Entry | None) -> WheelhouseResult:
    items = manifest(wheels)
    arch = architecture(wheels)
    digest = content_digest(point, items, cons.text, arch)
    if replay is not None:
        # Made again as recorded, whatever the wheels came to: the bytes are what is compared.
        entry, is_new = replay, False
        if digest != replay.digest:
            progress.log(f"{point.wheelhouse_package} {replay.version}: the wheels are not the recorded build's "
                         f"(content digest {digest[:12]}..., recorded {replay.digest[:12]}...)")
    else:
        entry, is_new = ledger.entry_for(digest, {i.name: i.version for i in items}, suffix=f"+deb{point.debian}",
                                        packaging_commit=options.packaging_commit,
                                        notes=tuple(f"Constraint override: {o.describe()}"
                                                    for o in point.constraints.overrides))
    deb_arch = target.environment.architecture if arch == "any" else "all"
    deb_name = f"{point.wheelhouse_package}_{entry.version}_{deb_arch}.deb"
    final = options.out_dir / deb_name
    result = WheelhouseResult(
        release=point.name, package=point.wheelhouse_package, version=entry.version,
        architecture=deb_arch, deb=str(final), wheels=len(items),
        built=sum(1 for i in items if i.origin == "built"),
        size=sum(i.size for i in items), digest=digest,
        constraints=cons.origin, interpreter=target.interpreter,
    )
    if final.is_file() and not is_new and replay is None:
        progress.log(f"wheelhouse unchanged: {deb_name} is up to date")
        result.deb_size = final.stat().st_size
        return result

    progress.log(f"packaging {deb_name} ({len(items)} wheels)")
    # A directory made now, after every sdist build ended (and every process of theirs with it):
    # nothing they planted in the scratch directory (a link where the host will write) is in it.
    tree = Path(tempfile.mkdtemp(dir=work.parent, prefix="pkg-")) / f"{point.wheelhouse_package}-{entry.version}"
    payload = tree / "wheelhouse"
    payload.mkdir(parents=True)
    for w in wheels:  # copies, never links: the build chroot writes here, and must not reach the cache's files
        shutil.copyfile(w.path, payload / w.path.name)
    (payload / "SHA256SUMS").write_text("".join(f"{i.sha256}  {i.file}\n" for i in items))
    (payload / "constraints.txt").write_text(cons.text)
    manifest_json = Manifest(
        release=point.name, package=point.wheelhouse_package, version=entry.version,
        interpreter=target.interpreter, python=target.version, constraints=constraints_label(point),
        constraints_sha256=cons.sha256, wheels=tuple(items),
        overrides=tuple(o.as_dict() for o in point.constraints.overrides),
        toolchain=build_lock.of(point).record() if any(i.origin == "built" for i in items) else {}).to_json()
    (payload / "manifest.json").write_text(manifest_json)
    context = {
        "package": point.wheelhouse_package, "maintainer": point.maintainer, "release": point.name,
        "distribution": point.distribution, "architecture": arch, "count": len(items),
        "python_version": target.version, "interpreter": target.interpreter,
        "wheel_dir": "/" + wheel_dir(point.name),
        "year": deb.year_of(entry),
        "wheels": items,
    }
    wheelhouse_deb.render(tree, context)
    (tree / "debian" / "changelog").write_text(deb.changelog(
        point.wheelhouse_package, point.distribution, point.maintainer, ledger.history(entry)))
    built = wheelhouse_deb.build(target.environment, tree, log_file=work / "dpkg-buildpackage.log")
    # Complete: only now does anything reach the output directory, and the ledger.
    checksum_file(final).unlink(missing_ok=True)  # never an old file's checksum beside new bytes
    digest = take(built, final, target.environment.scratch)
    deb.take_buildinfo(built, final, digest, target.environment.scratch)
    record_checksum(final, digest)
    # The manifest as the host made it, not as the tree the build wrote holds it.
    write_atomic(options.out_dir / f"{point.wheelhouse_package}_{entry.version}.manifest.json", manifest_json.encode())
    if is_new:
        ledger.add(entry)
    result.changed, result.deb_size = True, final.stat().st_size
    return result


def constraints_label(point: Point) -> str:
    """Where the constraints came from, as the package records it: the URL, or the path within
    the packaging root; never where this checkout happens to be (the bytes would depend on it)."""
    c = point.constraints
    if c.url:
        return c.url
    try:
        return str(c.path.resolve().relative_to(point.root.resolve()))
    except ValueError:
        return c.path.name
