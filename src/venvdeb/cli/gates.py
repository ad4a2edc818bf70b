"""`venvdeb lint` and `venvdeb smoke`: the gates a package passes before it is published."""

from __future__ import annotations

from pathlib import Path

from debian.debfile import DebFile
from debian.debian_support import Version

from .. import pipeline
from ..environment import images
from ..errors import Rejected, VenvdebError
from ..files import sha256_file, verify_checksum
from ..gates import lint as lintian
from ..model import Point, load_release
from ..gates.cloud_config import Controller, Secrets
from ..model.cloud import load_scenario
from ..model.results import CloudConfig, LintReport, Result, per_distribution
from ..model.versions import DEBIAN_RELEASES
from . import options
from .options import RELEASE_HELP, SERVICE_HELP, say, stderr


def register(sub) -> None:
    ln = options.command(sub, "lint", lint, help="run lintian on packages, as a gate",
                         description="Run lintian (by default failing on errors and warnings); print a "
                         "one-line summary per package, or JSON with every tag (severity, tag, package, context).")
    ln.add_argument("debs", nargs="+", type=Path)
    ln.add_argument("--fail-on", default="error,warning", help="severities that fail the gate (default: error,warning)")
    ln.add_argument("--record", action="store_true",
                    help="record each package's result in the repository, for 'repo publish' and 'repo promote'")
    options.repo_args(ln)

    sm = options.command(sub, "smoke", smoke, help="install a package with apt in a clean chroot and test it",
                         description="Unpack a clean chroot of the release's distribution (cached mmdebstrap "
                         "tarball), point apt at the signed staging suite, install the package (upgrading from "
                         "staging's earlier version if any), run the service's commands, pip check, entry points, "
                         "build-path and systemd checks; beside them, in a chroot of its own, piuparts' install, "
                         "upgrade and purge test.")
    sm.add_argument("release", help=RELEASE_HELP)
    options.dist(sm)
    sm.add_argument("service", help=SERVICE_HELP)
    sm.add_argument("deb", type=Path, nargs="?", help="the candidate .deb (default: the latest built)")
    sm.add_argument("--from-staging", action="store_true",
                    help="install the package by name from the staging suite instead (what an operator does)")
    sm.add_argument("--chroot-max-age", type=float, default=7 * 24, help="hours before the cached chroot is remade")
    sm.add_argument("--record", action="store_true", help="record the result in the repository, for 'repo promote'")
    options.no_piuparts(sm)
    options.dirs(sm)
    options.repo_args(sm)

    cl = options.command(sub, "cloud", cloud, help="run a point's services together on one controller, and a "
                         "user's scenario", description="Install the newest staged version of each service of the "
                         "point (each must have passed its own gates) in one clean chroot, with Debian's MariaDB, "
                         "RabbitMQ and memcached; configure each service from its [cloud] declarations; boot the "
                         "chroot with systemd, bring every service up from its units, register them in keystone, and "
                         "run the scenario of packaging/cloud.toml as a user of a new project.")
    cl.add_argument("release", help=RELEASE_HELP)
    cl.add_argument("services", nargs="*", help="the services to run together (default: all of the release's)")
    options.dist(cl)
    cl.add_argument("--show-config", action="store_true",
                    help="print the configuration files the gate writes, with the install guide's placeholders "
                         "for passwords, and run nothing")
    cl.add_argument("--chroot-max-age", type=float, default=7 * 24, help="hours before the cached chroot is remade")
    cl.add_argument("--record", action="store_true",
                    help="record the result for each package's file in the repository, for 'repo promote'")
    cl.add_argument("--only-if-changed", action="store_true",
                    help="run the gate only if it has not passed already with exactly these packages (each staged "
                         "version, by its file's sha256) and what the gate puts in the controller (configuration, "
                         "scenario, checks): a kept gate's result is that recorded run's")
    cl.add_argument("--screenshot", type=Path, metavar="PNG",
                    help="also draw horizon's instances page, as the scenario's user sees it, with chromium in the "
                         "controller, into this file (with several distributions: <name>-<distribution>.png); a "
                         "cloud with horizon and nova")
    cl.add_argument("--upgrade-to", metavar="RELEASE",
                    help="then upgrade the cloud to this next release, one service at a time, with its data: after "
                         "each, what the scenario made reads back the same, the scenario runs again, and the other "
                         "services are still at the first release")
    cl.add_argument("--dist-upgrade", metavar="CODENAME",
                    help="then upgrade the controller's operating system to this next distribution of the release "
                         "(bookworm to trixie), as Debian's release notes have it, the venv packages replaced by "
                         "their builds for it; booted again, what the scenario made reads back the same, and the "
                         "scenario runs again")
    options.dirs(cl)
    options.repo_args(cl)


