"""Python versions as Debian versions, and the service packages' revisions.

The release segment is kept as written (operators read 33.0.2, not 33.0.2.0); what follows it is
spelled so that dpkg sorts it as PEP 440 does:

    PEP 440          Debian            why
    33.0.3.dev4      33.0.3~~dev4      before every pre-release of 33.0.3: '~~' sorts below '~a'
    33.0.3a1.dev2    33.0.3~a1~dev2    before 33.0.3a1
    33.0.3a1         33.0.3~a1         a < b < rc, all before the release: '~' sorts below nothing
    33.0.3rc1.post1  33.0.3~rc1+post1  after 33.0.3rc1, before 33.0.3rc2
    33.0.3           33.0.3
    33.0.3+local     33.0.3+~local     after the release, before its post-releases
    33.0.3.post1     33.0.3+post1      after the release, before 33.0.3.1 ('+' sorts below '.';
                                       '.post1' sorted *above* 33.0.3.1)
    1!2.0            1:2.0             epochs are epochs

One thing the two orders cannot share without rewriting the release segment: PEP 440 pads
releases with zeros (1.0 == 1.0.0) and dpkg does not, so 1.0.0rc1 sorts after 1.0 in dpkg.
Within one project's versions (same number of components) the orders agree; should a project
change its number of components that way, ``next_version`` refuses the build whose Debian version
would go backwards, and says to use an epoch.
"""

from __future__ import annotations

import re

from debian.debian_support import Version as DebianVersion
from packaging.version import InvalidVersion, Version

from ..errors import VenvdebError


# The Debian releases a package can be built for, and their numbers: the number marks every
# version built for that release, so that a dist-upgrade replaces the older release's build.
DEBIAN_RELEASES = {"bullseye": 11, "bookworm": 12, "trixie": 13, "forky": 14, "duke": 15}
# The Python version of each released distribution's /usr/bin/python3 (a release still in testing
# has none fixed): what a release's versions are checked against before a chroot is made.
DEBIAN_PYTHON = {"bullseye": "3.9", "bookworm": "3.11", "trixie": "3.13"}


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
    """The Debian upstream version of a PEP 440 version (see the table above)."""
    v = Version(version)
    text = ".".join(str(n) for n in v.release)
    if v.pre:
        text += f"~{v.pre[0]}{v.pre[1]}"
    if v.post is not None:
        text += f"+post{v.post}"
    if v.dev is not None:
        text += f"~dev{v.dev}" if v.pre or v.post is not None else f"~~dev{v.dev}"
    if v.local:
        text += f"+~{v.local}"  # packaging normalises the local label to [a-z0-9.]
    return f"{v.epoch}:{text}" if v.epoch else text


def python_of(upstream: str) -> Version | None:
    """The PEP 440 version a Debian upstream version was made from, by this mapping or the one
    before it (~devN, .postN); None if it was made from neither."""
    text = re.sub(r"^(\d+):", r"\1!", upstream)
    for debian, python in (("~~dev", ".dev"), ("~dev", ".dev"), ("+post", ".post"), ("+~", "+"), ("~", "")):
        text = text.replace(debian, python)
    try:
        return Version(text)
    except InvalidVersion:
        return None


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
        older, newer = python_of(base), python_of(upstream)
        if older is not None and newer is not None and newer >= older:
            raise VenvdebError(
                f"{where}: version {upstream} is not older than the last build {previous} in Python's "
                f"order, but dpkg sorts it lower: {base} is spelled the way an earlier venvdeb did "
                "(.devN as ~devN, .postN as .postN), or with another number of components",
                hint="apt would never upgrade to it: give the package an epoch (e.g. 1:...) in the service, "
                     "once, or start a new ledger for it")
        raise VenvdebError(
            f"{where}: version {upstream} would go backwards: the last build was {previous}",
            hint="build a newer version; to really go back, give the package an epoch (e.g. 1:...) in the service",
        )
    if upstream != base:
        return f"{upstream}-{revision(number, 1)}"
    count = last.rsplit("u", 1)[-1] if last.startswith("deb") else last  # a plain revision of an earlier venvdeb
    return f"{upstream}-{revision(number, int(count) + 1)}"
