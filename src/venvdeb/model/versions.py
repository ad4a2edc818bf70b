"""Python versions as Debian versions, and the service packages' revisions.

PEP 440 pre-releases and pbr dev versions sort *before* their release; in Debian that is what
the tilde does. So 32.2.2.dev5 becomes 32.2.2~dev5 and 32.0.0.0rc1 becomes 32.0.0~rc1... with
everything else kept as written.
"""

from __future__ import annotations

from debian.debian_support import Version as DebianVersion
from packaging.version import Version

from ..errors import VenvdebError


def debian_upstream(version: str) -> str:
    v = Version(version)
    text = v.base_version
    if v.epoch:
        text = text.split("!", 1)[1]
    if v.pre:
        text += f"~{v.pre[0]}{v.pre[1]}"
    if v.post is not None:
        text += f".post{v.post}"
    if v.dev is not None:
        text += f"~dev{v.dev}"
    if v.local:
        text += f"+{v.local.replace('_', '.').replace('-', '.')}"
    return f"{v.epoch}:{text}" if v.epoch else text


def next_version(upstream: str, previous: str | None, where: str) -> str:
    """upstream-1 for a new upstream version, the next revision for the same one.

    A rebuild never reuses a published version; an upstream version lower than the last built
    one is refused, because apt would never upgrade to it.
    """
    if previous is None:
        return f"{upstream}-1"
    base, revision = previous.rsplit("-", 1)
    if DebianVersion(f"{upstream}-0") < DebianVersion(f"{base}-0"):
        raise VenvdebError(
            f"{where}: version {upstream} would go backwards: the last build was {previous}",
            hint="build a newer version; to really go back, give the package an epoch (e.g. 1:...) in the service",
        )
    return f"{upstream}-{int(revision) + 1}" if upstream == base else f"{upstream}-1"
