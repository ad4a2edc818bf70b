"""What the subcommands share: their common options, and the objects those options name (the
points asked for, the environment a point builds in, the signing repository)."""

from __future__ import annotations

import argparse
import os
import re
import sys
import urllib.parse
from pathlib import Path

from .. import environment
from ..errors import VenvdebError
from ..model import Point, Release
from ..repository import Repository
from ..repository.signing import Key, fingerprints, make_throwaway

RELEASE_HELP = "a release: packaging/releases/<release>.toml"
SERVICE_HELP = "one of the release's services: packaging/services/<service>.toml"
SUITE_HELP = "a suite of the repository (e.g. bookworm-2026.2-staging)"
PACKAGE_HELP = "a Debian package name (e.g. venv-nova)"


def default(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var, fallback)).expanduser()


def commit(value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{7,64}", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a git commit id (7 to 64 lowercase hex digits)")
    return value


def url(value: str) -> str:
    """An http(s) URL with a host: what apt and the fetcher can reach."""
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or " " in value:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL with a host (e.g. http://127.0.0.1:8080)")
    return value


def command(sub, name: str, func, json_output: bool = True, **kwargs) -> argparse.ArgumentParser:
    """A subcommand running ``func(args)``; with ``--json`` unless it prints no result (a server)."""
    p = sub.add_parser(name, **kwargs)
    p.set_defaults(func=func, json=False if json_output else None)  # the option itself: add_json, once all are declared
    return p


def add_json(p: argparse.ArgumentParser) -> None:
    """``--json`` on every subcommand with a result, after its own arguments (where help lists it)."""
    if p.get_default("json") is False:
        p.add_argument("--json", action="store_true",
                       help="print the result as JSON on stdout (model/results.py); messages go to stderr")
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                add_json(sub)


def dist(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dist", metavar="CODENAME",
                   help="one of the release's distributions (default: each of them; for a version, the one it was built for)")


def cache_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", type=Path, default=default("VENVDEB_CACHE", "~/.cache/venvdeb"),
                   help="the content-addressed cache (default: ~/.cache/venvdeb, or $VENVDEB_CACHE)")


def out_dir(p: argparse.ArgumentParser, what: str = "where finished packages go") -> None:
    p.add_argument("--out-dir", type=Path, default=default("VENVDEB_OUT", "out"),
                   help=f"{what} (default: ./out, or $VENVDEB_OUT)")


def state_dir(p: argparse.ArgumentParser, what: str = "version ledgers") -> None:
    p.add_argument("--state-dir", type=Path, default=default("VENVDEB_STATE", "var/state"),
                   help=f"{what} (default: ./var/state, or $VENVDEB_STATE)")


def dirs(p: argparse.ArgumentParser) -> None:
    cache_dir(p)
    out_dir(p)
    state_dir(p)


def repo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repo-dir", type=Path, default=default("VENVDEB_REPO", "var/repo"),
                   help="the reprepro base directory (default: ./var/repo, or $VENVDEB_REPO)")
    p.add_argument("--gnupghome", type=Path, default=default("VENVDEB_GNUPGHOME", "var/gnupg"),
                   help="the GnuPG home with the signing key (default: ./var/gnupg, or $VENVDEB_GNUPGHOME)")
    p.add_argument("--key", default=os.environ.get("VENVDEB_SIGN_KEY"),
                   help="the signing key's fingerprint (default: $VENVDEB_SIGN_KEY, or the only secret key)")


def no_piuparts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-piuparts", dest="piuparts", action="store_false",
                   help="leave out piuparts' install, upgrade and purge test (quicker, for a loop of changes)")


def stderr(message: str) -> None:
    print(message, file=sys.stderr)


def say(args, message: str, end: str = "\n") -> None:
    """A line for a person: on stdout, or on stderr when stdout is the JSON."""
    print(message, end=end, file=sys.stderr if getattr(args, "json", False) else sys.stdout)


def points(args, release: Release) -> list[Point]:
    """The release at the distribution asked for (--dist), or at each of its distributions."""
    return release.points(getattr(args, "dist", None))


def build_environment(point: Point, cache: Path):
    """This host, or a clean chroot of the point's distribution when the host is another."""
    return environment.for_build(point.distribution, f"{point.path}: key '{point.distribution_key}'", cache,
                                 point.build_depends, log=stderr, index_url=point.index_url)


def repository(args, make_key: bool = False) -> Repository:
    """The repository of --repo-dir, signing with --key (or the only secret key of --gnupghome)."""
    home = args.gnupghome
    found = fingerprints(home) if (home / "pubring.kbx").exists() or (home / "private-keys-v1.d").exists() else []
    if args.key:
        if args.key not in found:
            raise VenvdebError(f"{home}: no secret key {args.key}", hint="check --gnupghome and --key")
        key = Key(home, args.key)
    elif len(found) == 1:
        key = Key(home, found[0])
    elif found and set(signing := Repository(args.repo_dir).signing_keys()) <= set(found) and signing:
        key = Key(home, signing[-1])  # several keys while one is rotated: the repository names them
    elif not found and make_key:
        key = make_throwaway(home)
    elif not found:
        raise VenvdebError(f"{home}: no signing key", hint="give --gnupghome/--key, or run 'venvdeb repo init --make-key'")
    else:
        raise VenvdebError(f"{home}: {len(found)} secret keys; say which with --key")
    return Repository(args.repo_dir, key)
