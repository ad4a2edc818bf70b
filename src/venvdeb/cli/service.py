"""`venvdeb render` and `venvdeb build`: a service's dh-virtualenv package."""

from __future__ import annotations

from pathlib import Path

from debian.debfile import DebFile

from ..files import verify_checksum
from ..model import load_release
from ..model.results import RenderResult, Result, per_distribution
from ..progress import Progress
from ..service.build import BuildOptions, build as build_package, plan, render_only
from ..errors import VenvdebError
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
