"""The host's own tools that read what a builder sent (lintian, diffoscope), without root.

They run on the host (they are this machine's Debian tools, not upstream code), but their input
is a package a worker, or upstream, made: a parser's bug must not hand it the master. So, when
venvdeb runs as root, they run as ``nobody``, with no supplementary groups, no way to gain
privileges (no_new_privs), and no network: they can read what any user can, and not the signing
key, the secrets file or the TLS keys (each its owner's alone), and write nowhere but the world's
temporary directory. The packages are read from a copy in a directory of their own, readable by
all (a farm's master keeps uploads under its umask 077).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from . import stale

NOBODY = 65534
CWD = "/"  # where they start: the caller's directory may be one nobody cannot enter (a master's)


def argv(command: list[str]) -> list[str]:
    """``command`` as run on untrusted input: as nobody and offline when we are root, as it is
    when we are not root already."""
    if os.geteuid() != 0:
        return list(command)
    return ["unshare", "--net", "--", "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
            "--no-new-privs", "--", *command]


def variables(path: str = "/usr/bin:/bin") -> dict[str, str]:
    """The environment such a tool gets: nothing of ours (no HOME with keys in it)."""
    return {"LC_ALL": "C.UTF-8", "PATH": path, "HOME": "/nonexistent", "TMPDIR": tempfile.gettempdir()}


@contextmanager
def readable(*files: Path):
    """Copies of ``files`` that nobody can read, under their own names, in a directory of their own
    (which nobody may not write): removed afterwards."""
    where = Path(tempfile.mkdtemp(prefix=stale.owned(stale.READ)))
    try:
        os.chmod(where, 0o755)
        copies = []
        for i, file in enumerate(files):
            own = where / str(i)
            own.mkdir(mode=0o755)
            os.chmod(own, 0o755)  # whatever the umask
            copy = own / Path(file).name
            shutil.copyfile(file, copy)
            os.chmod(copy, 0o644)
            copies.append(copy)
        yield copies
    finally:
        shutil.rmtree(where, ignore_errors=True)
