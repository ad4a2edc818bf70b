"""`venvdeb wheelhouse build`, `fetch`, `verify` and `rebuild`: a release's wheelhouse package."""

from __future__ import annotations

from pathlib import Path

from debian.debfile import DebFile

from .. import pipeline
from .. import wheelhouse as stage
from ..model import load_release
from ..errors import Rejected, VenvdebError
from ..files import sha256_file, verify_checksum
from ..model.results import RebuildResult, Result, WheelhouseVerified, per_distribution
from ..progress import Progress
from ..repository import Repository
from ..repository.fetch import fetch as fetch_published
from ..wheelhouse.rebuild import rebuild as rebuild_wheelhouse
from ..wheelhouse.verify import verify as verify_wheelhouse
from . import options
from .service import already_rebuilt, concluded
from .options import RELEASE_HELP, say, url


def register(sub) -> None:
    w = sub.add_parser("wheelhouse", help="the per-release wheelhouse package",
                       description="Build the per-release wheelhouse .deb, or fetch a published one.")
    wsub = w.add_subparsers(dest="action", required=True, metavar="ACTION")
    b = options.command(
        wsub, "build", build, help="resolve, fetch, build and package a release's wheelhouse",
        description="Resolve the closure of the release's services under its constraints for the target "
        "interpreter, download binary wheels in parallel, build sdists with PEP 517, and package "
        "everything as <wheelhouse_package>_<version>_<arch>.deb. Every failing package is reported; "
        "nothing is written unless all succeed.",
    )
    b.add_argument("release", help=RELEASE_HELP)
    options.dist(b)
    b.add_argument("--all", dest="all_pins", action="store_true",
                   help="take every pin of the constraints that applies to the target, not just the services' closure")
    b.add_argument("--jobs", type=int, default=8, help="parallel downloads (default: 8)")
    b.add_argument("--install-build-deps", action="store_true",
                   help="apt-get install the release's build_depends if missing (needs root)")
    options.dirs(b)

    f = options.command(
        wsub, "fetch", fetch, help="download a release's wheelhouse .deb from the signed staging suite",
        description="Read the staging suite's InRelease (checked with gpgv against --keyring) and Packages "
        "index, download the wheelhouse .deb and verify its SHA256 from the index, into <out-dir>/<release>/.",
    )
    f.add_argument("release", help=RELEASE_HELP)
    options.dist(f)
    f.add_argument("--repo-url", required=True, type=url, help="the repository's base URL (venvdeb repo serve)")
    f.add_argument("--keyring", type=Path,
                   default=options.default("VENVDEB_REPO_KEYRING", "venvdeb-archive-keyring.gpg"),
                   help="the repository's public keyring (default: ./venvdeb-archive-keyring.gpg, or $VENVDEB_REPO_KEYRING)")
    f.add_argument("--version", help="a version of the wheelhouse package (default: the newest in the suite)")
    options.out_dir(f, "where the .deb goes, under <release>/")
    options.state_dir(f, "where the date of the newest InRelease accepted is kept, to refuse an older one")

    v = options.command(
        wsub, "verify", verify, help="check a wheelhouse .deb against its manifest and the index (a gate)",
        description="Check that the package holds exactly its manifest's wheels with their sha256, that each "
        "downloaded wheel has the sha256 the release's index publishes for it, and that each wheel built from "
        "an sdist was built from a file the index publishes with that sha256. With --record, the result is "
        "the wheelhouse's 'verify' gate, which 'repo publish' requires.",
    )
    v.add_argument("release", help=RELEASE_HELP)
    v.add_argument("deb", type=Path, help="the wheelhouse .deb")
    v.add_argument("--record", action="store_true", help="record the result in the repository, for 'repo publish'")
    options.repo_args(v)

    r = options.command(
        wsub, "rebuild", rebuild, help="build a wheelhouse .deb again and compare the bytes (a gate)",
        description="Build the version of DEB again, from what its build recorded in the ledger (its date and "
        "changelog): resolved again, each wheel fetched again or taken from the cache by the index's sha256, "
        "and every sdist built afresh whatever the cache holds; then compare the two files. The same bytes "
        "pass; other bytes fail, and diffoscope's report says where they differ. With --record, the result is "
        "the wheelhouse's 'rebuild' gate, which 'repo promote' requires.",
    )
    r.add_argument("release", help=RELEASE_HELP)
    r.add_argument("deb", type=Path, help="the wheelhouse .deb (its version must be in the ledger)")
    r.add_argument("--jobs", type=int, default=8, help="parallel downloads (default: 8)")
    r.add_argument("--record", action="store_true", help="record the result in the repository, for 'repo promote'")
    options.dirs(r)
    options.repo_args(r)


