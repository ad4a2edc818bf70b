"""A release: its constraints, its services, its wheelhouse package and suites.

Layout of a packaging root::

    releases/<name>.toml   one release: constraints, its services' versions, wheelhouse package, suites
    services/<name>.toml   one service: what does not change between releases (where it comes
                           from, its scripts, daemons, config sample, smoke checks)
    locks/                 pip-tools locks and their requirements.in

Everything is validated when loaded; nothing runs on a model that did not validate.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from ..errors import ModelError
from . import overrides as constraint_overrides
from .overrides import Override
from .schema import (DEBIAN_PACKAGE, PYPI_NAME, SERVICE_NAME, SUITE, Key, all_of, get, load_toml, matches,
                     non_empty, unique, validate)
from .service import Service, _version, load_service
from .versions import DEBIAN_RELEASES


def _https_url(value) -> str | None:
    """An https:// URL, parsed (not a prefix: http://127.0.0.1.example.org/ is another host), or
    http:// on this machine's loopback address (a test's local index)."""
    try:
        url = urllib.parse.urlsplit(value)
        host, _ = url.hostname, url.port
    except ValueError:
        return f"{value!r} is not a URL"
    if url.scheme == "https" and host:
        return None
    if url.scheme == "http" and host == "127.0.0.1":
        return None
    return f"{value!r} must be an https:// URL"


def _requirements(value) -> str | None:
    """PEP 508 requirements, as pip-compile reads them."""
    bad = []
    for item in value:
        try:
            Requirement(item)
        except InvalidRequirement:
            bad.append(repr(item))
    return f"{', '.join(bad)}: not a requirement (PEP 508, e.g. 'cython>=3')" if bad else None


def _known_distributions(value) -> str | None:
    unknown = [d for d in value if d not in DEBIAN_RELEASES]
    if unknown:
        known = ", ".join(f"{name} ({number})" for name, number in DEBIAN_RELEASES.items())
        return f"{', '.join(map(repr, unknown))}: not a Debian release venvdeb builds for (it knows {known})"
    return None


def _suite_template(value) -> str | None:
    """A suite name, in which {distribution} stands for each distribution's codename."""
    return matches(SUITE, "a suite name (with {distribution} where the codename goes)")(
        value.replace("{distribution}", "bookworm"))


def _service_names(value) -> str | None:
    names = list(value)
    if isinstance(value, list) and not all(isinstance(n, str) for n in names):
        return "expected a list of service names"
    return all_of(non_empty, unique, matches(SERVICE_NAME, "a service name"))(names)


# What a release may say of one of its services: its version, and its source where it differs.
RELEASE_SERVICE_SCHEMA = {
    "version": Key(str, check=_version, doc="The service's version in this release: a pin ('33.0.2'), or a stable "
                   "series ('33.0.*') whose newest final point release on the index is built."),
    "pypi": Key(str, check=matches(PYPI_NAME, "a PyPI project name"),
                doc="The PyPI project, where it differs from the service file's."),
    "git": Key(str, doc="A git repository to build the service from instead (a URL, or a path from the packaging "
                        "root); replaces the service file's PyPI source."),
    "branch": Key(str, check=non_empty, doc="The git branch this release builds (with git)."),
}

CONSTRAINTS_SCHEMA = {
    "kind": Key(str, required=True, check=matches(r"upper-constraints|lock", "'upper-constraints' or 'lock'"),
                doc="'upper-constraints': an upstream file of exact pins; 'lock': a pip-tools lock with hashes, "
                    "compiled here by 'venvdeb lock'."),
    "path": Key(str, doc="The file, relative to the packaging root (give path or url)."),
    "url": Key(str, check=_https_url, doc="An https URL of an upper-constraints file (give path or url)."),
    "sha256": Key(str, check=matches(r"[0-9a-f]{64}", "a hex sha256"),
                  doc="The URL's expected sha256: the file is then taken from the cache with no network."),
    "requirements_in": Key(str, doc="A lock's pip-tools input, written by 'venvdeb lock' from the services "
                                    "(required with kind = 'lock')."),
    "overrides": Key(dict, default={}, doc="Single pins the release moves, one table per package: "
                                           "[constraints.overrides.<package>] (below)."),
    "build_lock": Key(str, check=matches(r".+\.txt", "a path ending in .txt"),
                      doc="The build lock, relative to the packaging root: what builds the release's sdists "
                          "and git checkouts (pip, setuptools, wheel, build and every sdist's build "
                          "requirements), pinned with hashes by 'venvdeb lock'; its pip-tools input is "
                          "beside it, with .in. Without one, nothing is built from source."),
    "build_requires": Key(list, items=str, check=all_of(unique, _requirements), default=(),
                          doc="Build requirements the build lock holds besides those the sdists declare: "
                              "what an sdist asks for only as it builds."),
}

