"""Enter a chroot as the root of a user namespace, with host directories bound into it.

Run inside new mount and PID namespaces (see chroot.enter_argv)::

    python -m venvdeb.environment.enter ROOT [--bind PATH]... [--wd DIR] [--egress SOCKET] -- ARGV...

It mounts /proc, binds each PATH at ROOT/PATH (idmapped: idmap.py), makes ROOT the namespace's
root with pivot_root and detaches the host's file system, then runs ARGV in a child as root of a
user namespace whose ids are the host's subordinate ones: the command is not the host's root,
and has nothing of the host's in sight but the bound directories. The mounts belong to the
namespace: they end with it, and the host never sees them, so removing the chroot afterwards can
never reach into a bound directory. This process stays as the namespace's PID 1 and reaps what
the command leaves; when it ends, everything in the namespace ends.

With ``--egress`` it runs in a network namespace of its own too: it brings loopback up, listens on
127.0.0.1:PROXY_PORT there, and passes each connection to the host's egress proxy (egress.py)
through SOCKET, bound in before the root changed.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import traceback

from . import idmap
from .egress import PROXY_PORT, relay

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def parse(args: list[str]) -> tuple[str, list[str], str, list[str]]:
    if "--" not in args or not args or args[0].startswith("-"):
        raise SystemExit("usage: python -m venvdeb.environment.enter ROOT [--bind PATH]... [--wd DIR] -- ARGV...")
    split = args.index("--")
    options, argv = args[1:split], args[split + 1:]
    binds, wd, egress = [], "/", None
    while options:
        flag, value, *options = options
        if flag == "--bind":
            binds.append(value)
        elif flag == "--wd":
            wd = value
        elif flag == "--egress":
            egress = value
        else:
            raise SystemExit(f"enter: unknown option {flag}")
    return args[0], binds, wd, argv, egress


def loopback_up() -> None:
    """A new network namespace has loopback, down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sh22x", b"lo", 0)
        flags = struct.unpack("16sh22x", fcntl.ioctl(s, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", flags | IFF_UP))


EGRESS_DIR = "/run/venvdeb-egress"  # where the proxy's socket is seen inside the chroot


def serve_egress(listener: socket.socket, proxy: str) -> None:
    def one(conn: socket.socket) -> None:
        with conn, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
            try:
                upstream.connect(proxy)
            except OSError:
                return
            relay(conn, upstream)

    while True:
        try:
            conn, _ = listener.accept()
            threading.Thread(target=one, args=(conn,), daemon=True).start()
        except OSError:
            continue  # one failed accept must not leave the next connections waiting forever


def supervise(start, then=None) -> int:
    """Fork ``start`` (which execs, or returns an exit status) and wait for it, passing signals
    on (PID 1 drops those it has no handler for); its exit status, as a shell gives it. ``then``
    runs in this process after the fork."""
    child = 0

    def forward(number, _frame):
        if child:
            try:
                os.kill(child, number)
            except ProcessLookupError:
                pass

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    child = os.fork()
    if child == 0:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        code = 127
        try:
            code = start()
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    if then is not None:
        then()
    # As PID 1 this reaps every orphan (a daemon the command left), not only the command.
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            return code if code >= 0 else 128 - code


def own_init(argv: list[str], wd: str) -> int:
    """PID 1 of the user namespace's PID namespace: its own /proc, then the command."""
    idmap.mount_proc("/proc")  # by the kernel's call: a chroot need not have mount(8)

    def run() -> None:
        os.chdir(wd)
        os.execv(argv[0], argv)

    return supervise(run)


def main(args: list[str]) -> None:
    root, binds, wd, argv, egress = parse(args)
    base, count = idmap.subordinate_range()
    root = os.path.realpath(root)
    # The root a mount point of its own first (pivot_root needs one), so that what is mounted
    # below it afterwards goes with it.
    subprocess.run(["mount", "--bind", root, root], check=True)
    proc = os.path.join(root, "proc")
    subprocess.run(["mount", "-t", "proc", "proc", proc], check=True)
    userns = idmap.namespace(proc, base, count)
    for path in binds:
        target = os.path.join(root, path.lstrip("/"))
        os.makedirs(target, exist_ok=True)
        idmap.attach(idmap.idmapped_clone(path, userns), target)
    if egress is not None:
        # The proxy's socket, for this process only: the command reaches it through the relay.
        inside = os.path.join(root, EGRESS_DIR.lstrip("/"))
        os.makedirs(inside, exist_ok=True)
        subprocess.run(["mount", "--bind", os.path.dirname(egress), inside], check=True)
    # The chroot becomes the namespace's whole file system: the host's is detached, not merely
    # out of sight as chroot(2) leaves it (a root that can chroot again gets out of one). This
    # process stays as the namespace's PID 1, which the command sees in /proc; it has nothing of
    # the host's left either.
    os.chdir(root)
    idmap.pivot_root(".", ".")
    idmap.detach(".")
    os.chdir("/")
    listener = None
    if egress is not None:
        loopback_up()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", PROXY_PORT))
        listener.listen(64)

    def command() -> int:  # as the user namespace's root; the listener is not inherited across exec
        idmap.join(userns)
        os.setgroups([])
        os.setresgid(0, 0, 0)
        os.setresuid(0, 0, 0)
        # Mount and PID namespaces of the user namespace's own below this one: a command may then
        # mount /proc or devpts for a chroot of its own (piuparts does), and sees only its processes.
        idmap.unshare(idmap.CLONE_NEWNS | idmap.CLONE_NEWPID)
        return supervise(lambda: own_init(argv, wd))

    def relay() -> None:
        os.close(userns)
        if listener is not None:
            threading.Thread(target=serve_egress, args=(listener, os.path.join(EGRESS_DIR, os.path.basename(egress))),
                             daemon=True).start()

    sys.exit(supervise(command, then=relay))


if __name__ == "__main__":
    main(sys.argv[1:])
