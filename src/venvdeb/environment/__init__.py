"""Where a build or a test runs: this host, or a clean chroot of a given Debian distribution.

- ``Environment`` (base.py): run an argv, write a file, know the distribution and architecture;
- ``Host`` (host.py): this machine;
- ``Chroot`` (chroot.py): a chroot unpacked afresh from an ``Image`` (images.py), made once by
  mmdebstrap and cached;
- ``Target`` (python.py): the distribution's interpreter in an environment, probed, with the build
  environment sdists are built in.
"""

from __future__ import annotations

from ..errors import VenvdebError
from .base import Environment
from .chroot import Chroot
from .host import Host
from .images import Image
from .python import Target, prepare

__all__ = ["Chroot", "Environment", "Host", "Image", "Target", "for_build", "prepare"]


def for_build(distribution: str, where: str) -> Environment:
    """The environment builds for ``distribution`` run in: this host when it is that distribution.

    ``where`` names the file and key that asked for the distribution, for the message.
    """
    host = Host()
    if host.distribution == distribution:
        return host
    raise VenvdebError(
        f"{where}: builds for {distribution} must run on a {distribution} host; this host is "
        f"{host.distribution or 'not a Debian release'}",
        hint=f"build on a {distribution} machine (or Buildbot worker), or target {host.distribution}",
    )