def lint(args) -> LintReport:
    fail_on = tuple(s for s in args.fail_on.split(",") if s)
    unknown = [s for s in fail_on if s not in lintian.FAIL_ON_SEVERITIES]
    if unknown or not fail_on:
        raise VenvdebError(f"--fail-on: {unknown[0] if unknown else args.fail_on!r} is not a lintian severity",
                           hint=f"give some of: {', '.join(lintian.FAIL_ON_SEVERITIES)}")
    for deb in args.debs:
        verify_checksum(deb)
    report = LintReport([lintian.run(deb, fail_on) for deb in args.debs])
    for package in report.packages:
        say(args, package.summary())
        for line in package.failing():
            say(args, f"  {line}")
    if args.record:  # each package's own result, for its own bytes: what publish and promote check
        repo = options.repository(args)
        for deb, linted in zip(args.debs, report.packages):
            control = DebFile(str(deb)).debcontrol()
            repo.record_gate(control["Package"], control["Version"], "lint", linted.as_dict(), sha256_file(deb))
    if not report.passed:
        failed = [Path(p.deb).name for p in report.packages if not p.passed]
        raise Rejected(f"lint gate failed: {', '.join(failed)}", report)
    return report


def smoke(args) -> Result:
    release = load_release(args.packaging, args.release)
    service = release.service(args.service)
    if args.deb:
        verify_checksum(args.deb)
    repo = options.repository(args)
    if args.deb:  # the distribution it was built for
        built = release.point_of(DebFile(str(args.deb)).debcontrol()["Version"])
        if args.dist and args.dist != built.distribution:
            raise VenvdebError(f"{args.deb} was built for {built.distribution}, not {args.dist}",
                               hint=f"smoke it with --dist {built.distribution}, or give the {args.dist} build")
        points = [built]
    else:
        points = options.points(args, release)
    results = {}
    for point in points:
        image = images.smoke(point.distribution, args.cache_dir, max_age=args.chroot_max_age * 3600)
        if args.from_staging:
            result = pipeline.smoke(point, service, repo, image, log=stderr)
        else:
            deb = args.deb or latest_service_deb(args.out_dir / release.name, service.package, point)
            result = pipeline.smoke(point, service, repo, image, deb, log=stderr, piuparts=args.piuparts)
            if args.record:
                repo.record_gate(result.package, result.version, "smoke", result.as_dict(), sha256_file(deb))
        results[point.distribution] = result
    out = concluded(results, "smoke", lambda r: f"{r.package} {r.version}")
    for result in results.values():
        say(args, f"{result.package} {result.version}: smoke passed ({len(result.checks)} checks)")
    return out


def cloud(args) -> Result:
    release = load_release(args.packaging, args.release)
    names = args.services or [s.name for s in release.services]
    services = [release.service(name) for name in names]
    if args.show_config:
        controller = Controller([s for s in services if s.system_user], Secrets(placeholders=True),
                                commands=[s.name for s in services if not s.system_user])
        files = dict(controller.files())
        if not args.json:
            for path, text in files.items():
                print(f"# {path}\n{text.rstrip()}\n")
        return CloudConfig(files)
    load_scenario(args.packaging)  # its problems, before anything runs
    following = None
    walked = "--upgrade-to" if args.upgrade_to else "--dist-upgrade" if args.dist_upgrade else None
    if args.only_if_changed and (walked or args.screenshot):
        raise VenvdebError(f"--only-if-changed with {walked or '--screenshot'}: a gate kept from an earlier run "
                           f"{'walks' if walked else 'draws'} nothing", hint="leave out --only-if-changed")
    if args.dist_upgrade:
        return dist_upgrade(args, release, names)
    if args.upgrade_to:
        if args.record:
            raise VenvdebError("--record with --upgrade-to: the upgrade walk is no gate of one point's packages",
                               hint="record the cloud gate of each release on its own (venvdeb cloud RELEASE --record)")
        following = load_release(args.packaging, args.upgrade_to)
        missing = [n for n in names if n not in {s.name for s in following.services}]
        if missing:
            raise VenvdebError(f"--upgrade-to {args.upgrade_to}: {following.path} has no {', '.join(missing)}",
                               hint="walk only the services both releases have (name them)")
    repo = options.repository(args)
    results = {}
    for point in options.points(args, release):
        image = images.smoke(point.distribution, args.cache_dir, max_age=args.chroot_max_age * 3600)
        shot = args.screenshot
        if shot and len(options.points(args, release)) > 1:
            shot = shot.with_name(f"{shot.stem}-{point.distribution}{shot.suffix}")
        results[point.distribution] = pipeline.cloud(point, names, repo, image, log=stderr, record=args.record,
                                                     upgrade_to=following.at(point.distribution) if following else None,
                                                     screenshot=shot, only_if_changed=args.only_if_changed)
    out = concluded(results, "cloud", lambda r: f"{r.release} on {r.distribution}")
    for result in results.values():
        say(args, f"cloud {result.release} on {result.distribution}: " + (result.kept or
                  f"passed ({len(result.versions)} packages, {result.scenario_steps} scenario steps)"))
    return out


