"""Hints for sdist build failures: which Debian packages a build was most likely missing.

Two sources: what a build log says it could not find (a header, a config tool), and what
well-known distributions are known to need. Both name Debian packages of the target release.
"""

from __future__ import annotations

import re

# A missing header or tool in a build log -> the Debian package that provides it.
# None: not a missing package, see for_build_failure.
LOG_PATTERNS: list[tuple[str, str | None]] = [
    (r"No module named 'pkg_resources'", None),
    (r"Python\.h: No such file", "python3-dev"),
    (r"libvirt/libvirt\.h|libvirt.*not found|Package libvirt was not found", "libvirt-dev pkg-config"),
    (r"lber\.h|ldap\.h: No such file", "libldap2-dev"),
    (r"sasl/sasl\.h", "libsasl2-dev"),
    (r"pg_config executable not found|libpq-fe\.h", "libpq-dev"),
    (r"krb5-config|gssapi/gssapi\.h|krb5\.h", "libkrb5-dev"),
    (r"systemd/sd-[a-z-]+\.h|libsystemd", "libsystemd-dev pkg-config"),
    (r"pcre\.h", "libpcre3-dev"),
    (r"mysql_config|mariadb_config|mysql\.h", "default-libmysqlclient-dev pkg-config"),
    (r"libxml/|xslt-config|xml2-config", "libxml2-dev libxslt1-dev"),
    (r"ffi\.h", "libffi-dev"),
    (r"openssl/[a-z]+\.h", "libssl-dev"),
    (r"yaml\.h", "libyaml-dev"),
    (r"pkg-config: not found|pkg-config.*(No such file|command not found)|Cannot find pkg-config", "pkg-config"),
    (r"gcc: not found|error: command 'x86_64-linux-gnu-gcc' failed: No such file|unable to execute 'gcc'", "build-essential"),
    (r"cargo.*not found|can't find Rust compiler", "cargo rustc"),
]

# Distributions known to build only against system libraries.
KNOWN: dict[str, str] = {
    "libvirt-python": "libvirt-dev pkg-config",
    "python-ldap": "libldap2-dev libsasl2-dev",
    "psycopg2": "libpq-dev",
    "gssapi": "libkrb5-dev",
    "krb5": "libkrb5-dev",
    "systemd-python": "libsystemd-dev pkg-config",
    "python-pcre": "libpcre3-dev",
    "mysqlclient": "default-libmysqlclient-dev pkg-config",
    "pykerberos": "libkrb5-dev",
    "netifaces": "python3-dev",
    "pyinotify": "python3-dev",
}


def for_build_failure(name: str, log: str) -> str:
    """What the log says was missing, together with what the distribution is known to need."""
    needed: list[str] = []
    for pattern, packages in LOG_PATTERNS:
        if re.search(pattern, log):
            if packages is None:
                return "its setup.py imports pkg_resources, which it lacks even with setuptools<81: pin a newer release"
            needed += [p for p in packages.split() if p not in needed]
    needed += [p for p in KNOWN.get(name, "").split() if p not in needed]
    if needed:
        return f"needs {' '.join(needed)}: add them to the release's build_depends"
    return "read the build log; add the Debian -dev packages it needs to the release's build_depends"


def failure_excerpt(log: str, lines: int = 6) -> str:
    """The lines of a build log that say why it failed, else its tail."""
    wanted = [l.strip() for l in log.splitlines()
              if re.search(r"error:|Error:|fatal error|No such file|not found", l)]
    picked = wanted[-lines:] if wanted else [l.strip() for l in log.splitlines()[-lines:]]
    return " | ".join(l for l in picked if l)[:800]
