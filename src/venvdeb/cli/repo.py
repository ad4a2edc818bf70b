"""`venvdeb repo ...`: the signed reprepro repository, its suites, and the farm master's ledger."""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from debian.debfile import DebFile

from ..deb import sources_entry
from ..errors import Rejected, VenvdebError
from ..files import sha256_file, verify_checksum
from ..model.cloud import runs_a_cloud
from ..model import list_releases, load_release
from ..model.results import (InitResult, KeysResult, ListResult, PromoteResult, PublishResult, RefreshResult,
                             RollbackResult, SourcesResult, UploadAccepted, VersionResult)
from ..repository import KEYRING, reserve, server, upload
from ..repository import gates as gate_rules
from ..repository.keyring import INSTALLED as KEYRING_INSTALLED, PACKAGE as KEYRING_PACKAGE
from ..repository.signing import expiry, fingerprints, make_throwaway
from ..repository.upload import Expected
from . import options
from .options import PACKAGE_HELP, RELEASE_HELP, SUITE_HELP, say


def register(sub) -> None:
    rp = sub.add_parser("repo", help="the signed reprepro repository",
                        description="Manage the reprepro repository of every release's staging and production suites.")
    rsub = rp.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name, func, json_output=True, **kwargs):
        p = options.command(rsub, name, func, json_output, **kwargs)
        options.repo_args(p)
        return p

    i = action("init", init, help="write conf/distributions for all releases, sign, export")
    i.add_argument("--make-key", action="store_true", help="make a throwaway signing key if there is none (demo, tests)")

    pub = action("publish", publish, help="include packages in a suite, once their gates passed (idempotent)",
                 description="Include packages in a suite, each only if its gates passed for exactly its bytes "
                 "(a service package: lint and smoke; a wheelhouse: lint and verify; each recorded by the gate "
                 "itself, with --record). A published version is immutable: other bytes are refused.")
    pub.add_argument("suite", help=SUITE_HELP)
    pub.add_argument("debs", nargs="+", type=Path)
    pub.add_argument("--gates", type=gate_list, metavar="GATE,...",
                     help="the gates required instead of the package's own (lint,smoke or lint,verify): a farm "
                     "that runs no smoke publishes to staging after lint alone")
    asked = pub.add_argument_group("what every package must be (each one given is checked before anything is "
                                   "published; the farm's master gives them for a worker's upload)")
    asked.add_argument("--package", help="its Package")
    asked.add_argument("--version", dest="expect_version", metavar="VERSION", help="its Version")
    asked.add_argument("--architecture", help="its Architecture")
    asked.add_argument("--max-size", type=int, metavar="BYTES", help="its largest size")

    chk = action("check-upload", check_upload, help="accept a builder's upload only if it is what was asked for",
                 description="Check, before anything runs on it, that a builder's .deb is the package (and the "
                 "version and architecture) that was asked of it, whole and no larger than allowed: what a farm's "
                 "master does with a worker's upload before it gates it. Refused (exit 1) naming every difference.")
    chk.add_argument("deb", type=Path)
    chk.add_argument("--package", required=True, help="its Package")
    chk.add_argument("--version", dest="expect_version", metavar="VERSION", help="its Version")
    chk.add_argument("--architecture", help="its Architecture")
    chk.add_argument("--max-size", type=int, required=True, metavar="BYTES", help="its largest size")

    pro = action("promote", promote, help="copy a package version from staging to production, if its gates passed",
                 description="Copy a package version from staging to production, if its gates passed for the very "
                 "file in staging: a service package's lint, smoke and independent rebuild (venvdeb rebuild), a "
                 "wheelhouse's lint and verify.")
    pro.add_argument("release", help=RELEASE_HELP)
    options.dist(pro)
    pro.add_argument("package", help=PACKAGE_HELP)
    pro.add_argument("version", help="a version of that package")

    action("refresh", refresh, help="sign every suite again with a new Valid-Until (nightly)",
           description="Export and sign every suite's Release again (reprepro export): today's Date, and a "
           "Valid-Until 7 days on. Run it more often than that, or apt and 'wheelhouse fetch' refuse the "
           "suites as expired.")

    rk = action("rotate-key", rotate_key, help="sign with a new key beside the old one, then with the new one alone",
                description="Rotate the repository's signing key, as Debian's archive does. First a new key (made "
                "with --make-key, or one of --gnupghome's given with --new-key) signs every suite beside the old "
                f"one, and {KEYRING_PACKAGE}, published in every suite, carries both public keys: hosts get the "
                "new key with their next upgrade. Once they have (well before the old key expires), --finish "
                "signs with the new key alone.")
    which = rk.add_mutually_exclusive_group(required=True)
    which.add_argument("--make-key", action="store_true", help="make the new key (demo, tests: no passphrase)")
    which.add_argument("--new-key", metavar="FINGERPRINT", help="the new key: a secret key of --gnupghome")
    which.add_argument("--finish", action="store_true", help="end the transition: sign with the newest key alone")

    ls = action("list", list_suite, help="list a suite's packages")
    ls.add_argument("suite", help=SUITE_HELP)

    s = action("serve", serve, json_output=False, help="serve the repository over HTTP on 127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--host", default="127.0.0.1")

    rb = action("rollback", rollback, help="print the apt sources entry that makes an earlier version installable",
                description="Print the apt sources entry of the suite's snapshot of that version; with "
                "--restore, make it the suite's version again.")
    rb.add_argument("suite", help=SUITE_HELP)
    rb.add_argument("package", help=PACKAGE_HELP)
    rb.add_argument("version", help="a version of that package")
    rb.add_argument("--restore", action="store_true",
                    help="make VERSION the suite's version again (reprepro restore from its snapshot)")
    rb.add_argument("--url", default="http://127.0.0.1:8080")
    rb.add_argument("--keyring", default=KEYRING_INSTALLED)

    so = action("sources", sources, help="print the apt sources entry of a release's suite, for operators")
    so.add_argument("release", help=RELEASE_HELP)
    options.dist(so)
    so.add_argument("--production", action="store_true", help="the production suite (default: staging)")
    so.add_argument("--url", default="http://127.0.0.1:8080")
    so.add_argument("--keyring", default=KEYRING_INSTALLED)

    rv = action("reserve-version", reserve_version, help="take the next version of a service package (a farm's master)",
                description="The next version of PACKAGE at Debian upstream version UPSTREAM, above what the "
                "release's suites have published and the ledger holds (built or in flight), recorded as in "
                "flight under the ledger's lock: two builds never get one version.")
    rv.add_argument("release", help=RELEASE_HELP)
    rv.add_argument("package", help=PACKAGE_HELP)
    rv.add_argument("--upstream", required=True, help="the upstream part of the version ('venvdeb build --plan' says it)")

    rr = action("record-build", record_build, help="add a build's ledger entry to this ledger (a farm's master)",
                description="Add the entry of PACKAGE VERSION from the ledger the build wrote (a worker's) to the "
                "ledger in --state-dir: the next build's changelog continues from it.")
    rr.add_argument("release", help=RELEASE_HELP)
    rr.add_argument("package", help=PACKAGE_HELP)
    rr.add_argument("version", help="a version of that package")
    rr.add_argument("--ledger", type=Path, required=True, help="the ledger file the build wrote")
    for p in (rv, rr):
        options.dist(p)
        options.state_dir(p, "the ledgers")