def build(args) -> Result:
    release = load_release(args.packaging, args.release)
    progress = Progress()
    results = {}
    for point in options.points(args, release):
        build_options = stage.Options(
            cache_dir=args.cache_dir, out_dir=args.out_dir / release.name, state_dir=args.state_dir,
            all_pins=args.all_pins, jobs=args.jobs, install_build_deps=args.install_build_deps,
            packaging_commit=args.packaging_commit or "")
        checked = stage.preflight(point, build_options, log=progress.log)  # bad input: before any chroot
        with options.build_environment(point, args.cache_dir) as env:
            result = pipeline.build_wheelhouse(point, build_options, env, progress, checked)
        state = "built" if result.changed else "unchanged"
        say(args, f"{result.deb}: {state}, {result.wheels} wheels ({result.built} built from sdists), "
                  f"version {result.version}, for {point.distribution} ({result.interpreter})")
        results[point.distribution] = result
    return per_distribution(results)


def fetch(args) -> Result:
    release = load_release(args.packaging, args.release)
    results = {}
    # A version given belongs to one distribution: the one it was built for, unless --dist says.
    points = [release.point_of(args.version)] if args.version and not args.dist else options.points(args, release)
    for point in points:
        result = fetch_published(point, args.repo_url, args.keyring, args.out_dir / release.name,
                                 version=args.version, seen_dir=args.state_dir / "inrelease-seen")
        say(args, f"{result.deb}: {result.package} {result.version} from {result.suite}, sha256 verified")
        results[point.distribution] = result
    return per_distribution(results)


def verify(args) -> WheelhouseVerified:
    release = load_release(args.packaging, args.release)
    if not args.deb.is_file():
        raise VenvdebError(f"{args.deb}: no such file", hint="give the wheelhouse .deb to verify")
    version = DebFile(str(args.deb)).debcontrol()["Version"]
    point = release.point_of(version)
    result = verify_wheelhouse(point, args.deb)
    if args.record:
        options.repository(args).record_gate(result.package, result.version, "verify", result.as_dict(),
                                             sha256_file(args.deb))
    if not result.passed:
        raise Rejected(f"wheelhouse verify failed: {result.package} {result.version}:\n  "
                       + "\n  ".join(result.failures[:30]), result)
    say(args, f"{result.package} {result.version}: {result.wheels} wheels verified against the manifest and "
              f"{result.index} ({result.downloaded} downloaded, {result.built} built from sdists)")
    return result


def rebuild(args) -> RebuildResult:
    release = load_release(args.packaging, args.release)
    verify_checksum(args.deb, f"venvdeb wheelhouse build {release.name}")
    point = release.point_of(DebFile(str(args.deb)).debcontrol()["Version"])
    repo = options.repository(args) if args.record else Repository(args.repo_dir)
    done = already_rebuilt(args, repo)
    if done:
        return done
    progress = Progress()
    build_options = stage.Options(cache_dir=args.cache_dir, out_dir=args.out_dir / release.name,
                                  state_dir=args.state_dir, jobs=args.jobs)
    checked = stage.preflight(point, build_options, log=progress.log)
    with options.build_environment(point, args.cache_dir) as env:
        build_options = pipeline.with_checkouts(point, build_options, env, progress)
        result = rebuild_wheelhouse(point, args.deb, build_options, env, progress, checked)
    return concluded(args, repo, result)
