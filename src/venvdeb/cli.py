"""The venvdeb command line: one subcommand per stage, each usable without Buildbot."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .errors import VenvdebError
from .model import list_releases, load_release
from .progress import Progress


def _default(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var, fallback)).expanduser()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="venvdeb",
        description="Build a release's wheelhouse .deb and one dh-virtualenv .deb per service, "
        "from the declarations in packaging/.",
    )
    p.add_argument("--version", action="version", version=f"venvdeb {__version__}")
    p.add_argument("--packaging", type=Path, default=_default("VENVDEB_PACKAGING", "packaging"),
                   help="the packaging root with releases/ and services/ (default: ./packaging, or $VENVDEB_PACKAGING)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    v = sub.add_parser("validate", help="validate releases and their services",
                       description="Load and validate release files and every service they name; "
                       "print every problem, with file and key.")
    v.add_argument("releases", nargs="*", help="release names (default: all)")
    v.add_argument("--json", action="store_true", help="print the result as JSON")
    v.set_defaults(func=cmd_validate)

    w = sub.add_parser("wheelhouse", help="the per-release wheelhouse package",
                       description="Build the per-release wheelhouse .deb.")
    wsub = w.add_subparsers(dest="action", required=True, metavar="ACTION")
    b = wsub.add_parser(
        "build", help="resolve, fetch, build and package a release's wheelhouse",
        description="Resolve the closure of the release's services under its constraints for the target "
        "interpreter, download binary wheels in parallel, build sdists with PEP 517, and package "
        "everything as <wheelhouse_package>_<version>_<arch>.deb. Every failing package is reported; "
        "nothing is written unless all succeed.",
    )
    b.add_argument("release")
    b.add_argument("--all", dest="all_pins", action="store_true",
                   help="take every pin of the constraints that applies to the target, not just the services' closure")
    b.add_argument("--jobs", type=int, default=8, help="parallel downloads (default: 8)")
    b.add_argument("--install-build-deps", action="store_true",
                   help="apt-get install the release's build_depends if missing (needs root)")
    _dirs(b)
    b.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    b.set_defaults(func=cmd_wheelhouse_build)

    r = sub.add_parser("render", help="render a service package's debian/ tree",
                       description="Render the source tree of venv-<service> (debian/ from templates/, "
                       "requirements.txt pinned with hashes, the SBOM) against the installed wheelhouse, "
                       "with the changelog entry the next build would add. Nothing is built or recorded.")
    r.add_argument("release")
    r.add_argument("service")
    r.add_argument("-o", "--output", type=Path, required=True, help="the directory to render into (must not exist)")
    r.add_argument("--reason", default="Rebuild.", help="the changelog entry's reason")
    _dirs(r)
    r.add_argument("--json", action="store_true", help="print the result as JSON")
    r.set_defaults(func=cmd_render)

    sb = sub.add_parser("build", help="build a service's dh-virtualenv package",
                        description="Build venv-<service>_<version>_<arch>.deb with dh-virtualenv, installing "
                        "only from the release's wheelhouse (no index, hash-pinned). Each build adds a "
                        "changelog entry with its reason and what changed, and a new Debian revision.")
    sb.add_argument("release")
    sb.add_argument("service")
    sb.add_argument("--reason", default="Rebuild.", help="why this build happens; recorded in debian/changelog")
    sb.add_argument("--install-build-deps", action="store_true",
                    help="apt-get install the host's build tools (dh-virtualenv, debhelper) if missing")
    sb.add_argument("--wheelhouse-deb", type=Path, help="the wheelhouse .deb to build against (default: the latest built)")
    _dirs(sb)
    sb.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    sb.set_defaults(func=cmd_build)

    lk = sub.add_parser("lock", help="compile a release's pip-tools lock",
                        description="Write the release's requirements.in from its services and compile it "
                        "with pip-compile --generate-hashes, for the target interpreter.")
    lk.add_argument("release")
    lk.add_argument("--constraint", help="an upper-constraints file or URL to compile under")
    lk.add_argument("--cache-dir", type=Path, default=_default("VENVDEB_CACHE", "~/.cache/venvdeb"))
    lk.set_defaults(func=cmd_lock)
    return p


def _dirs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", type=Path, default=_default("VENVDEB_CACHE", "~/.cache/venvdeb"),
                   help="the content-addressed cache (default: ~/.cache/venvdeb, or $VENVDEB_CACHE)")
    p.add_argument("--out-dir", type=Path, default=_default("VENVDEB_OUT", "out"),
                   help="where finished packages go (default: ./out, or $VENVDEB_OUT)")
    p.add_argument("--state-dir", type=Path, default=_default("VENVDEB_STATE", "var/state"),
                   help="version ledgers (default: ./var/state, or $VENVDEB_STATE)")


def cmd_validate(args) -> dict:
    names = args.releases or list_releases(args.packaging)
    out = {}
    for name in names:
        release = load_release(args.packaging, name)
        out[name] = {"services": [s.name for s in release.services], "constraints": release.constraints.describe()}
        if not args.json:
            print(f"{name}: ok ({len(release.services)} services: {', '.join(out[name]['services'])})")
    return out


def cmd_wheelhouse_build(args) -> dict:
    from .wheelhouse import Options, build

    release = load_release(args.packaging, args.release)
    progress = Progress(quiet=False)
    result = build(release, Options(
        cache_dir=args.cache_dir, out_dir=args.out_dir / release.name, state_dir=args.state_dir,
        all_pins=args.all_pins, jobs=args.jobs, install_build_deps=args.install_build_deps,
    ), progress)
    if not args.json:
        state = "built" if result["changed"] else "unchanged"
        print(f"{result['deb']}: {state}, {result['wheels']} wheels ({result['built']} built from sdists), "
              f"version {result['version']}")
    return result


def cmd_render(args) -> dict:
    from .service_build import render_only

    release = load_release(args.packaging, args.release)
    result = render_only(release, release.service(args.service), args.output, args.reason,
                         args.cache_dir, args.state_dir, args.out_dir / release.name)
    if not args.json:
        print(f"{args.output}: rendered {result['package']} {result['version']}")
    return result


def cmd_build(args) -> dict:
    from .service_build import BuildOptions, build

    release = load_release(args.packaging, args.release)
    progress = Progress(quiet=False)
    result = build(release, release.service(args.service), BuildOptions(
        cache_dir=args.cache_dir, out_dir=args.out_dir / release.name, state_dir=args.state_dir,
        reason=args.reason, install_build_deps=args.install_build_deps, wheelhouse_deb=args.wheelhouse_deb,
    ), log=progress.log)
    if not args.json:
        print(f"{result['deb']}: {result['package']} {result['version']}, {result['deb_size'] / 1e6:.1f} MB, "
              f"built in {result['seconds']} s")
    return result


def cmd_lock(args) -> dict:
    from .lock import compile_lock
    from .target import prepare

    release = load_release(args.packaging, args.release)
    target = prepare(release.python, args.cache_dir)
    path = compile_lock(release, target, args.constraint)
    print(f"{path}: compiled for {target.interpreter}")
    return {"lock": str(path)}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result = args.func(args)
    except VenvdebError as exc:
        if getattr(args, "json", False):
            print(json.dumps(exc.as_dict(), indent=1))
        print(f"venvdeb: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("venvdeb: interrupted; nothing was published", file=sys.stderr)
        return 130
    if getattr(args, "json", False):
        print(json.dumps(result, indent=1, sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