def gate_list(text: str) -> tuple[str, ...]:
    gates = tuple(g for g in text.split(",") if g)
    unknown = [g for g in gates if g not in gate_rules.KNOWN]
    if unknown or not gates:
        raise argparse.ArgumentTypeError(f"{unknown[0] if unknown else text!r} is not a gate "
                                         f"(one of: {', '.join(gate_rules.KNOWN)})")
    return gates


def init(args) -> InitResult:
    repo = options.repository(args, make_key=args.make_key)
    result = repo.init([load_release(args.packaging, n) for n in list_releases(args.packaging)])
    say(args, f"{result.repository}: suites {', '.join(result.suites)}, signed by {result.fingerprint}")
    return result


def publish(args) -> PublishResult:
    expected = Expected(args.package, args.expect_version, args.architecture, args.max_size)
    for deb in args.debs:  # a broken, missing or other file is named before anything is published
        if expected == Expected() or not deb.is_file():
            verify_checksum(deb)  # a package of one's own: named, with the command that builds it again
        else:
            upload.check(deb, expected)  # a builder's: refused, whatever is wrong with it
    repo = options.repository(args)
    wheelhouses = {load_release(args.packaging, name).wheelhouse_package for name in list_releases(args.packaging)}
    required = {}
    for deb in args.debs:  # every gate of every package, before anything is published
        control = DebFile(str(deb)).debcontrol()
        required[deb] = args.gates or gate_rules.of(control["Package"], wheelhouses)
        gate_rules.require(repo.gates(control["Package"], control["Version"]), sha256_file(deb), required[deb],
                           control["Package"], control["Version"], str(deb), f"published to {args.suite}")
    result = PublishResult([repo.publish(args.suite, deb, required[deb]) for deb in args.debs])
    for p in result.published:
        say(args, f"{p.suite}: {p.text()}" + (" published" if p.published else ""))
    return result


def check_upload(args) -> UploadAccepted:
    if not args.deb.is_file():
        raise Rejected(f"{args.deb}: no upload there", hint="the builder uploaded nothing: look at its build step")
    upload.check(args.deb, Expected(args.package, args.expect_version, args.architecture, args.max_size))
    control = DebFile(str(args.deb)).debcontrol()
    accepted = UploadAccepted(control["Package"], control["Version"], control["Architecture"], args.deb.stat().st_size,
                              sha256_file(args.deb))
    say(args, f"{args.deb}: {accepted.package} {accepted.version} {accepted.architecture}, as asked: accepted")
    return accepted


