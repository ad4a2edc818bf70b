"""The venvdeb subcommands: each loads the model, picks the environment, calls one stage (or the
pipeline) and prints its result; with --json, the result's JSON on stdout."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from debian.debfile import DebFile
from debian.debian_support import Version

from .. import environment, pipeline, wheelhouse
from ..deb import sources_entry
from ..environment import images
from ..errors import Rejected, VenvdebError
from ..files import sha256_file, verify_checksum
from ..gates import lint
from ..model import list_releases, load_release
from ..progress import Progress
from ..repository import KEYRING, Repository, reserve, server
from ..repository.fetch import fetch
from ..repository.signing import Key, fingerprints, make_throwaway
from ..service.build import BuildOptions, build, plan, render_only
from ..wheelhouse import service_versions
from ..wheelhouse.lock import compile_lock, write_lock


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def _build_environment(release, cache_dir: Path):
    """This host, or a clean chroot of the release's distribution when the host is another."""
    return environment.for_build(release.distribution, f"{release.path}: key '{release.distribution_key}'", cache_dir,
                                 release.build_depends, log=_stderr, index_url=release.index_url)


def _points(args, release):
    """The release at the distribution asked for (--dist), or at each of its distributions."""
    return release.points(getattr(args, "dist", None))


def _per_point(results: dict) -> dict:
    """One distribution's result as it is; several, by distribution."""
    return next(iter(results.values())) if len(results) == 1 else {"distributions": results}


def _repository(args, make_key: bool = False):
    home = args.gnupghome
    found = fingerprints(home) if (home / "pubring.kbx").exists() or (home / "private-keys-v1.d").exists() else []
    if args.key:
        if args.key not in found:
            raise VenvdebError(f"{home}: no secret key {args.key}", hint="check --gnupghome and --key")
        key = Key(home, args.key)
    elif len(found) == 1:
        key = Key(home, found[0])
    elif not found and make_key:
        key = make_throwaway(home)
    elif not found:
        raise VenvdebError(f"{home}: no signing key", hint="give --gnupghome/--key, or run 'venvdeb repo init --make-key'")
    else:
        raise VenvdebError(f"{home}: {len(found)} secret keys; say which with --key")
    return Repository(args.repo_dir, key)


def cmd_lint(args) -> dict:
    fail_on = tuple(s for s in args.fail_on.split(",") if s)
    unknown = [s for s in fail_on if s not in lint.FAIL_ON_SEVERITIES]
    if unknown or not fail_on:
        raise VenvdebError(f"--fail-on: {unknown[0] if unknown else args.fail_on!r} is not a lintian severity",
                           hint=f"give some of: {', '.join(lint.FAIL_ON_SEVERITIES)}")
    for deb in args.debs:
        verify_checksum(deb)
    results = [lint.run(deb, fail_on) for deb in args.debs]
    for r in results:
        print(r.summary(), file=sys.stderr if args.json else sys.stdout)
        for line in r.failing():
            print(f"  {line}", file=sys.stderr if args.json else sys.stdout)
    out = {"passed": all(r.passed for r in results), "packages": [r.as_dict() for r in results]}
    if args.output:
        args.output.write_text(json.dumps(out, indent=1) + "\n")
    if not out["passed"]:
        failed = [Path(r.deb).name for r in results if not r.passed]
        raise Rejected(f"lint gate failed: {', '.join(failed)}", out)
    return out


def _farm_versions(args, repo) -> dict:
    release = load_release(args.packaging, args.release)
    if not args.dist or args.dist not in release.distributions:
        raise VenvdebError(f"{args.action}: --dist must be one of release {release.name}'s distributions "
                           f"({', '.join(release.distributions)})")
    point = release.at(args.dist)
    if args.action == "record-build":
        entry = reserve.record_build(point, args.package, args.version, args.state_dir, args.ledger)
        if not args.json:
            print(f"{args.package} {entry.version}: recorded")
        return {"package": args.package, "version": entry.version}
    published = [v for suite in (point.staging_suite, point.production_suite) for v in repo.versions(suite, args.package)]
    version = reserve.reserve_version(point, args.package, args.upstream, args.state_dir, published)
    if not args.json:
        print(version)
    return {"package": args.package, "version": version}