RELEASE_SCHEMA = {
    "name": Key(str, required=True, check=matches(r"[A-Za-z0-9][A-Za-z0-9._-]*", "a release name"),
                doc="The release's name, as the file is named (releases/<name>.toml)."),
    "distributions": Key(list, items=str,
                         check=lambda v: all_of(non_empty, unique)(v) or _known_distributions(v),
                         doc="The Debian releases it is built for, by codename (bookworm, trixie); each is a "
                             "point of the matrix with its own wheelhouse, packages and suites."),
    "distribution": Key(str, check=lambda v: _known_distributions([v]),
                        doc="A single distribution, instead of 'distributions'."),
    "python": Key(str, check=matches(r"/.+", "an absolute path"), default="/usr/bin/python3",
                  doc="The target interpreter, in each distribution."),
    "services": Key((list, dict), required=True, check=_service_names,
                    doc="A table per service ([services.<name>], below) naming its version in this release; "
                        "or a list of names, each service file pinning its own."),
    "wheelhouse_package": Key(str, required=True, check=matches(DEBIAN_PACKAGE, "a Debian package name"),
                              doc="The Debian name of the release's wheelhouse package."),
    "maintainer": Key(str, check=matches(r".+ <[^<>@\s]+@[^<>\s]+>", "'Name <email>'"),
                      default="venvdeb release engineering <release@venvdeb.invalid>",
                      doc="The Maintainer of every package of the release."),
    "build_depends": Key(list, items=str, check=all_of(unique, matches(DEBIAN_PACKAGE, "a Debian package name")),
                         default=(), doc="Debian packages the closure's sdists need to build."),
    "index_url": Key(str, check=_https_url, default="https://pypi.org/simple",
                     doc="The package index (PEP 691 simple API)."),
    "lint_fail_on": Key(list, items=str, check=all_of(non_empty, unique, matches(
        r"error|warning|info|pedantic|experimental", "a lintian severity")), default=("error", "warning"),
                        doc="The lintian severities that fail the lint gate."),
    "constraints": Key(dict, required=True, table=CONSTRAINTS_SCHEMA,
                       doc="Where the release's pins come from ([constraints], below)."),
    "suites": Key(
        dict, required=True,
        table={
            "staging": Key(str, required=True, check=_suite_template,
                           doc="The suite every gated build is published to, with {distribution}."),
            "production": Key(str, required=True, check=_suite_template,
                              doc="The suite operators install from, with {distribution}: promotion copies "
                                  "into it."),
        },
        doc="The repository's suites of each point ([suites], below)."),
}

@dataclass(frozen=True)
class ConstraintsSource:
    kind: str  # "upper-constraints" or "lock"
    path: Path | None = None
    url: str | None = None
    sha256: str | None = None
    requirements_in: Path | None = None
    overrides: tuple[Override, ...] = ()
    build_lock: Path | None = None
    build_requires: tuple[str, ...] = ()

    @property
    def build_requirements_in(self) -> Path | None:
        """The build lock's pip-tools input, beside it."""
        return self.build_lock.with_suffix(".in") if self.build_lock else None

    def describe(self) -> str:
        return str(self.path) if self.path else str(self.url)