def dist_upgrade(args, release, names: list[str]) -> Result:
    """``venvdeb cloud RELEASE --dist D --dist-upgrade NEXT``: the controller of RELEASE on D, its
    operating system then upgraded to NEXT."""
    if args.upgrade_to or args.record:
        raise VenvdebError(f"--dist-upgrade with {'--upgrade-to' if args.upgrade_to else '--record'}: the walk of the "
                           "operating system is one walk, at one release, and no gate of one point's packages",
                           hint="run each walk on its own, and record the gate of each point on its own")
    if not args.dist:
        raise VenvdebError("--dist-upgrade: give the distribution the controller starts on (--dist)",
                           hint=f"venvdeb cloud {release.name} --dist bookworm --dist-upgrade {args.dist_upgrade}")
    if args.dist_upgrade not in release.distributions:
        raise VenvdebError(f"--dist-upgrade {args.dist_upgrade}: not a distribution of {release.path} "
                           f"(it has {', '.join(release.distributions)})",
                           hint="name the distribution the controller is upgraded to, one the release is built for")
    # Debian supports an upgrade to the next release only (its release notes), never a downgrade.
    if DEBIAN_RELEASES[args.dist_upgrade] != DEBIAN_RELEASES[args.dist] + 1:
        raise VenvdebError(f"--dist-upgrade {args.dist_upgrade} from {args.dist}: Debian upgrades a host to the next "
                           "release only", hint="name the release after --dist")
    point = release.at(args.dist)
    image = images.smoke(point.distribution, args.cache_dir, max_age=args.chroot_max_age * 3600)
    result = pipeline.cloud(point, names, options.repository(args), image, log=stderr,
                            upgrade_to=release.at(args.dist_upgrade), screenshot=args.screenshot)
    out = concluded({point.distribution: result}, "cloud", lambda r: f"{r.release} on {r.distribution}")
    say(args, f"cloud {result.release} on {result.distribution}, upgraded to {args.dist_upgrade}: passed "
              f"({len(result.versions)} packages, their {args.dist_upgrade} builds after)")
    return out


def concluded(results: dict[str, Result], gate: str, what) -> Result:
    """The gate's results by distribution; each failure said on stderr (``what(result)`` names
    it), and Rejected if any failed."""
    out = per_distribution(results)
    failed = [r for r in results.values() if not r.passed]
    for result in failed:
        for failure in result.failures():
            stderr(f"venvdeb: {gate}: {what(result)}: {failure}")
    if failed:
        raise Rejected(f"{gate} failed: {', '.join(what(r) for r in failed)}", out)
    return out


def latest_service_deb(out_dir: Path, package: str, point: Point) -> Path:
    """The newest build of ``package`` for ``point``'s distribution in ``out_dir``."""
    debs = sorted(out_dir.glob(f"{package}_*.deb"), key=lambda p: Version(p.name.split("_")[1]))
    debs = [d for d in debs if point.built_for(d.name.split("_")[1]) == point.distribution]
    if not debs:
        raise VenvdebError(f"no {package} package in {out_dir}", hint="build it first: venvdeb build")
    return debs[-1]
