"""`venvdeb render`, `venvdeb build` and `venvdeb rebuild`: a service's dh-virtualenv package."""

from __future__ import annotations

from pathlib import Path

from debian.debfile import DebFile

from ..files import verified_sha256, verify_checksum
from ..model import load_release
from ..model.results import RebuildResult, RenderResult, Result, per_distribution
from ..progress import Progress
from ..service.build import BuildOptions, build as build_package, plan, render_only
from ..repository import Repository
from ..service.rebuild import rebuild as rebuild_package
from ..errors import Rejected, VenvdebError
from . import options
from .options import RELEASE_HELP, SERVICE_HELP, say


def register(sub) -> None:
    r = options.command(sub, "render", render, help="render a service package's debian/ tree",
                        description="Render the source tree of venv-<service> (debian/ from templates/, "
                        "requirements.txt pinned with hashes, the SBOM) against the installed wheelhouse, "
                        "with the changelog entry the next build would add. Nothing is built or recorded.")
    r.add_argument("release", help=RELEASE_HELP)
    options.dist(r)
    r.add_argument("service", help=SERVICE_HELP)
    r.add_argument("-o", "--output", type=Path, required=True, help="the directory to render into (must not exist)")
    r.add_argument("--reason", default="Rebuild.", help="the changelog entry's reason")
    options.dirs(r)

    b = options.command(sub, "build", build, help="build a service's dh-virtualenv package",
                        description="Build venv-<service>_<version>_<arch>.deb with dh-virtualenv, installing "
                        "only from the release's wheelhouse (no index, hash-pinned). Each build adds a "
                        "changelog entry with its reason and what changed, and a new Debian revision.")
    b.add_argument("release", help=RELEASE_HELP)
    options.dist(b)
    b.add_argument("service", help=SERVICE_HELP)
    b.add_argument("--reason", default="Rebuild.", help="why this build happens; recorded in debian/changelog")
    b.add_argument("--install-build-deps", action="store_true",
                   help="apt-get install the host's build tools (dh-virtualenv, debhelper) if missing")
    b.add_argument("--wheelhouse-deb", type=Path, help="the wheelhouse .deb to build against (default: the latest built)")
    b.add_argument("--isolation", type=_isolation, choices=("chroot", "sbuild"), default="chroot",
                   help="chroot: venvdeb's clean chroot of the distribution, the build tools in its image "
                   "(default); sbuild: Debian's sbuild in its unshare mode, the wheelhouse taken from a "
                   "local repository")
    b.add_argument("--plan", action="store_true",
                   help="build nothing: say which upstream version the package is of and whether it would be "
                   "skipped (a farm's master then chooses the version)")
    b.add_argument("--version", default="",
                   help="the version to build (default: the next in the ledger); 'repo reserve-version' gives it")
    b.add_argument("--only-if-changed", action="store_true",
                   help="build nothing when the service's closure (its wheels, by sha256) and its packaging (service "
                   "file, version, templates) are those of its last build")
    options.dirs(b)

    rb = options.command(sub, "rebuild", rebuild, help="build a service package again and compare the bytes, as a gate",
                         description="Build the version of DEB again, from what its build recorded in the ledger (its "
                         "date, changelog and wheelhouse) and the packaging at hand, in a fresh chroot, and compare "
                         "the two files. The same bytes pass; other bytes fail, and diffoscope's report says where "
                         "they differ. 'repo promote' requires a rebuild that matched.")
    rb.add_argument("release", help=RELEASE_HELP)
    options.dist(rb)
    rb.add_argument("service", help=SERVICE_HELP)
    rb.add_argument("deb", type=Path, help="the package to rebuild (its version must be in the ledger)")
    rb.add_argument("--wheelhouse-deb", type=Path,
                    help="the wheelhouse .deb it was built from (default: found in the out directory or the repository)")
    rb.add_argument("--install-build-deps", action="store_true",
                    help="apt-get install the host's build tools (dh-virtualenv, debhelper) if missing")
    rb.add_argument("--record", action="store_true",
                    help="record the result in the repository, for 'repo promote'")
    options.dirs(rb)
    options.repo_args(rb)


def _isolation(value: str) -> str:
    # "host" named the default before every build ran in a chroot: it still means the default.
    return "chroot" if value == "host" else value


def render(args) -> RenderResult:
    release = load_release(args.packaging, args.release)
    points = options.points(args, release)
    if len(points) > 1:
        raise VenvdebError(f"{release.path}: release {release.name} is built for {', '.join(release.distributions)}; "
                           "say which tree to render", hint="pass --dist")
    with options.build_environment(points[0], args.cache_dir) as env:
        result = render_only(points[0], release.service(args.service), args.output, args.reason,
                             args.cache_dir, args.state_dir, args.out_dir / release.name, env)
    say(args, f"{args.output}: rendered {result.package} {result.version}")
    return result


