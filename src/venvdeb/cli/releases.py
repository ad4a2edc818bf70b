"""`venvdeb validate` and `venvdeb lock`: the declarations in packaging/, and a release's lock."""

from __future__ import annotations

from .. import environment
from ..model import list_releases, load_release
from ..model.results import LockResult, ReleaseSummary, ValidateResult
from ..wheelhouse import service_versions
from ..errors import VenvdebError
from ..http import Client
from ..model.constraints import parse
from ..service import git_source
from ..model import build_lock
from ..wheelhouse.build import load_constraints
from ..wheelhouse.cache import Cache
from ..wheelhouse.lock import build_requirements, compile_build_lock, compile_lock, write_build_lock, write_lock
from . import options
from .options import RELEASE_HELP, say, stderr


def register(sub) -> None:
    v = options.command(sub, "validate", validate, help="validate releases and their services",
                        description="Load and validate release files and every service they name; "
                        "print every problem, with file and key.")
    v.add_argument("releases", nargs="*", help="release names (default: all)")

    lk = options.command(sub, "lock", lock, help="compile a release's pip-tools lock",
                         description="Write the release's requirements.in from its services and compile it "
                         "with pip-compile --generate-hashes, for the target interpreter of each of its "
                         "distributions; then its build lock (constraints.build_lock), from the build "
                         "requirements its sdists and git checkouts declare. The locks are written only "
                         "once all of them compiled.")
    lk.add_argument("release", help=RELEASE_HELP)
    lk.add_argument("--constraint", help="an upper-constraints file or URL to compile under")
    lk.add_argument("--build-only", action="store_true",
                    help="compile only the build lock (constraints.build_lock), for the release's current pins")
    options.cache_dir(lk)


def validate(args) -> ValidateResult:
    result = ValidateResult({})
    for name in args.releases or list_releases(args.packaging):
        release = load_release(args.packaging, name)
        summary = result.releases[name] = ReleaseSummary([s.name for s in release.services],
                                                         release.constraints.describe(), list(release.distributions))
        say(args, f"{name}: ok ({len(summary.services)} services: {', '.join(summary.services)}; "
                  f"for {', '.join(summary.distributions)})")
    return result


def lock(args) -> LockResult:
    release = load_release(args.packaging, args.release)
    c = release.constraints
    runtime = c.kind == "lock" and not args.build_only
    service_versions.check(release)  # every distribution's, before a chroot is made
    if c.kind != "lock" and args.constraint:
        raise VenvdebError(f"{release.path}: key 'constraints.kind': is {c.kind!r}; only a 'lock' is compiled "
                           "under --constraint", hint=f"'venvdeb lock {release.name}' compiles its build lock alone")
    if not runtime and c.build_lock is None:
        key = "build_lock" if args.build_only else "kind"
        raise VenvdebError(f"{release.path}: key 'constraints.{key}': release {release.name} has "
                           f"{'no build lock' if args.build_only else 'no lock'} to compile",
                           hint=f"set build_lock = \"locks/{release.name}-build.txt\" in [constraints]")
    compiled_for, text, roots, build_text, wanted = [], None, "", None, {}
    for point in release.points():  # one lock for all of them: see wheelhouse/lock.py
        with options.build_environment(point, args.cache_dir) as env:
            target = environment.prepare(env, point.python, args.cache_dir)
            if runtime:
                roots, text = compile_lock(point, target, args.constraint, env.scratch,
                                           extend=(compiled_for[-1], text) if text else None, log=stderr)
                stderr(f"{c.path}: compiled for {point.distribution} ({target.interpreter})")
            if c.build_lock is not None:
                if runtime:  # the sdists of the lock just compiled
                    cons, moves = parse(text, str(c.path)), ()
                else:
                    cons = load_constraints(point, Cache(args.cache_dir, log=stderr), Client())
                    moves = () if c.kind == "lock" else c.overrides
                for req, who in build_requirements(point, target, cons, moves, args.cache_dir,
                                                   git_source.declared_build_requires(point, args.cache_dir),
                                                   log=stderr).items():
                    wanted.setdefault(req, set()).update(who)
                build_text = compile_build_lock(point, target, build_lock.requirements_in(point, wanted), env.scratch,
                                                extend=(compiled_for[-1], build_text) if build_text else None)
                stderr(f"{c.build_lock}: compiled for {point.distribution} ({target.interpreter})")
        compiled_for.append(point.distribution)
    # Written only once every distribution compiled: a failure leaves the locks as they were.
    path = write_lock(release, roots, text) if runtime else None
    built = write_build_lock(release, build_lock.requirements_in(release.points()[0], wanted), build_text) \
        if c.build_lock is not None else None
    for written in (path, built):
        if written:
            say(args, f"{written}: written, for {', '.join(compiled_for)}")
    return LockResult(str(path or ""), compiled_for, build_lock=str(built or ""))
