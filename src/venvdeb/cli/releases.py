"""`venvdeb validate` and `venvdeb lock`: the declarations in packaging/, and a release's lock."""

from __future__ import annotations

from .. import environment
from ..model import list_releases, load_release
from ..model.results import LockResult, ReleaseSummary, ValidateResult
from ..wheelhouse import service_versions
from ..wheelhouse.lock import compile_lock, write_lock
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
                         "distributions; the lock is written only once all of them compiled.")
    lk.add_argument("release", help=RELEASE_HELP)
    lk.add_argument("--constraint", help="an upper-constraints file or URL to compile under")
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
    service_versions.check(release)  # every distribution's, before a chroot is made
    compiled_for, text, roots = [], None, ""
    for point in release.points():  # one lock for all of them: see wheelhouse/lock.py
        with options.build_environment(point, args.cache_dir) as env:
            target = environment.prepare(env, point.python, args.cache_dir)
            roots, text = compile_lock(point, target, args.constraint, env.scratch,
                                       extend=(compiled_for[-1], text) if text else None, log=stderr)
        stderr(f"{release.constraints.path}: compiled for {point.distribution} ({target.interpreter})")
        compiled_for.append(point.distribution)
    # Written only once every distribution compiled: a failure leaves the lock as it was.
    path = write_lock(release, roots, text)
    say(args, f"{path}: written, for {', '.join(compiled_for)}")
    return LockResult(str(path), compiled_for)
