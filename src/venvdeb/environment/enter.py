"""Enter a chroot as the root of a user namespace, with host directories bound into it.

Run inside new mount and PID namespaces (see chroot.enter_argv)::

    python -m venvdeb.environment.enter ROOT [--bind PATH]... [--bind-ro PATH]... [--hide PATH]...
        [--wd DIR] [--egress SOCKET] -- ARGV...

It opens each PATH to bind (and the proxy's socket directory) while the host's paths can be
reached, makes ROOT the namespace's root with pivot_root and detaches the host's file system;
from then on every path is the chroot's own. Each PATH is attached at the same path inside,
idmapped (idmap.py); --bind-ro PATH read-only, so that nothing the command does can change what
the host later reads there (binds are attached in the order given: a --bind below a --bind-ro
one is writable); each --hide PATH (under a bound one: the cache's chroot images) is covered
by an empty read-only file system. ARGV then runs as root of a user namespace whose ids are the
host's subordinate ones, with mount and PID namespaces of that user namespace and a /proc of its
own: it is not the host's root, and has nothing of the host's in sight but the bound
directories. The mounts belong to the namespace: they end with it, and the host never sees them,
so removing the chroot afterwards can never reach into a bound directory. This process stays as
PID 1 of the outer PID namespace, as the host's root, out of the command's reach; when it ends,
everything in the namespace ends.

With ``--egress`` it runs in a network namespace of its own too: it brings loopback up, listens on
127.0.0.1:PROXY_PORT there, and passes each connection to the host's egress proxy (egress.py)
through SOCKET. Run by ``unshare --net`` without ``--egress``, it has a network namespace with
nothing in it, not even loopback up: what runs cannot reach any network (chroot.py: offline).
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import traceback

from ..errors import VenvdebError
from . import idmap, stale
from .egress import PROXY_PORT, relay

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


USAGE = ("usage: python -m venvdeb.environment.enter ROOT [--bind PATH]... [--bind-ro PATH]... [--hide PATH]... "
         "[--wd DIR] [--egress SOCKET] -- ARGV...")


def parse(args: list[str]) -> tuple[str, list[tuple[str, bool]], list[str], str, list[str], str | None]:
    """ROOT, the paths to bind (each with whether read-only), the paths to hide, the working
    directory, ARGV, the socket."""
    if "--" not in args or not args or args[0].startswith("-"):
        raise SystemExit(USAGE)
    split = args.index("--")
    options, argv = args[1:split], args[split + 1:]
    binds, hides, wd, egress = [], [], "/", None
    while options:
        flag, value, *options = options
        if flag in ("--bind", "--bind-ro"):
            binds.append((value, flag == "--bind-ro"))
        elif flag == "--hide":
            hides.append(value)
        elif flag == "--wd":
            wd = value
        elif flag == "--egress":
            egress = value
        else:
            raise SystemExit(f"enter: unknown option {flag}\n{USAGE}")
    return args[0], binds, hides, wd, argv, egress


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
    """PID 1 of the user namespace's PID namespace: its own /proc, then the command, in a session
    of its own (no controlling terminal: the invoking shell's is not the command's to type into)."""
    idmap.mount_proc("/proc")  # by the kernel's call: a chroot need not have mount(8)

    def run() -> None:
        os.setsid()
        os.chdir(wd)
        os.execv(argv[0], argv)

    return supervise(run)


def outer_proc() -> str:
    """Where this process mounts the outer PID namespace's /proc, which it needs for the user
    namespace's maps: a directory of the host's root, 0700, which the command (whose ids are not
    the host's root) cannot enter; it has a /proc of its own (own_init). A new one for each
    command: commands enter one chroot at once (a wheelhouse's sdist builds), and one that
    removed and made again a shared directory would unmount, in the other's namespace, the /proc
    it had just mounted there (a mount point removed in one namespace goes from all); the other's
    command could then mount no /proc of its own (EPERM: none fully visible)."""
    os.makedirs("/run", exist_ok=True)
    return tempfile.mkdtemp(prefix=stale.owned(stale.PROC), dir="/run")  # O_EXCL: never a planted one


def enter(root: str, binds: list[tuple[str, bool]], hides: list[str], egress: str | None) -> tuple[int, socket.socket | None]:
    """The namespace made: the user namespace's descriptor, and the relay's listener if any."""
    base, count = idmap.subordinate_range()
    root = os.path.realpath(root)
    # The root a mount point of its own first (pivot_root needs one).
    subprocess.run(["mount", "--bind", root, root], check=True, capture_output=True)
    clones = [(idmap.clone(path), path, read_only) for path, read_only in binds]
    egress_clone = idmap.clone(os.path.dirname(egress)) if egress else None
    os.chdir(root)
    idmap.pivot_root(".", ".")
    idmap.detach(".")
    os.chdir("/")
    # From here on every path is the chroot's: a symlink a command planted leads nowhere else.
    proc = outer_proc()
    idmap.mount_proc(proc)
    userns = idmap.namespace(proc, base, count)
    for fd, path, read_only in clones:
        os.makedirs(path, exist_ok=True)
        idmap.attach(idmap.idmapped(fd, path, userns, read_only), path)
    for path in hides:
        if os.path.isdir(path):
            # Locked to the mounts above it in the command's namespace: it cannot be unmounted there.
            idmap.mount_empty(path)
    listener = None
    if egress_clone is not None:
        # The proxy's socket, for the relay: the directory is the host root's, 0700, so the
        # command, whose namespace has this mount too, cannot reach the socket in it.
        os.makedirs(EGRESS_DIR, exist_ok=True)
        idmap.attach(egress_clone, EGRESS_DIR)
        loopback_up()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", PROXY_PORT))
        listener.listen(64)
    return userns, listener


def main(args: list[str]) -> None:
    root, binds, hides, wd, argv, egress = parse(args)
    try:
        userns, listener = enter(root, binds, hides, egress)
    except (OSError, subprocess.CalledProcessError, VenvdebError) as exc:
        said = getattr(exc, "message", None) or str(exc)
        hint = getattr(exc, "hint", None) or ("the kernel must allow user namespaces, idmapped mounts of the "
                                              "bound directories' file system, and pivot_root")
        sys.exit(f"venvdeb: cannot enter the chroot {root}: {said}\n  hint: {hint}")

    def command() -> int:  # as the user namespace's root; the listener is not inherited across exec
        idmap.join(userns)
        os.setgroups([])
        os.setresgid(0, 0, 0)
        os.setresuid(0, 0, 0)
        # Mount and PID namespaces of the user namespace's own below this one: a command may then
        # mount /proc or devpts for a chroot of its own (piuparts does), and sees only its processes.
        idmap.unshare(idmap.CLONE_NEWNS | idmap.CLONE_NEWPID)
        return supervise(lambda: own_init(argv, wd))

    def start_relay() -> None:
        os.close(userns)
        if listener is not None:
            threading.Thread(target=serve_egress, args=(listener, os.path.join(EGRESS_DIR, os.path.basename(egress))),
                             daemon=True).start()

    sys.exit(supervise(command, then=start_relay))


if __name__ == "__main__":
    main(sys.argv[1:])