def cmd_repo(args) -> dict:
    # publish, record-gate: a broken or missing file is named before anything else
    for deb in [*getattr(args, "debs", ()), *([args.deb] if getattr(args, "deb", None) else [])]:
        verify_checksum(deb)
    repo = _repository(args, make_key=args.action == "init" and args.make_key)
    if args.action == "init":
        releases = [load_release(args.packaging, n) for n in list_releases(args.packaging)]
        result = repo.init(releases)
        if not args.json:
            print(f"{result['repository']}: suites {', '.join(result['suites'])}, signed by {result['fingerprint']}")
        return result
    if args.action == "publish":
        result = [repo.publish(args.suite, deb) for deb in args.debs]
        if not args.json:
            for r in result:
                print(f"{r['suite']}: {r['package']} {r['version']} "
                      f"{'published' if r['published'] else '(' + r['reason'] + ')'}")
        return {"published": result}
    if args.action == "promote":
        release = load_release(args.packaging, args.release)
        release = release.at(args.dist) if args.dist else release.point_of(args.version)
        result = repo.promote(release.staging_suite, release.production_suite, args.package, args.version)
        if not args.json:
            print(f"{result['suite']}: {result['package']} {result['version']} "
                  f"{'promoted' if result['promoted'] else '(' + result['reason'] + ')'}")
        return result
    if args.action == "refresh":
        result = repo.refresh()
        if not args.json:
            for suite, until in result["valid_until"].items():
                print(f"{suite}: valid until {until}")
        return result
    if args.action == "list":
        result = repo.list(args.suite)
        if not args.json:
            for r in result:
                print(f"{r['package']} {r['version']} {r['architecture']}")
        return {"suite": args.suite, "packages": result}
    if args.action == "record-gate":
        try:
            result = json.loads(args.result.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise VenvdebError(f"{args.result}: not a gate result: {exc}") from None
        control = DebFile(str(args.deb)).debcontrol()
        repo.record_gate(control["Package"], control["Version"], args.gate, result, sha256_file(args.deb))
        out = {"package": control["Package"], "version": control["Version"], "gate": args.gate,
               "passed": bool(result.get("passed"))}
        if not args.json:
            print(f"{out['package']} {out['version']}: {args.gate} {'passed' if out['passed'] else 'FAILED'}, recorded")
        return out
    if args.action in ("reserve-version", "record-build"):
        return _farm_versions(args, repo)
    if args.action == "sources":
        release = load_release(args.packaging, args.release)
        entries = {p.distribution: sources_entry(args.url, p.production_suite if args.production else p.staging_suite,
                                                 args.keyring) for p in _points(args, release)}
        entry = "\n".join(entries.values())
        if not args.json:
            print(entry, end="")
        return {"sources": entry, "keyring": str(repo.base / KEYRING), "by_distribution": entries}
    if args.action == "rollback":
        entry = repo.rollback_sources(args.suite, args.package, args.version, args.url, args.keyring)
        if args.restore:
            restored = repo.restore(args.suite, args.package, args.version)
            if not args.json:
                print(f"{args.suite}: {args.package} {args.version} "
                      f"{'restored' if restored['restored'] else '(' + restored['reason'] + ')'}")
            return {"sources": entry, **restored}
        if not args.json:
            print(entry, end="")
        return {"sources": entry}
    httpd = server(repo.base, args.host, args.port)
    print(f"serving {repo.base} on http://{args.host}:{httpd.server_address[1]}/ (Ctrl-C stops)", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return {}


def cmd_smoke(args) -> dict:
    release = load_release(args.packaging, args.release)
    service = release.service(args.service)
    if args.deb:
        verify_checksum(args.deb)
    repo = _repository(args)
    if args.deb:  # the distribution it was built for
        built = release.point_of(DebFile(str(args.deb)).debcontrol()["Version"])
        if args.dist and args.dist != built.distribution:
            raise VenvdebError(f"{args.deb} was built for {built.distribution}, not {args.dist}",
                               hint=f"smoke it with --dist {built.distribution}, or give the {args.dist} build")
        points = [built]
    else:
        points = _points(args, release)
    results = {}
    for point in points:
        image = images.smoke(point.distribution, args.cache_dir, max_age=args.chroot_max_age * 3600)
        if args.from_staging:
            result = pipeline.smoke(point, service, repo, image, log=_stderr)
        else:
            deb = args.deb or latest_service_deb(args.out_dir / release.name, service.package, point)
            result = pipeline.smoke(point, service, repo, image, deb, log=_stderr, piuparts=args.piuparts)
            if args.record:
                repo.record_gate(result.package, result.version, "smoke", result.as_dict(), sha256_file(deb))
        results[point.distribution] = result
    out = _per_point({d: r.as_dict() for d, r in results.items()})
    if not all(r.passed for r in results.values()):
        for result in results.values():
            for failure in result.failures():
                _stderr(f"venvdeb: smoke: {result.package} {result.version}: {failure}")
        failed = [f"{r.package} {r.version}" for r in results.values() if not r.passed]
        raise Rejected(f"smoke failed: {', '.join(failed)}", out)
    if not args.json:
        for result in results.values():
            print(f"{result.package} {result.version}: smoke passed ({len(result.checks)} checks)")
    return out


def latest_service_deb(out_dir: Path, package: str, release=None) -> Path:
    """The newest build of ``package`` in ``out_dir`` (for ``release``'s distribution, when given)."""
    debs = sorted(out_dir.glob(f"{package}_*.deb"), key=lambda p: Version(p.name.split("_")[1]))
    if release is not None:
        debs = [d for d in debs if release.built_for(d.name.split("_")[1]) == release.distribution]
    if not debs:
        raise VenvdebError(f"no {package} package in {out_dir}", hint="build it first: venvdeb build")
    return debs[-1]


def cmd_pipeline(args) -> dict:
    release = load_release(args.packaging, args.release)
    services = args.services or [s.name for s in release.services]
    for name in services:
        release.service(name)  # unknown names fail here, before anything runs
    points = _points(args, release)
    repo = _repository(args)
    out_dir = args.out_dir / release.name
    results = []
    for point in points:  # one distribution after the other; each stops at its first failing gate
        with _build_environment(point, args.cache_dir) as env:
            result = pipeline.run(
                point, services, repo,
                BuildOptions(cache_dir=args.cache_dir, out_dir=out_dir, state_dir=args.state_dir, reason=args.reason,
                             install_build_deps=args.install_build_deps, packaging_commit=args.packaging_commit or ""),
                wheelhouse.Options(cache_dir=args.cache_dir, out_dir=out_dir, state_dir=args.state_dir,
                                   install_build_deps=args.install_build_deps, packaging_commit=args.packaging_commit or ""),
                env, log=_stderr, piuparts=args.piuparts,
            )
        print(result.table(), file=sys.stderr if args.json else sys.stdout)
        results.append(result)
        if not result.passed:
            break
    if len(points) == 1:
        out = results[0].as_dict()
    else:  # a distribution not reached, after an earlier one failed, has not passed either
        out = {"passed": len(results) == len(points) and all(r.passed for r in results),
               "distributions": {r.distribution: r.as_dict() for r in results}}
    if not all(r.passed for r in results):
        failed = [f"{r.release} for {r.distribution}" for r in results if not r.passed]
        raise Rejected(f"pipeline failed: {', '.join(failed)}; nothing of it was published", out)
    return out


def cmd_validate(args) -> dict:
    names = args.releases or list_releases(args.packaging)
    out = {}
    for name in names:
        release = load_release(args.packaging, name)
        out[name] = {"services": [s.name for s in release.services], "constraints": release.constraints.describe(),
                     "distributions": list(release.distributions)}
        if not args.json:
            print(f"{name}: ok ({len(release.services)} services: {', '.join(out[name]['services'])}; "
                  f"for {', '.join(release.distributions)})")
    return out


def cmd_wheelhouse_build(args) -> dict:
    release = load_release(args.packaging, args.release)
    progress = Progress(quiet=False)
    results = {}
    for point in _points(args, release):
        with _build_environment(point, args.cache_dir) as env:
            result = pipeline.build_wheelhouse(point, wheelhouse.Options(
                cache_dir=args.cache_dir, out_dir=args.out_dir / release.name, state_dir=args.state_dir,
                all_pins=args.all_pins, jobs=args.jobs, install_build_deps=args.install_build_deps,
                packaging_commit=args.packaging_commit or "",
            ), env, progress)
        if not args.json:
            state = "built" if result.changed else "unchanged"
            print(f"{result.deb}: {state}, {result.wheels} wheels ({result.built} built from sdists), "
                  f"version {result.version}, for {point.distribution} ({result.interpreter})")
        results[point.distribution] = result.as_dict()
    return _per_point(results)


def cmd_fetch(args) -> dict:
    release = load_release(args.packaging, args.release)
    results = {}
    # A version given belongs to one distribution: the one it was built for, unless --dist says.
    points = [release.point_of(args.version)] if args.version and not args.dist else _points(args, release)
    for point in points:
        result = fetch(point, args.repo_url, args.keyring, args.out_dir / release.name, version=args.version,
                       seen_dir=args.state_dir / "inrelease-seen")
        if not args.json:
            print(f"{result.deb}: {result.package} {result.version} from {result.suite}, sha256 verified")
        else:
            _stderr(f"fetched {result.package} {result.version} from {result.repo_url}")
        results[point.distribution] = result.as_dict()
    return _per_point(results)


def cmd_render(args) -> dict:
    release = load_release(args.packaging, args.release)
    points = _points(args, release)
    if len(points) > 1:
        raise VenvdebError(f"{release.path}: release {release.name} is built for {', '.join(release.distributions)}; "
                           "say which tree to render", hint="pass --dist")
    with _build_environment(points[0], args.cache_dir) as env:
        result = render_only(points[0], release.service(args.service), args.output, args.reason,
                             args.cache_dir, args.state_dir, args.out_dir / release.name, env)
    if not args.json:
        print(f"{args.output}: rendered {result['package']} {result['version']}")
    return result


def cmd_build(args) -> dict:
    release = load_release(args.packaging, args.release)
    progress = Progress(quiet=False)
    if args.wheelhouse_deb:
        verify_checksum(args.wheelhouse_deb, f"venvdeb wheelhouse build {release.name}")
    if args.wheelhouse_deb and not args.dist:  # built against that wheelhouse: its distribution
        points = [release.point_of(DebFile(str(args.wheelhouse_deb)).debcontrol()["Version"])]
    else:
        points = _points(args, release)
    results = {}
    for point in points:
        options = BuildOptions(
            cache_dir=args.cache_dir, out_dir=args.out_dir / release.name, state_dir=args.state_dir,
            reason=args.reason, install_build_deps=args.install_build_deps, wheelhouse_deb=args.wheelhouse_deb,
            isolation=args.isolation, only_if_changed=args.only_if_changed,
            packaging_commit=args.packaging_commit or "", version=args.version)
        if args.plan:
            with _build_environment(point, args.cache_dir) as env:
                results[point.distribution] = found = plan(point, release.service(args.service), options, env,
                                                           log=progress.log)
            if not args.json:
                print(f"{found['package']}: upstream {found['upstream']}" + (
                    f", would be skipped: {found['skipped']}" if found["skipped"] else ""))
            continue
        with _build_environment(point, args.cache_dir) as env:
            result = build(point, release.service(args.service), options, env, log=progress.log)
        if not args.json:
            if result.skipped:
                print(f"{result.package}: nothing built, {result.skipped}")
            else:
                print(f"{result.deb}: {result.package} {result.version}, {result.deb_size / 1e6:.1f} MB, "
                      f"built in {result.seconds} s")
        results[point.distribution] = result.as_dict()
    return _per_point(results)


def cmd_lock(args) -> dict:
    release = load_release(args.packaging, args.release)
    service_versions.check(release)  # every distribution's, before a chroot is made
    compiled_for, lock = [], None
    for point in release.points():  # one lock for all of them: see wheelhouse/lock.py
        with _build_environment(point, args.cache_dir) as env:
            target = environment.prepare(env, point.python, args.cache_dir)
            roots, text = compile_lock(point, target, args.constraint, args.cache_dir / "tmp",
                                       extend=(compiled_for[-1], lock) if lock else None, log=_stderr)
        _stderr(f"{release.constraints.path}: compiled for {point.distribution} ({target.interpreter})")
        compiled_for.append(point.distribution)
        lock = text
    # Written only once every distribution compiled: a failure leaves the lock as it was.
    path = write_lock(release, roots, lock)
    print(f"{path}: written, for {', '.join(compiled_for)}")
    return {"lock": str(path), "distributions": compiled_for}
