"""The venvdeb command line's arguments: one subcommand per stage, each usable without Buildbot."""

from __future__ import annotations

import argparse
import os
import re
import urllib.parse
from pathlib import Path

from .. import __version__
from . import commands


def _default(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var, fallback)).expanduser()


def _commit(value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{7,64}", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a git commit id (7 to 64 lowercase hex digits)")
    return value


def _url(value: str) -> str:
    """An http(s) URL with a host: what apt and the fetcher can reach."""
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or " " in value:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL with a host (e.g. http://127.0.0.1:8080)")
    return value


RELEASE_HELP = "a release: packaging/releases/<release>.toml"
SERVICE_HELP = "one of the release's services: packaging/services/<service>.toml"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="venvdeb",
        description="Build a release's wheelhouse .deb and one dh-virtualenv .deb per service, "
        "from the declarations in packaging/.",
    )
    p.add_argument("--version", action="version", version=f"venvdeb {__version__}")
    p.add_argument("--packaging", type=Path, default=_default("VENVDEB_PACKAGING", "packaging"),
                   help="the packaging root with releases/ and services/ (default: ./packaging, or $VENVDEB_PACKAGING)")
    p.add_argument("--packaging-commit", type=_commit, default=None, metavar="SHA",
                   help="the commit of the packaging repository that root is a checkout of: a new package's "
                   "debian/changelog records it (the farm passes the commit each build checked out)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    v = sub.add_parser("validate", help="validate releases and their services",
                       description="Load and validate release files and every service they name; "
                       "print every problem, with file and key.")
    v.add_argument("releases", nargs="*", help="release names (default: all)")
    v.add_argument("--json", action="store_true", help="print the result as JSON")
    v.set_defaults(func=commands.cmd_validate)

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
    b.add_argument("release", help=RELEASE_HELP)
    _dist(b)
    b.add_argument("--all", dest="all_pins", action="store_true",
                   help="take every pin of the constraints that applies to the target, not just the services' closure")
    b.add_argument("--jobs", type=int, default=8, help="parallel downloads (default: 8)")
    b.add_argument("--install-build-deps", action="store_true",
                   help="apt-get install the release's build_depends if missing (needs root)")
    _dirs(b)
    b.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    b.set_defaults(func=commands.cmd_wheelhouse_build)
    wf = wsub.add_parser(
        "fetch", help="download a release's wheelhouse .deb from the signed staging suite",
        description="Read the staging suite's InRelease (checked with gpgv against --keyring) and Packages "
        "index, download the wheelhouse .deb and verify its SHA256 from the index, into <out-dir>/<release>/.",
    )
    wf.add_argument("release", help=RELEASE_HELP)
    _dist(wf)
    wf.add_argument("--repo-url", required=True, type=_url, help="the repository's base URL (venvdeb repo serve)")
    wf.add_argument("--keyring", type=Path, default=_default("VENVDEB_REPO_KEYRING", "venvdeb-archive-keyring.gpg"),
                    help="the repository's public keyring (default: ./venvdeb-archive-keyring.gpg, or $VENVDEB_REPO_KEYRING)")
    wf.add_argument("--version", help="a version of the wheelhouse package (default: the newest in the suite)")
    wf.add_argument("--out-dir", type=Path, default=_default("VENVDEB_OUT", "out"),
                    help="where the .deb goes, under <release>/ (default: ./out, or $VENVDEB_OUT)")
    wf.add_argument("--state-dir", type=Path, default=_default("VENVDEB_STATE", "var/state"),
                    help="where the date of the newest InRelease accepted is kept, to refuse an older one "
                    "(default: ./var/state, or $VENVDEB_STATE)")
    wf.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    wf.set_defaults(func=commands.cmd_fetch)

    r = sub.add_parser("render", help="render a service package's debian/ tree",
                       description="Render the source tree of venv-<service> (debian/ from templates/, "
                       "requirements.txt pinned with hashes, the SBOM) against the installed wheelhouse, "
                       "with the changelog entry the next build would add. Nothing is built or recorded.")
    r.add_argument("release", help=RELEASE_HELP)
    _dist(r)
    r.add_argument("service", help=SERVICE_HELP)
    r.add_argument("-o", "--output", type=Path, required=True, help="the directory to render into (must not exist)")
    r.add_argument("--reason", default="Rebuild.", help="the changelog entry's reason")
    _dirs(r)
    r.add_argument("--json", action="store_true", help="print the result as JSON")
    r.set_defaults(func=commands.cmd_render)

    sb = sub.add_parser("build", help="build a service's dh-virtualenv package",
                        description="Build venv-<service>_<version>_<arch>.deb with dh-virtualenv, installing "
                        "only from the release's wheelhouse (no index, hash-pinned). Each build adds a "
                        "changelog entry with its reason and what changed, and a new Debian revision.")
    sb.add_argument("release", help=RELEASE_HELP)
    _dist(sb)
    sb.add_argument("service", help=SERVICE_HELP)
    sb.add_argument("--reason", default="Rebuild.", help="why this build happens; recorded in debian/changelog")
    sb.add_argument("--install-build-deps", action="store_true",
                    help="apt-get install the host's build tools (dh-virtualenv, debhelper) if missing")
    sb.add_argument("--wheelhouse-deb", type=Path, help="the wheelhouse .deb to build against (default: the latest built)")
    sb.add_argument("--isolation", choices=("host", "sbuild"), default="host",
                    help="host: build here, after installing the Build-Depends (default); sbuild: in a clean "
                    "chroot with sbuild's unshare mode, the wheelhouse taken from a local repository")
    sb.add_argument("--plan", action="store_true",
                    help="build nothing: say which upstream version the package is of and whether it would be "
                    "skipped (a farm's master then chooses the version)")
    sb.add_argument("--version", default="",
                    help="the version to build (default: the next in the ledger); 'repo reserve-version' gives it")
    sb.add_argument("--only-if-changed", action="store_true",
                    help="build nothing when the service's closure (its wheels, by sha256) and its packaging (service "
                    "file, version, templates) are those of its last build")
    _dirs(sb)
    sb.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    sb.set_defaults(func=commands.cmd_build)

    ln = sub.add_parser("lint", help="run lintian on packages, as a gate",
                        description="Run lintian (by default failing on errors and warnings); print a "
                        "one-line summary per package, or JSON with every tag (severity, tag, package, context).")
    ln.add_argument("debs", nargs="+", type=Path)
    ln.add_argument("--fail-on", default="error,warning", help="severities that fail the gate (default: error,warning)")
    ln.add_argument("--json", action="store_true", help="print the result as JSON")
    ln.add_argument("--output", type=Path, help="also write the JSON result to this file (for 'repo record-gate')")
    ln.set_defaults(func=commands.cmd_lint)

    rp = sub.add_parser("repo", help="the signed reprepro repository",
                        description="Manage the reprepro repository of every release's staging and production suites.")
    rsub = rp.add_subparsers(dest="action", required=True, metavar="ACTION")
    ri = rsub.add_parser("init", help="write conf/distributions for all releases, sign, export")
    ri.add_argument("--make-key", action="store_true", help="make a throwaway signing key if there is none (demo, tests)")
    rpub = rsub.add_parser("publish", help="include packages in a suite (idempotent; a changed version is refused)")
    rpub.add_argument("suite", help="a suite of the repository (e.g. bookworm-2026.2-staging)")
    rpub.add_argument("debs", nargs="+", type=Path)
    rpro = rsub.add_parser("promote", help="copy a package version from staging to production, if its gates passed")
    rpro.add_argument("release", help=RELEASE_HELP)
    _dist(rpro)
    rpro.add_argument("package", help="a Debian package name (e.g. venv-nova)")
    rpro.add_argument("version", help="a version of that package")
    rf = rsub.add_parser("refresh", help="sign every suite again with a new Valid-Until (nightly)",
                         description="Export and sign every suite's Release again (reprepro export): today's "
                         "Date, and a Valid-Until 7 days on. Run it more often than that, or apt and "
                         "'wheelhouse fetch' refuse the suites as expired.")
    rl = rsub.add_parser("list", help="list a suite's packages")
    rl.add_argument("suite", help="a suite of the repository (e.g. bookworm-2026.2-staging)")
    rs = rsub.add_parser("serve", help="serve the repository over HTTP on 127.0.0.1")
    rs.add_argument("--port", type=int, default=8080)
    rs.add_argument("--host", default="127.0.0.1")
    rr = rsub.add_parser("rollback", help="print the apt sources entry that makes an earlier version installable",
                         description="Print the apt sources entry of the suite's snapshot of that version; with "
                         "--restore, make it the suite's version again.")
    rr.add_argument("suite", help="a suite of the repository (e.g. bookworm-2026.2-staging)")
    rr.add_argument("package", help="a Debian package name (e.g. venv-nova)")
    rr.add_argument("version", help="a version of that package")
    rr.add_argument("--restore", action="store_true",
                    help="make VERSION the suite's version again (reprepro restore from its snapshot)")
    rr.add_argument("--url", default="http://127.0.0.1:8080")
    rr.add_argument("--keyring", default="/etc/apt/keyrings/venvdeb.gpg")
    rso = rsub.add_parser("sources", help="print the apt sources entry of a release's suite, for operators")
    rso.add_argument("release", help=RELEASE_HELP)
    _dist(rso)
    rso.add_argument("--production", action="store_true", help="the production suite (default: staging)")
    rso.add_argument("--url", default="http://127.0.0.1:8080")
    rso.add_argument("--keyring", default="/etc/apt/keyrings/venvdeb.gpg")
    rg = rsub.add_parser("record-gate", help="record a gate's result for a package file (what promote checks)",
                         description="Record the JSON result of 'venvdeb lint' or 'venvdeb smoke' for this .deb, "
                         "where 'repo promote' looks for it; for gates that ran elsewhere (a Buildbot worker).")
    rg.add_argument("deb", type=Path)
    rg.add_argument("gate", choices=("lint", "smoke"))
    rg.add_argument("result", type=Path, help="the gate's --json output")
    rv = rsub.add_parser("reserve-version", help="take the next version of a service package (a farm's master)",
                         description="The next version of PACKAGE at Debian upstream version UPSTREAM, above what "
                         "the release's suites have published and the ledger holds (built or in flight), "
                         "recorded as in flight under the ledger's lock: two builds never get one version.")
    rv.add_argument("release", help=RELEASE_HELP)
    rv.add_argument("package", help="a Debian package name (e.g. venv-nova)")
    rv.add_argument("--upstream", required=True, help="the upstream part of the version ('venvdeb build --plan' says it)")
    rb = rsub.add_parser("record-build", help="add a build's ledger entry to this ledger (a farm's master)",
                         description="Add the entry of PACKAGE VERSION from the ledger the build wrote (a worker's) "
                         "to the ledger in --state-dir: the next build's changelog continues from it.")
    rb.add_argument("release", help=RELEASE_HELP)
    rb.add_argument("package", help="a Debian package name (e.g. venv-nova)")
    rb.add_argument("version", help="a version of that package")
    rb.add_argument("--ledger", type=Path, required=True, help="the ledger file the build wrote")
    for action in (rv, rb):
        _dist(action)
        action.add_argument("--state-dir", type=Path, default=_default("VENVDEB_STATE", "var/state"),
                            help="the ledgers (default: ./var/state, or $VENVDEB_STATE)")
    for action in (ri, rpub, rpro, rf, rl, rs, rr, rso, rg, rv, rb):
        _repo_args(action)
        action.add_argument("--json", action="store_true", help="print the result as JSON")
    rp.set_defaults(func=commands.cmd_repo)

    sm = sub.add_parser("smoke", help="install a package with apt in a clean chroot and test it",
                        description="Unpack a clean chroot of the release's distribution (cached mmdebstrap "
                        "tarball), point apt at the signed staging suite, install the package (upgrading from "
                        "staging's earlier version if any), run the service's commands, pip check, entry points, "
                        "build-path and systemd checks, then piuparts' install, upgrade and purge test.")
    sm.add_argument("release", help=RELEASE_HELP)
    _dist(sm)
    sm.add_argument("service", help=SERVICE_HELP)
    sm.add_argument("deb", type=Path, nargs="?", help="the candidate .deb (default: the latest built)")
    sm.add_argument("--from-staging", action="store_true",
                    help="install the package by name from the staging suite instead (what an operator does)")
    sm.add_argument("--chroot-max-age", type=float, default=7 * 24, help="hours before the cached chroot is remade")
    sm.add_argument("--record", action="store_true", help="record the result in the repository, for 'repo promote'")
    _no_piuparts(sm)
    _dirs(sm)
    _repo_args(sm)
    sm.add_argument("--json", action="store_true", help="print the result as JSON")
    sm.set_defaults(func=commands.cmd_smoke)

    pl = sub.add_parser("pipeline", help="wheelhouse, build, lint, smoke, then publish to staging",
                        description="Run every stage for the release's services; stop at the first failing gate; "
                        "publish to the staging suite only if every gate passed; print a summary table.")
    pl.add_argument("release", help=RELEASE_HELP)
    _dist(pl)
    pl.add_argument("services", nargs="*", help="services (default: all of the release's)")
    pl.add_argument("--reason", default="Pipeline build.", help="why; recorded in each package's changelog")
    pl.add_argument("--install-build-deps", action="store_true",
                    help="apt-get install the release's build_depends and the build tools if missing (needs root)")
    _no_piuparts(pl)
    _dirs(pl)
    _repo_args(pl)
    pl.add_argument("--json", action="store_true", help="print the result as JSON")
    pl.set_defaults(func=commands.cmd_pipeline)

    lk = sub.add_parser("lock", help="compile a release's pip-tools lock",
                        description="Write the release's requirements.in from its services and compile it "
                        "with pip-compile --generate-hashes, for the target interpreter.")
    lk.add_argument("release", help=RELEASE_HELP)
    lk.add_argument("--constraint", help="an upper-constraints file or URL to compile under")
    lk.add_argument("--cache-dir", type=Path, default=_default("VENVDEB_CACHE", "~/.cache/venvdeb"),
                    help="the content-addressed cache, where the build environments are (default: ~/.cache/venvdeb, "
                    "or $VENVDEB_CACHE)")
    lk.set_defaults(func=commands.cmd_lock)
    return p


