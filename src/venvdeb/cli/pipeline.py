"""`venvdeb pipeline`: every stage of a release's services, at each of its distributions."""

from __future__ import annotations

from .. import pipeline as stages
from .. import wheelhouse
from ..errors import Rejected
from ..model import load_release
from ..model.results import Result, per_distribution
from ..service.build import BuildOptions
from . import options
from .options import RELEASE_HELP, say, stderr


def register(sub) -> None:
    pl = options.command(sub, "pipeline", run, help="wheelhouse, build, lint, smoke, then publish to staging",
                         description="Run every stage for the release's services; stop at the first failing gate; "
                         "publish to the staging suite only if every gate passed; print a summary table.")
    pl.add_argument("release", help=RELEASE_HELP)
    options.dist(pl)
    pl.add_argument("services", nargs="*", help="services (default: all of the release's)")
    pl.add_argument("--reason", default="Pipeline build.", help="why; recorded in each package's changelog")
    pl.add_argument("--install-build-deps", action="store_true",
                    help="apt-get install the release's build_depends and the build tools if missing (needs root)")
    pl.add_argument("--only-if-changed", action="store_true",
                    help="leave a service as staging has it when its closure and packaging are unchanged since its "
                         "last build and its gates passed for that very file (make demo's second run: nothing to do)")
    options.no_piuparts(pl)
    options.dirs(pl)
    options.repo_args(pl)


def run(args) -> Result:
    release = load_release(args.packaging, args.release)
    services = args.services or [s.name for s in release.services]
    for name in services:
        release.service(name)  # unknown names fail here, before anything runs
    points = options.points(args, release)
    repo = options.repository(args)
    out_dir = args.out_dir / release.name
    commit = args.packaging_commit or ""
    results = {}
    for point in points:  # one distribution after the other; each stops at its first failing gate
        result = results[point.distribution] = stages.run(
            point, services, repo,
            BuildOptions(cache_dir=args.cache_dir, out_dir=out_dir, state_dir=args.state_dir, reason=args.reason,
                         install_build_deps=args.install_build_deps, packaging_commit=commit,
                         only_if_changed=args.only_if_changed),
            wheelhouse.Options(cache_dir=args.cache_dir, out_dir=out_dir, state_dir=args.state_dir,
                               install_build_deps=args.install_build_deps, packaging_commit=commit),
            lambda: options.build_environment(point, args.cache_dir), log=stderr, piuparts=args.piuparts,
        )
        say(args, result.table())
        if not result.passed:
            break
    # A distribution not reached, after an earlier one failed, has not passed either.
    passed = len(results) == len(points) and all(r.passed for r in results.values())
    out = results[points[0].distribution] if len(points) == 1 else per_distribution(results, passed)
    if not passed:
        failed = [f"{r.release} for {r.distribution}" for r in results.values() if not r.passed]
        raise Rejected(f"pipeline failed: {', '.join(failed)}; nothing of it was published", out)
    return out
