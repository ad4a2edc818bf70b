"""The venvdeb command line's arguments: the global options, then each command group's own
(one module each), every subcommand usable without Buildbot."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import __version__
from . import gates, options, pipeline, releases, repo, service, wheelhouse

GROUPS = (releases, wheelhouse, service, gates, repo, pipeline)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="venvdeb",
        description="Build a release's wheelhouse .deb and one dh-virtualenv .deb per service, "
        "from the declarations in packaging/.",
    )
    p.add_argument("--version", action="version", version=f"venvdeb {__version__}")
    p.add_argument("--packaging", type=Path, default=options.default("VENVDEB_PACKAGING", "packaging"),
                   help="the packaging root with releases/ and services/ (default: ./packaging, or $VENVDEB_PACKAGING)")
    p.add_argument("--packaging-commit", type=options.commit, default=None, metavar="SHA",
                   help="the commit of the packaging repository that root is a checkout of: a new package's "
                   "debian/changelog records it (the farm passes the commit each build checked out)")
    talk = p.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=-1, default=0,
                      help="say nothing while working (results, errors and a failed step's log still show)")
    talk.add_argument("-v", "--verbose", dest="verbosity", action="store_const", const=1,
                      help="also say where each long step's log is")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    options.add_json(p)
    return p
