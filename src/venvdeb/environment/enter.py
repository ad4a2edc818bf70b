"""Enter a chroot with host directories bound into it at the same paths.

Run inside a new mount and PID namespace (see chroot.enter_argv)::

    python -m venvdeb.environment.enter ROOT [--bind PATH]... [--wd DIR] -- ARGV...

It binds each PATH at ROOT/PATH, mounts /proc, changes root and directory, and executes ARGV.
The mounts belong to the namespace: they end with it, and the host never sees them, so removing
the chroot afterwards can never reach into a bound directory.
"""

from __future__ import annotations

import os
import subprocess
import sys


def parse(args: list[str]) -> tuple[str, list[str], str, list[str]]:
    if "--" not in args or not args or args[0].startswith("-"):
        raise SystemExit("usage: python -m venvdeb.environment.enter ROOT [--bind PATH]... [--wd DIR] -- ARGV...")
    split = args.index("--")
    options, argv = args[1:split], args[split + 1:]
    binds, wd = [], "/"
    while options:
        flag, value, *options = options
        if flag == "--bind":
            binds.append(value)
        elif flag == "--wd":
            wd = value
        else:
            raise SystemExit(f"enter: unknown option {flag}")
    return args[0], binds, wd, argv


def main(args: list[str]) -> None:
    root, binds, wd, argv = parse(args)
    for path in binds:
        target = os.path.join(root, path.lstrip("/"))
        os.makedirs(target, exist_ok=True)
        subprocess.run(["mount", "--bind", path, target], check=True)
    subprocess.run(["mount", "-t", "proc", "proc", os.path.join(root, "proc")], check=True)
    os.chroot(root)
    os.chdir(wd)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