def _dist(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dist", metavar="CODENAME",
                   help="one of the release's distributions (default: each of them; for a version, the one it was built for)")


def _dirs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", type=Path, default=_default("VENVDEB_CACHE", "~/.cache/venvdeb"),
                   help="the content-addressed cache (default: ~/.cache/venvdeb, or $VENVDEB_CACHE)")
    p.add_argument("--out-dir", type=Path, default=_default("VENVDEB_OUT", "out"),
                   help="where finished packages go (default: ./out, or $VENVDEB_OUT)")
    p.add_argument("--state-dir", type=Path, default=_default("VENVDEB_STATE", "var/state"),
                   help="version ledgers (default: ./var/state, or $VENVDEB_STATE)")


def _repo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repo-dir", type=Path, default=_default("VENVDEB_REPO", "var/repo"),
                   help="the reprepro base directory (default: ./var/repo, or $VENVDEB_REPO)")
    p.add_argument("--gnupghome", type=Path, default=_default("VENVDEB_GNUPGHOME", "var/gnupg"),
                   help="the GnuPG home with the signing key (default: ./var/gnupg, or $VENVDEB_GNUPGHOME)")
    p.add_argument("--key", default=os.environ.get("VENVDEB_SIGN_KEY"),
                   help="the signing key's fingerprint (default: $VENVDEB_SIGN_KEY, or the only secret key)")


def _no_piuparts(parser) -> None:
    parser.add_argument("--no-piuparts", dest="piuparts", action="store_false",
                        help="leave out piuparts' install, upgrade and purge test (quicker, for a loop of changes)")