@dataclass(frozen=True)
class Release:
    """A release as its file declares it: its services, constraints and the distributions it is
    built for. Nothing is built for a release as such: ``points`` gives it at each distribution."""

    name: str
    python: str
    services: tuple[Service, ...]
    wheelhouse_package: str
    maintainer: str
    build_depends: tuple[str, ...]
    index_url: str
    constraints: ConstraintsSource
    path: Path
    root: Path
    distributions: tuple[str, ...]  # in the order given
    suite_templates: tuple[str, str]  # staging, production, with {distribution}
    lint_fail_on: tuple[str, ...] = ("error", "warning")
    distribution_key: str = "distributions"  # the key the release file names them with, for errors

    def at(self, distribution: str) -> "Point":
        """This release at ``distribution``."""
        if distribution not in self.distributions:
            raise ModelError(self.path, [f"key 'distributions': {distribution!r} is not one of this release's "
                                         f"({', '.join(self.distributions)})"])
        return Point(self, distribution)

    def points(self, distribution: str | None = None) -> list["Point"]:
        """The release at each of its distributions, or at the one asked for."""
        return [self.at(d) for d in ([distribution] if distribution else self.distributions)]

    def built_for(self, version: str) -> str | None:
        """The distribution a package version was built for (``-deb12u3``, ``3+deb12``); a
        version without any mark (built before versions carried one) belongs to a release of
        one distribution. A mark of a distribution the release lacks belongs to none."""
        for distribution in self.distributions:
            if re.search(rf"[-+]deb{DEBIAN_RELEASES[distribution]}(u\d+)?$", version):
                return distribution
        if len(self.distributions) == 1 and not re.search(r"[-+]deb\d+(u\d+)?$", version):
            return self.distributions[0]
        return None

    def point_of(self, version: str) -> "Point":
        """The release at the distribution ``version`` was built for."""
        if self.built_for(version):
            return self.at(self.built_for(version))
        raise ModelError(self.path, [f"key 'distributions': version {version} was built for none of "
                                     f"{', '.join(self.distributions)}"])

    def service(self, name: str) -> Service:
        for s in self.services:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.services)
        raise ModelError(self.path, [f"key 'services': no service {name!r} in this release (it has: {known})"])


def _of_release(name: str, doc: str) -> property:
    return property(lambda point: getattr(point.release, name), doc=doc)


@dataclass(frozen=True)
class Point:
    """A release at one of its distributions: a point of the matrix. Everything built, gated and
    published is built for one point; the stages take a point, never a release."""

    release: Release
    distribution: str

    @property
    def staging_suite(self) -> str:
        return self.release.suite_templates[0].replace("{distribution}", self.distribution)

    @property
    def production_suite(self) -> str:
        return self.release.suite_templates[1].replace("{distribution}", self.distribution)

    @property
    def debian(self) -> int:
        """The number of the point's Debian release (12 for bookworm): it marks every version."""
        return DEBIAN_RELEASES[self.distribution]

    # What the stages read of the release, as they read it of the point.
    name = _of_release("name", "The release's name.")
    python = _of_release("python", "The target interpreter, in the distribution.")
    services = _of_release("services", "The release's services.")
    wheelhouse_package = _of_release("wheelhouse_package", "The wheelhouse package's name.")
    maintainer = _of_release("maintainer", "The packages' Maintainer.")
    build_depends = _of_release("build_depends", "What building the release's sdists needs.")
    index_url = _of_release("index_url", "The package index.")
    constraints = _of_release("constraints", "The release's constraints.")
    path = _of_release("path", "The release file.")
    root = _of_release("root", "The packaging root.")
    lint_fail_on = _of_release("lint_fail_on", "The lintian severities that fail the gate.")
    distribution_key = _of_release("distribution_key", "The release file's key for its distributions.")

    def service(self, name: str) -> Service:
        return self.release.service(name)

    def built_for(self, version: str) -> str | None:
        return self.release.built_for(version)


def load_release(root: Path, name: str) -> Release:
    """Load and validate a release and every service it names."""
    root = Path(root)
    path = root / "releases" / f"{name}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in (root / "releases").glob("*.toml"))
        raise ModelError(path, [f"release file not found (known releases: {', '.join(known) or 'none'})"])
    data = load_toml(path)
    problems = validate(data, RELEASE_SCHEMA)
    if not problems:
        problems.extend(_release_consistency(root, data, name))
    given = data.get("services")
    if not problems and isinstance(given, dict):
        for service, entry in given.items():
            if not isinstance(entry, dict):
                problems.append(f"key 'services.{service}': expected a table (version = \"...\"), "
                                f"got {type(entry).__name__}")
            else:
                problems.extend(validate(entry, RELEASE_SERVICE_SCHEMA, prefix=f"services.{service}."))
    if problems:
        raise ModelError(path, problems)
    if isinstance(given, dict):
        services = tuple(load_service(root, s, (path, entry)) for s, entry in given.items())
    else:
        services = tuple(load_service(root, s) for s in given)
    clashes = port_clashes(services) + beside_problems(services)
    if clashes:
        raise ModelError(path, clashes)
    c = data["constraints"]
    distributions = tuple(data.get("distributions") or [data["distribution"]])
    templates = (data["suites"]["staging"], data["suites"]["production"])
    return Release(
        name=data["name"],
        python=get(data, RELEASE_SCHEMA, "python"),
        services=services,
        wheelhouse_package=data["wheelhouse_package"],
        maintainer=get(data, RELEASE_SCHEMA, "maintainer"),
        build_depends=tuple(get(data, RELEASE_SCHEMA, "build_depends")),
        index_url=get(data, RELEASE_SCHEMA, "index_url").rstrip("/"),
        constraints=ConstraintsSource(
            kind=c["kind"],
            path=(root / c["path"]) if "path" in c else None,
            url=c.get("url"),
            sha256=c.get("sha256"),
            requirements_in=(root / c["requirements_in"]) if "requirements_in" in c else None,
            overrides=constraint_overrides.from_table(get(c, CONSTRAINTS_SCHEMA, "overrides")),
            build_lock=(root / c["build_lock"]) if "build_lock" in c else None,
            build_requires=tuple(get(c, CONSTRAINTS_SCHEMA, "build_requires")),
        ),
        path=path,
        root=root,
        lint_fail_on=tuple(get(data, RELEASE_SCHEMA, "lint_fail_on")),
        distributions=distributions,
        suite_templates=templates,
        distribution_key="distributions" if "distributions" in data else "distribution",
    )


