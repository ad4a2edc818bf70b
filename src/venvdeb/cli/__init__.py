"""The venvdeb command line: `venvdeb <stage> ...`, one subcommand per stage (parser.py), each
calling that stage (commands.py)."""

from __future__ import annotations

import json
import signal
import sys
import threading

from ..errors import VenvdebError
from .parser import parser

__all__ = ["main", "parser"]


def _terminated(signum, frame):
    # A stopped Buildbot step sends SIGTERM: unwinding as for ^C tears chroots down (their
    # unshare processes are killed with the subprocess that waits on them) and publishes nothing.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    try:
        result = args.func(args)
    except VenvdebError as exc:
        if getattr(args, "json", False):
            print(json.dumps(exc.as_dict(), indent=1))
        print(f"venvdeb: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("venvdeb: interrupted; nothing more was done", file=sys.stderr)
        return 130
    if getattr(args, "json", False):
        print(json.dumps(result, indent=1, sort_keys=True, default=str))
    return 0

