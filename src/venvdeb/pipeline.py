"""`venvdeb pipeline`: wheelhouse -> build -> lint -> smoke -> publish to staging.

All gates run before anything is published: one failing gate stops the pipeline and the staging
suite keeps its previous state. Lint and smoke of a package are independent, so they run side
by side (lintian is one process on one core; smoke waits on apt, migrations and servers as much
as it computes), and while they run the next package builds. Two packages' gates run at a time
(GATED_AT_ONCE); the wheelhouse's run beside the first builds. A failed gate stops the pipeline
before any more gates start, and a failed build still records the gates that ran beside it.

This module and the CLI are where the stages meet: each stage hands the next typed data (the
wheelhouse's result and manifest, a build's result), and only here does one stage's output
become another's input.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from debian.debfile import DebFile
from debian.debian_support import Version

from . import wheelhouse
from .environment import Environment, images, prepare
from .errors import Rejected, VenvdebError
from .files import sha256_file
from .gates import lint
from .gates.cloud import Cloud, Walk
from .gates.cloud import inputs as cloud_inputs
from .gates.smoke import AptSuite, Smoke
from .model import Point, Service
from .model.cloud import load_scenario
from .model.results import (BuildResult, CloudResult, LintResult, PipelineResult, SmokeResult, Stage,
                            WheelhouseResult)
from .progress import Progress, say
from .repository import Repository, serving
from .repository import gates as required_gates
from .service import git_source
from .service.build import BuildOptions, build
from .wheelhouse.roots import check_lock_fresh
from .wheelhouse.verify import verify as verify_wheelhouse


class Stopped(Exception):
    pass


# How many packages' gates run at once, beside the next build. Smoke waits on apt, migrations and
# servers as much as it computes: with two packages' gates, the 2 cores stay busy (bench/fleet.py).
GATED_AT_ONCE = 2


def build_wheelhouse(point: Point, options: wheelhouse.Options, environment: Environment,
                     progress: Progress | None = None, checked: wheelhouse.Checked | None = None) -> WheelhouseResult:
    """The wheelhouse stage, given what git-sourced services' checkouts declare (the service
    stage knows how to read a checkout; the wheelhouse stage only resolves what it is given).
    ``checked``: its preflight, done before the environment was made."""
    progress = progress or Progress(quiet=True)
    options = with_checkouts(point, options, environment, progress)
    return wheelhouse.build(point, options, environment, progress, checked=checked)


def with_checkouts(point: Point, options: wheelhouse.Options, environment: Environment,
                   progress: Progress) -> wheelhouse.Options:
    """``options`` (a copy: the caller's stay as they were) with what the git-sourced services'
    checkouts declare, which the wheelhouse resolves as roots."""
    check_lock_fresh(point)  # before any checkout: a stale lock is the first thing to hear of
    if any(s.source.git for s in point.services) and not options.all_pins:
        target = prepare(environment, point.python, options.cache_dir, log=progress.log)
        options = replace(options, checkouts=git_source.checkouts(point, target, options.cache_dir))
    return options


def smoke(point: Point, service: Service, repo: Repository, image: images.Image, deb: Path | None = None,
          log=say, piuparts: bool = True, beside: dict[str, Path] | None = None) -> SmokeResult:
    """Smoke ``deb`` against the release's staging suite, served on 127.0.0.1 for the chroot's
    apt, upgrading from staging's earlier version when it has one; with no ``deb``, install the
    package by name from staging, as an operator does. The services its smoke brings up beside
    it are installed from ``beside`` (their candidates, by service name) or else from staging."""
    suite_name = point.staging_suite
    with serving(repo.base) as url:
        tester = Smoke(point, service, image, AptSuite(url, suite_name, repo.keyring()), log=log, piuparts=piuparts,
                       beside=beside)
        if deb is None:
            return tester.from_suite(repo.newest(suite_name, service.package) or "")
        version = DebFile(str(deb)).debcontrol()["Version"]
        return tester.run(deb, previous=repo.previous(suite_name, service.package, version))


def cloud(point: Point, services: list[str], repo: Repository, image: images.Image, log=say,
          record: bool = False, upgrade_to: Point | None = None, screenshot: Path | None = None,
          only_if_changed: bool = False) -> CloudResult:
    """The cloud gate of ``point``: the newest staged version of each of ``services`` (all of the
    point's when empty), each of which must have passed its own gates for that very file. With
    ``record``, the result is recorded for each of those files. With ``upgrade_to``, the cloud is
    then upgraded to that point: the next release at the same distribution, one service at a time;
    or the same release at the next distribution, the operating system with its packages. With
    ``only_if_changed``, a gate already passed is not run again (``cloud_kept``)."""
    chosen = [point.service(name) for name in services] if services else list(point.services)
    found = staged(point, chosen, repo)
    versions = versions_of(found)
    scenario = load_scenario(point.root)
    digest = cloud_inputs(chosen, scenario)
    if only_if_changed:
        kept = cloud_kept(repo, found, digest)
        if kept is not None:
            log(f"cloud {point.name} on {point.distribution}: {kept.kept}")
            return kept
    with serving(repo.base) as url:
        walk = None
        if upgrade_to is not None:
            walk = Walk(upgrade_to, versions_of(staged(upgrade_to, [upgrade_to.service(s.name) for s in chosen], repo)),
                        AptSuite(url, upgrade_to.staging_suite, repo.keyring()))
        result = Cloud(point, chosen, versions, image, AptSuite(url, point.staging_suite, repo.keyring()), scenario,
                       log=log, walk=walk, screenshot=screenshot, digest=digest).run()
    if record:
        for package, newest in found.items():
            repo.record_gate(package, newest.version, "cloud", result.as_dict(), newest.sha256)
    return result


def cloud_kept(repo: Repository, found: dict[str, Staged], inputs: str) -> CloudResult | None:
    """The cloud gate recorded as passed for every one of these staged files, in one run that
    installed exactly these versions together and put exactly ``inputs`` in the controller, or
    None. Kept, it carries that run's checks, and says when it ran."""
    runs = []
    for package, newest in found.items():
        record = repo.gates(package, newest.version)
        if required_gates.not_passed(record, newest.sha256, ("cloud",)):
            return None
        runs.append(CloudResult.from_dict(record["cloud"]))
    first = runs[0] if runs else None
    versions = versions_of(found)
    if first is None or first.upgraded_to or any(r != first for r in runs) or first.versions != versions \
            or first.inputs != inputs:
        return None
    return replace(first, kept=f"kept: passed at {first.finished} with exactly these {len(versions)} packages and "
                               f"this configuration and scenario (nothing changed since)")


class Staged(NamedTuple):
    """The newest version of a package in a staging suite (None: the suite has none), its file's
    sha256, and each of its own gates not passed for that file, with why."""

    version: str | None
    sha256: str | None
    missing: list[str]


def gated_in_staging(point: Point, package: str, repo: Repository) -> Staged:
    found = repo.versions(point.staging_suite, package)
    if not found:
        return Staged(None, None, [f"{point.staging_suite} has no version"])
    version = max(found, key=Version)
    digest = sha256_file(Path(found[version]))
    return Staged(version, digest, required_gates.not_passed(repo.gates(package, version), digest,
                                                            required_gates.SERVICE))


def versions_of(found: dict[str, Staged]) -> dict[str, str]:
    """Each staged package's version."""
    return {package: newest.version for package, newest in found.items()}


def staged(point: Point, services: list[Service], repo: Repository) -> dict[str, Staged]:
    """The newest version of each service's package in ``point``'s staging suite, by package; each
    must have passed its own gates for that very file."""
    suite = point.staging_suite
    found = {}
    for service in services:
        newest = gated_in_staging(point, service.package, repo)
        if newest.version is None:
            raise Rejected(f"{service.name}: {service.package} is not in {suite}, so it has not passed its own gates "
                           f"at {point.name} on {point.distribution}: the cloud gate runs a point's gated packages",
                           hint=f"venvdeb pipeline {point.name} {service.name} --dist {point.distribution}")
        if newest.missing:
            raise Rejected(f"{service.name}: {service.package} {newest.version} in {suite} has not passed its own "
                           f"gates: {'; '.join(newest.missing)}", hint=f"venvdeb pipeline {point.name} {service.name} "
                           f"--dist {point.distribution}, or run its gates with --record")
        found[service.package] = newest
    return found


def beside_first(point: Point, services: list[str]) -> list[str]:
    """``services`` in their order, but each after the services its smoke brings up beside it,
    when those are built in the same run: its smoke then installs their candidates."""
    ordered: list[str] = []
    for name in services:
        for other in point.service(name).smoke.beside:
            if other in services and other not in ordered:
                ordered.append(other)
        if name not in ordered:
            ordered.append(name)
    return ordered


def run(point: Point, services: list[str], repo: Repository, options: BuildOptions,
        wheelhouse_options: wheelhouse.Options, environment, log=say,
        piuparts: bool = True) -> PipelineResult:
    """Every stage of ``services`` at ``point``: the wheelhouse, then each package built while the
    gates of the ones before it run; published to staging only if every gate passed.
    ``environment()`` gives a fresh build environment: each build has its own, so that what one
    build's upstream code does to its chroot no other build inherits."""
    return _Run(point, repo, environment, log, piuparts).all(services, options, wheelhouse_options)


class _Run:
    """One pipeline at one point: the table it fills, and the packages it will publish."""

    def __init__(self, point: Point, repo: Repository, environment, log, piuparts: bool):
        self.point, self.repo, self.environment, self.log, self.piuparts = point, repo, environment, log, piuparts
        self.result = PipelineResult(point.name, point.distribution)
        self.to_publish: list[Path] = []
        self.built: dict[str, Path] = {}  # this run's candidates, by service: what services beside them smoke with

    def all(self, services: list[str], options: BuildOptions, wheelhouse_options: wheelhouse.Options) -> PipelineResult:
        point = self.point
        services = beside_first(point, services)
        image = images.smoke(point.distribution, wheelhouse_options.cache_dir)  # a tool's failure stops all here
        try:
            wh = self.stage(point.wheelhouse_package, "wheelhouse",
                            lambda: self.fresh(build_wheelhouse, point, wheelhouse_options, progress=Progress(),
                                              checked=wheelhouse.preflight(point, wheelhouse_options)),
                            detail=lambda r: f"version {r.version}, {r.wheels} wheels")
            wh_deb = Path(wh.deb)
            self.to_publish.append(wh_deb)
            # The wheelhouse's gates run beside the first builds: they gate publication, and a
            # build trusts no wheel it installs more than its chroot does. A failure stops the
            # pipeline at the next package, as a service's does, and nothing is published.
            with ThreadPoolExecutor(max_workers=1) as beside:
                wh_gated = beside.submit(self.wheelhouse_gates, wh_deb, wh.version)
                # The services build against this wheelhouse: their options are a copy that says so.
                self.services(services, replace(options, wheelhouse_deb=wh_deb), image, wh_gated)
                wh_gated.result()
            published = self.stage("*", "publish", lambda: [
                self.repo.publish(point.staging_suite, d, required_gates.WHEELHOUSE if d == wh_deb
                                  else required_gates.SERVICE)
                for d in self.to_publish],
                                   detail=lambda r: f"{len([p for p in r if p.published])} new of {len(r)} "
                                                    f"to {point.staging_suite}")
            self.result.published = published
        except Stopped:
            pass
        # Gates finish while the next package builds: the table reads package by package.
        order = [point.wheelhouse_package, *(point.service(n).package for n in services), "*"]
        self.result.stages.sort(key=lambda s: order.index(s.package) if s.package in order else len(order))
        return self.result

    def services(self, services: list[str], options: BuildOptions, image: images.Image, before=None) -> None:
        """Build each service while the gates of the packages built before it run (and ``before``,
        a future: the gates of the wheelhouse they build against)."""
        with ThreadPoolExecutor(max_workers=2 * GATED_AT_ONCE) as pool:
            pending: deque = deque()  # the gates of the packages built last, running while the next builds
            for name in services:
                service = self.point.service(name)
                try:
                    if before is not None and before.done():
                        before.result()  # a wheelhouse that failed its gates: no more builds
                    built = self.stage(service.package, "build", lambda: self.built_or_kept(service, options),
                                       detail=lambda r: r.skipped or f"{r.version}, {r.deb_size / 1e6:.1f} MB")
                except Stopped:
                    for running in pending:  # the gates that ran beside the failed build are recorded all the same
                        with contextlib.suppress(Stopped):
                            self.gated(*running)
                    raise
                if built.skipped:  # staging has it, gated: nothing to gate or publish
                    continue
                if len(pending) == GATED_AT_ONCE:
                    self.to_publish.append(self.gated(*pending.popleft()))
                deb = self.built[name] = Path(built.deb)
                beside = {other: self.built[other] for other in service.smoke.beside if other in self.built}
                pending.append((service, built, deb, pool.submit(timed, self.lint, service.package, deb),
                                pool.submit(timed, smoke, self.point, service, self.repo, image, deb, self.log,
                                            self.piuparts, beside)))
            while pending:
                self.to_publish.append(self.gated(*pending.popleft()))

    def built_or_kept(self, service: Service, options: BuildOptions) -> BuildResult:
        """The service's package built; with ``only_if_changed``, the one staging holds instead when
        it is the last build, its closure and packaging are this build's, and its gates passed for
        its very file. Anything less (not staged, another version newer there, a gate not passed,
        another file) and it is built anew, in the same preparation."""
        suite = self.point.staging_suite

        def gated(version: str) -> bool:
            newest = gated_in_staging(self.point, service.package, self.repo)
            missing = newest.missing if newest.version == version else [f"{suite} has {newest.version or 'no version'}"]
            if missing:
                self.log(f"pipeline: {service.package}: {version} unchanged, but {'; '.join(missing)}: built anew")
            return not missing

        built = self.fresh(build, self.point, service, replace(options, keep=gated), log=self.log)
        return replace(built, skipped=f"{built.skipped}, in {suite} with its gates passed") if built.skipped else built

    def fresh(self, step, *args, **kwargs):
        """``step(*args, environment, **kwargs)`` in an environment of its own."""
        with self.environment() as environment:
            return step(*args, environment, **kwargs)

    def stage(self, package: str, name: str, action, passed=lambda r: True, detail=lambda r: "", seconds=None,
              record=True):
        """Run one stage and add its row to the table; with ``record=False`` only if it fails
        (waiting for a gate that ran in another thread: its row comes with its result)."""
        started = time.monotonic()
        try:
            value = action()
            ok, text = passed(value), detail(value)
        except VenvdebError as exc:
            value, ok, text = None, False, exc.message.splitlines()[0]
        except subprocess.TimeoutExpired as exc:
            value, ok, text = None, False, f"timed out after {exc.timeout:.0f} s: {' '.join(map(str, exc.cmd))[:200]}"
        took = seconds if seconds is not None else time.monotonic() - started
        if record or not ok:
            self.result.stages.append(Stage(package, name, ok, took, text))
            self.log(f"pipeline: {package}: {name} {'ok' if ok else 'FAILED'} ({took:.1f} s)")
        if not ok:
            raise Stopped()
        return value

    def wheelhouse_gates(self, deb: Path, version: str) -> None:
        """The wheelhouse's gates, each recorded for its bytes whatever it found: lint, and its
        wheels against their manifest and the index."""
        package, digest = self.point.wheelhouse_package, sha256_file(deb)
        linted, seconds = self.stage(package, "lint", lambda: timed(self.lint, package, deb), record=False)
        self.repo.record_gate(package, version, "lint", linted.as_dict(), digest)
        self.stage(package, "lint", lambda: linted, passed=lambda r: r.passed, detail=lambda r: r.summary(),
                   seconds=seconds)
        verified, seconds = self.stage(package, "verify", lambda: timed(verify_wheelhouse, self.point, deb),
                                       record=False)
        self.repo.record_gate(package, version, "verify", verified.as_dict(), digest)
        for failure in verified.failures:
            self.log(f"pipeline: {package}: verify: {failure}")
        self.stage(package, "verify", lambda: verified, passed=lambda r: r.passed,
                   detail=lambda r: f"{r.wheels} wheels: the manifest's, and the index's" if r.passed
                   else f"{len(r.failures)} wheel(s) not as published: {r.failures[0]}", seconds=seconds)

    def lint(self, package: str, deb: Path) -> LintResult:
        # The table says which gate failed; the failing tags say why, in the plain output too.
        linted = lint.run(deb, tuple(self.point.lint_fail_on))
        for line in linted.failing() if not linted.passed else ():
            self.log(f"pipeline: {package}: lint: {line}")
        return linted

    def gated(self, service: Service, built, deb: Path, linted, smoked) -> Path:
        """Wait for a package's gates, record them, and stop the pipeline if one failed."""
        smoke_result, smoke_seconds = self.stage(service.package, "smoke", smoked.result, record=False)
        lint_result, lint_seconds = self.stage(service.package, "lint", linted.result, record=False)
        digest = sha256_file(deb)
        self.repo.record_gate(service.package, built.version, "lint", lint_result.as_dict(), digest)
        self.repo.record_gate(service.package, built.version, "smoke", smoke_result.as_dict(), digest)
        for failure in smoke_result.failures():
            self.log(f"pipeline: {service.package}: smoke: {failure}")
        self.stage(service.package, "lint", lambda: lint_result, passed=lambda r: r.passed,
                   detail=lambda r: r.summary(), seconds=lint_seconds)
        self.stage(service.package, "smoke", lambda: smoke_result, passed=lambda r: r.passed,
                   detail=lambda r: "; ".join(r.failed()) or
                   f"{len(r.checks)} checks" + (f", upgrade from {r.upgraded_from}" if r.upgraded_from else ""),
                   seconds=smoke_seconds)
        return deb


def timed(action, *args):
    """``action(*args)`` and the seconds it took, measured in the thread that ran it."""
    started = time.monotonic()
    value = action(*args)
    return value, time.monotonic() - started