def port_clashes(services) -> list[str]:
    """A release's services run side by side on one host: no two WSGI applications on one port."""
    taken: dict[int, list[str]] = {}
    for service in services:
        for app in service.wsgi:
            taken.setdefault(app.port, []).append(f"{app.name} ({service.path.name})")
    return [f"key 'services': port {port} is taken by {' and by '.join(apps)}: give each WSGI application its own "
            "port in its service file" for port, apps in sorted(taken.items()) if len(apps) > 1]


def beside_problems(services) -> list[str]:
    """A service's smoke brings up, beside it, other services of its release that serve an API."""
    by_name = {s.name: s for s in services}
    problems = []
    for service in services:
        for other in service.smoke.beside:
            where = f"key 'services': {service.path.name}, key 'smoke.beside'"
            if other == service.name:
                problems.append(f"{where}: {other!r} is the service itself")
            elif other not in by_name:
                problems.append(f"{where}: {other!r} is not a service of this release (it has: "
                                f"{', '.join(sorted(by_name))})")
            elif not by_name[other].wsgi:
                problems.append(f"{where}: {other!r} serves no WSGI application to bring up beside it")
            elif by_name[other].smoke.beside:
                problems.append(f"{where}: {other!r} brings up services beside it itself; name those here instead")
    return problems


def _release_consistency(root: Path, data: dict, name: str) -> list[str]:
    problems = []
    if data["name"] != name:
        problems.append(f"key 'name': is {data['name']!r} but the file is named for {name!r}")
    c = data["constraints"]
    if ("path" in c) == ("url" in c):
        problems.append("key 'constraints': give exactly one of 'path' or 'url'")
    # A lock that does not exist yet is what 'venvdeb lock' is for; it is checked before use.
    if "path" in c and c["kind"] != "lock" and not (root / c["path"]).is_file():
        problems.append(f"key 'constraints.path': file not found: {root / c['path']}")
    if c["kind"] == "lock":
        if "url" in c:
            problems.append("key 'constraints.url': a lock is compiled here and lives beside the release; use 'path'")
        if "requirements_in" not in c:
            problems.append("key 'constraints.requirements_in': required for a lock (the pip-tools input it was compiled from)")
    elif "requirements_in" in c:
        problems.append("key 'constraints.requirements_in': only for kind = 'lock'")
    problems.extend(constraint_overrides.problems(get(c, CONSTRAINTS_SCHEMA, "overrides")))
    if ("distribution" in data) == ("distributions" in data):
        problems.append("key 'distributions': give the release's distributions (or one 'distribution'), not both")
    elif len(data.get("distributions", ())) > 1:
        for suite in ("staging", "production"):
            if "{distribution}" not in data["suites"][suite]:
                problems.append(f"key 'suites.{suite}': a release for several distributions needs "
                                "{distribution} in its suite names (e.g. '{distribution}-2026.1-staging')")
    if data["suites"]["staging"] == data["suites"]["production"]:
        problems.append("key 'suites': staging and production must be different suites")
    return problems


def list_releases(root: Path) -> list[str]:
    return sorted(p.stem for p in (Path(root) / "releases").glob("*.toml"))