def in_a_cloud(point) -> set[str]:
    """The packages of ``point`` the cloud gate runs together, if the point runs a cloud."""
    return {s.package for s in point.services} if runs_a_cloud(point.services) else set()


def promote(args) -> PromoteResult:
    release = load_release(args.packaging, args.release)
    point = release.at(args.dist) if args.dist else release.point_of(args.version)
    result = options.repository(args).promote(point.staging_suite, point.production_suite, args.package, args.version,
                                              gate_rules.to_promote(args.package, {point.wheelhouse_package},
                                                                    in_a_cloud(point)))
    say(args, f"{result.suite}: {result.package} {result.version} "
              f"{'promoted' if result.promoted else '(' + str(result.reason) + ')'}")
    return result


# How long before a signing key expires `repo refresh` says to rotate it: hosts need time to
# upgrade their keyring package before the old key alone no longer does.
ROTATE_BEFORE = datetime.timedelta(days=90)


def refresh(args) -> RefreshResult:
    repo = options.repository(args)
    result = repo.refresh()
    for suite, until in result.valid_until.items():
        say(args, f"{suite}: valid until {until}")
    now = datetime.datetime.now(datetime.timezone.utc)
    for fingerprint in repo.signing_keys():
        when = expiry(args.gnupghome, fingerprint)
        if when is not None and when - now < ROTATE_BEFORE:
            print(f"venvdeb: warning: signing key {fingerprint} expires on {when:%Y-%m-%d}: rotate it now "
                  "('venvdeb repo rotate-key', docs/operator.md)", file=sys.stderr)
    return result


def rotate_key(args) -> KeysResult:
    repo = options.repository(args)
    if args.finish:
        signing = repo.finish_rotation()
    else:
        new = make_throwaway(args.gnupghome).fingerprint if args.make_key else args.new_key
        if new not in fingerprints(args.gnupghome):
            raise VenvdebError(f"{args.gnupghome}: no secret key {new}", hint="import it there first, or use --make-key")
        signing = repo.rotate_key(new)
    result = KeysResult(str(repo.base), signing, {f: _expires(args.gnupghome, f) for f in signing},
                        repo.newest(repo.codenames()[0], KEYRING_PACKAGE) if repo.codenames() else None)
    say(args, f"{result.repository}: signed by {', '.join(signing)}; {KEYRING_PACKAGE} {result.keyring_version} "
              "in every suite")
    return result


def _expires(home, fingerprint: str) -> str:
    when = expiry(home, fingerprint)
    return when.isoformat() if when else "never"


def list_suite(args) -> ListResult:
    result = ListResult(args.suite, options.repository(args).list(args.suite, keyring_too=True))
    for p in result.packages:
        say(args, f"{p.package} {p.version} {p.architecture}")
    return result


def _point(args):
    release = load_release(args.packaging, args.release)
    if not args.dist or args.dist not in release.distributions:
        raise VenvdebError(f"repo {args.action}: --dist must be one of release {release.name}'s distributions "
                           f"({', '.join(release.distributions)})")
    return release.at(args.dist)


def reserve_version(args) -> VersionResult:
    point, repo = _point(args), options.repository(args)
    published = [v for suite in (point.staging_suite, point.production_suite) for v in repo.versions(suite, args.package)]
    result = VersionResult(args.package, reserve.reserve_version(point, args.package, args.upstream, args.state_dir,
                                                                 published))
    say(args, result.version)
    return result


def record_build(args) -> VersionResult:
    point = _point(args)
    options.repository(args)  # the master's repository: its key must be there, as for every repo action
    entry = reserve.record_build(point, args.package, args.version, args.state_dir, args.ledger)
    say(args, f"{args.package} {entry.version}: recorded")
    return VersionResult(args.package, entry.version)


def sources(args) -> SourcesResult:
    release = load_release(args.packaging, args.release)
    repo = options.repository(args)
    entries = {p.distribution: sources_entry(args.url, p.production_suite if args.production else p.staging_suite,
                                             args.keyring) for p in options.points(args, release)}
    result = SourcesResult("\n".join(entries.values()), str(repo.base / KEYRING), entries)
    say(args, result.sources, end="")
    return result


def rollback(args) -> RollbackResult:
    repo = options.repository(args)
    entry = repo.rollback_sources(args.suite, args.package, args.version, args.url, args.keyring)
    if not args.restore:
        say(args, entry, end="")
        return RollbackResult(args.suite, args.package, args.version, sources=entry)
    result = repo.restore(args.suite, args.package, args.version)
    result.sources = entry
    say(args, f"{args.suite}: {args.package} {args.version} "
              f"{'restored' if result.restored else '(' + str(result.reason) + ')'}")
    return result


def serve(args) -> None:
    repo = options.repository(args)
    httpd = server(repo.base, args.host, args.port)
    print(f"serving {repo.base} on http://{args.host}:{httpd.server_address[1]}/ (Ctrl-C stops)", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
