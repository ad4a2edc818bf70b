"""The venvdeb command line: `venvdeb <command> ...`, one module per command group (releases,
wheelhouse, service, gates, repo, pipeline), their shared options in options.py, and here the
one path every command's result or failure takes out."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

from .. import progress
from ..errors import EXIT_STATUSES, VenvdebError
from .parser import parser

__all__ = ["main", "parser"]


def _terminated(signum, frame):
    # A stopped Buildbot step sends SIGTERM: unwinding as for ^C tears chroots down (their
    # unshare processes are killed with the subprocess that waits on them) and publishes nothing.
    raise KeyboardInterrupt


def _print_json(data: dict) -> None:
    print(json.dumps(data, indent=1, sort_keys=True, default=str))


def _sweep(cache_dir: Path) -> None:
    """What a killed run left (a chroot in memory, a half-unpacked tree), removed before this one
    makes its own (environment/stale.py); said on stderr, which --json leaves alone."""
    from ..environment import boot, stale, workdir

    # A killed smoke's booted chroot first: its processes run until its cgroup is swept.
    removed = boot.sweep_stale() + stale.sweep(stale.places(cache_dir, workdir.build_dir()))
    if removed:
        shown = ", ".join(str(p) for p in removed[:5]) + (f" and {len(removed) - 5} more" if len(removed) > 5 else "")
        print(f"venvdeb: removed what a killed run left: {shown}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    progress.configure(args.verbosity)  # long steps: a live line on a terminal, plain lines elsewhere
    # What venvdeb writes (build trees, chroots, the repository) must not depend on who started it:
    # under a daemon's umask (Buildbot's master runs with 077) the copy of the clean chroot that
    # piuparts tests in had a root only root could enter, and apt's _apt user could not run gpgv.
    # Files that must be private are made so explicitly (secrets: 0600 when written).
    os.umask(0o022)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    if getattr(args, "cache_dir", None) is not None:
        _sweep(Path(args.cache_dir))
    try:
        result = args.func(args)
    except VenvdebError as exc:  # the one failure path: its exit status says which kind (errors.py)
        if getattr(args, "json", False):
            _print_json(exc.as_dict())
        print(f"venvdeb: {EXIT_STATUSES[exc.exit_status][0]}: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("venvdeb: interrupted; nothing more was done", file=sys.stderr)
        return 130
    if getattr(args, "json", False) and result is not None:
        _print_json(result.as_dict())
    return 0
