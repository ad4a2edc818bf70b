"""Python versions as Debian versions, and the service packages' revisions.

PEP 440 pre-releases and pbr dev versions sort *before* their release; in Debian that is what
the tilde does. So 32.2.2.dev5 becomes 32.2.2~dev5 and 32.0.0.0rc1 becomes 32.0.0~rc1... with
everything else kept as written.
"""

from __future__ import annotations

from debian.debian_support import Version as DebianVersion
from packaging.version import Version

from ..errors import VenvdebError


# The Debian releases a package can be built for, and their numbers: the number marks every
# version built for that release, so that a dist-upgrade replaces the older release's build.
DEBIAN_RELEASES = {"bullseye": 11, "bookworm": 12, "trixie": 13, "forky": 14, "duke": 15}


def debian_number(distribution: str) -> int:
    return DEBIAN_RELEASES[distribution]


def revision(number: int, build: int) -> str:
    """The Debian revision of a service package's ``build``-th build for Debian ``number``.

    ``deb12u3`` is the third build for Debian 12. Two releases of Debian get builds of the same
    upstream version, with their own counts, and one repository pool: the Debian number comes
    before the count, so bookworm's builds (deb12u...) always sort below trixie's (deb13u...) and
    a dist-upgrade replaces them; and a revision that starts with letters sorts above the plain
    numeric revisions (-1, -2, ...) of earlier venvdeb builds.
    """
    return f"deb{number}u{build}"


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


def next_version(upstream: str, previous: str | None, where: str, number: int) -> str:
    """The first build of a new upstream version, or the next build of the same one, for
    Debian ``number`` (see ``revision``).

    A rebuild never reuses a published version; an upstream version lower than the last built
    one is refused, because apt would never upgrade to it.
    """
    if previous is None:
        return f"{upstream}-{revision(number, 1)}"
    base, last = previous.rsplit("-", 1)
    if DebianVersion(f"{upstream}-0") < DebianVersion(f"{base}-0"):
        raise VenvdebError(
            f"{where}: version {upstream} would go backwards: the last build was {previous}",
            hint="build a newer version; to really go back, give the package an epoch (e.g. 1:...) in the service",
        )
    if upstream != base:
        return f"{upstream}-{revision(number, 1)}"
    count = last.rsplit("u", 1)[-1] if last.startswith("deb") else last  # a plain revision of an earlier venvdeb
    return f"{upstream}-{revision(number, int(count) + 1)}"