def build(args) -> Result:
    release = load_release(args.packaging, args.release)
    service = release.service(args.service)
    progress = Progress()
    if args.wheelhouse_deb:
        verify_checksum(args.wheelhouse_deb, f"venvdeb wheelhouse build {release.name}")
    if args.wheelhouse_deb and not args.dist:  # built against that wheelhouse: its distribution
        points = [release.point_of(DebFile(str(args.wheelhouse_deb)).debcontrol()["Version"])]
    else:
        points = options.points(args, release)
    results = {}
    for point in points:
        build_options = BuildOptions(
            cache_dir=args.cache_dir, out_dir=args.out_dir / release.name, state_dir=args.state_dir,
            reason=args.reason, install_build_deps=args.install_build_deps, wheelhouse_deb=args.wheelhouse_deb,
            isolation=args.isolation, only_if_changed=args.only_if_changed,
            packaging_commit=args.packaging_commit or "", version=args.version)
        with options.build_environment(point, args.cache_dir) as env:
            if args.plan:
                planned = results[point.distribution] = plan(point, service, build_options, env, log=progress.log)
                say(args, f"{planned.package}: upstream {planned.upstream}" +
                    (f", would be skipped: {planned.skipped}" if planned.skipped else ""))
                continue
            built = results[point.distribution] = build_package(point, service, build_options, env, log=progress.log)
        if built.skipped:
            say(args, f"{built.package}: nothing built, {built.skipped}")
        else:
            say(args, f"{built.deb}: {built.package} {built.version}, {built.deb_size / 1e6:.1f} MB, "
                      f"built in {built.seconds} s")
    return per_distribution(results)


def rebuild(args) -> RebuildResult:
    release = load_release(args.packaging, args.release)
    service = release.service(args.service)
    verify_checksum(args.deb)
    point = release.point_of(DebFile(str(args.deb)).debcontrol()["Version"])
    if args.dist and args.dist != point.distribution:
        raise VenvdebError(f"{args.deb} was built for {point.distribution}, not {args.dist}",
                           hint=f"rebuild it with --dist {point.distribution}")
    if args.wheelhouse_deb:
        verify_checksum(args.wheelhouse_deb, f"venvdeb wheelhouse build {release.name}")
    # Read (the wheelhouse it was built from may be in the pool) unless the result is recorded.
    repo = options.repository(args) if args.record else Repository(args.repo_dir)
    build_options = BuildOptions(cache_dir=args.cache_dir, out_dir=args.out_dir / release.name,
                                 state_dir=args.state_dir, install_build_deps=args.install_build_deps,
                                 wheelhouse_deb=args.wheelhouse_deb)
    done = already_rebuilt(args, repo)
    if done:
        return done
    with options.build_environment(point, args.cache_dir) as env:
        result = rebuild_package(point, service, args.deb, build_options, env, log=Progress().log,
                                 published=lambda version: published_wheelhouse(repo, point, version))
    return concluded(args, repo, result)


def already_rebuilt(args, repo: Repository) -> RebuildResult | None:
    """With --record, a rebuild that matched, recorded for these very bytes, stands: the same file
    again (a farm's unchanged wheelhouse, a retried build) is not rebuilt."""
    if not args.record:
        return None
    control = DebFile(str(args.deb)).debcontrol()
    record = repo.gates(control["Package"], control["Version"])
    if record.get("sha256") != verified_sha256(args.deb) or not record.get("rebuild", {}).get("passed"):
        return None
    result = RebuildResult.from_dict(record["rebuild"])
    say(args, f"{result.package} {result.version}: rebuilt before, the same bytes (recorded for this file)")
    return result


def concluded(args, repo: Repository, result: RebuildResult) -> RebuildResult:
    """A rebuild's result recorded (with --record) for the package's bytes, whatever it found:
    promote reads it. Other bytes are a rejection, with diffoscope's first lines."""
    if args.record:
        repo.record_gate(result.package, result.version, "rebuild", result.as_dict(), result.sha256)
    if not result.matched:
        raise Rejected(f"rebuild of {result.package} {result.version} gave other bytes: {result.report}\n"
                       f"{result.differences}", result,
                       hint="find what the build depends on besides its recorded inputs (a timestamp, a path, "
                            "the build chroot's tools, an sdist's build): diffoscope's report says where the "
                            "files differ")
    say(args, f"{result.package} {result.version}: rebuilt in {result.seconds} s, the same bytes")
    return result


def published_wheelhouse(repo: Repository, point, version: str) -> Path | None:
    """The point's wheelhouse at ``version`` in the repository's pool: staging's, else production's."""
    if not (repo.base / "conf").is_dir():
        return None
    for suite in (point.staging_suite, point.production_suite):
        found = repo.versions(suite, point.wheelhouse_package).get(version)
        if found:
            return Path(found)
    return None
