"""Where a build or a test runs: this host, or a clean chroot of a given Debian distribution.

- ``Environment`` (base.py): run an argv, write a file, know the distribution and architecture;
- ``Host`` (host.py): this machine;
- ``Chroot`` (chroot.py): a chroot unpacked afresh from an ``Image`` (images.py), made once by
  mmdebstrap and cached;
- ``Target`` (python.py): the distribution's interpreter in an environment, probed, with the build
  environment sdists are built in.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from ..errors import VenvdebError
from . import egress, images, workdir
from .base import Environment
from .chroot import Chroot
from .host import Host
from .images import Image
from .python import Target, prepare
from ..progress import say

__all__ = ["Chroot", "Environment", "Host", "Image", "Target", "for_build", "images", "prepare"]


# pip's own bootstrap and build isolation use PyPI whatever the release's index; its files live here.
PYPI = {("pypi.org", 443), ("files.pythonhosted.org", 443)}


@contextmanager
def for_build(distribution: str, where: str, cache_dir: Path, packages: tuple[str, ...] = (), log=say,
              index_url: str = "https://pypi.org/simple"):
    """The environment a build for ``distribution`` runs in: a clean chroot of it (made with the
    build tools and ``packages``), whichever distribution this host is, since a build runs
    upstream code (sdists' builds, a service's build commands, any .pth its wheels ship) and the
    host must not. Under a user namespace, it sees ``cache_dir`` read-only at the same path, and
    writes only in its scratch directory (``environment.scratch``), from which the host takes
    what it keeps, by copy and with a digest of its own (files.take). The chroot is made in
    memory where the machine has room (workdir.py). Its commands reach
    Debian's mirror and the package index (an sdist build's environment is installed from the
    build lock) through the egress proxy, and nothing else.

    ``where`` names the file and key that asked for the distribution, for the message.
    """
    host = Host()
    image = images.build(distribution, cache_dir, tuple(packages))
    try:
        image.ensure(log)
    except VenvdebError as exc:
        raise VenvdebError(f"{where}: no {distribution} chroot can be made to build in: {exc.message}",
                           hint=f"name a Debian distribution the mirror has (this host is {host.distribution})") from None
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    reachable = image.mirrors() | {egress.host_port(index_url)} | PYPI
    # The cache's chroot images are the host's to unpack as its root: a build does not even read them.
    hidden = (Path(cache_dir) / "chroots", Path(cache_dir) / "sbuild")
    for path in hidden:  # --hide covers what exists: made now, so nothing can appear there unseen
        path.mkdir(parents=True, exist_ok=True)
    with image.fresh(log, work_dir=workdir.build_dir(), read_only=(Path(cache_dir),), scratch=True,
                     egress=reachable, proxy_variables=True, hides=hidden) as chroot:
        yield chroot
