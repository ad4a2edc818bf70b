"""The strict model of releases and services, read from ``packaging/``.

Layout of a packaging root::

    releases/<name>.toml   one release: constraints, services, wheelhouse package, suites
    services/<name>.toml   one service: where it comes from, its scripts, its smoke checks
    locks/                 pip-tools locks and their requirements.in

Everything is validated when loaded; nothing runs on a model that did not validate.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .errors import ModelError
from .schema import Key, all_of, matches, non_empty, unique, validate

DEBIAN_PACKAGE = r"[a-z0-9][a-z0-9.+-]+"
SERVICE_NAME = r"[a-z0-9][a-z0-9-]*"
DISTRIBUTION = r"[a-z][a-z0-9-]*"
SUITE = r"[A-Za-z0-9][A-Za-z0-9._-]*"
PYPI_NAME = r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"


def _requirement_list(value) -> str | None:
    for item in value:
        try:
            Requirement(item)
        except InvalidRequirement as exc:
            return f"{item!r} is not a valid requirement: {exc}"
    return None


def _version(value) -> str | None:
    try:
        Version(value)
    except InvalidVersion:
        return f"{value!r} is not a valid Python version"
    return None


def _relations(value) -> str | None:
    from debian.deb822 import PkgRelation

    for item in value:
        parsed = PkgRelation.parse_relations(item)
        if not parsed or not all(alt.get("name") and re.fullmatch(DEBIAN_PACKAGE, alt["name"]) for alts in parsed for alt in alts):
            return f"{item!r} is not a Debian package relation (e.g. 'libvirt0' or 'qemu-utils (>= 1:7)')"
    return None


def _https_url(value) -> str | None:
    if not (value.startswith("https://") or value.startswith("http://127.0.0.1")):
        return f"{value!r} must be an https:// URL"
    return None


RELEASE_SCHEMA = {
    "name": Key(str, required=True, check=matches(r"[A-Za-z0-9][A-Za-z0-9._-]*", "a release name")),
    "distribution": Key(str, required=True, check=matches(DISTRIBUTION, "a Debian codename")),
    "python": Key(str, check=matches(r"/.+", "an absolute path")),
    "services": Key(
        list, required=True, items=str,
        check=all_of(non_empty, unique, matches(SERVICE_NAME, "a service name")),
    ),
    "wheelhouse_package": Key(str, required=True, check=matches(DEBIAN_PACKAGE, "a Debian package name")),
    "maintainer": Key(str, check=matches(r".+ <[^<>@\s]+@[^<>\s]+>", "'Name <email>'")),
    "build_depends": Key(list, items=str, check=all_of(unique, matches(DEBIAN_PACKAGE, "a Debian package name"))),
    "index_url": Key(str, check=_https_url),
    "lint_fail_on": Key(list, items=str, check=all_of(non_empty, unique, matches(
        r"error|warning|info|pedantic|experimental", "a lintian severity"))),
    "constraints": Key(
        dict, required=True,
        table={
            "kind": Key(str, required=True, check=matches(r"upper-constraints|lock", "'upper-constraints' or 'lock'")),
            "path": Key(str),
            "url": Key(str, check=_https_url),
            "sha256": Key(str, check=matches(r"[0-9a-f]{64}", "a hex sha256")),
            "requirements_in": Key(str),
        },
    ),
    "suites": Key(
        dict, required=True,
        table={
            "staging": Key(str, required=True, check=matches(SUITE, "a suite name")),
            "production": Key(str, required=True, check=matches(SUITE, "a suite name")),
        },
    ),
}

SERVICE_SCHEMA = {
    "name": Key(str, required=True, check=matches(SERVICE_NAME, "a service name")),
    "summary": Key(str, required=True, check=non_empty),
    "source": Key(
        dict, required=True,
        table={
            "pypi": Key(str, check=matches(PYPI_NAME, "a PyPI project name")),
            "version": Key(str, check=_version),
            "git": Key(str),
            "branch": Key(str, check=non_empty),
            "extras": Key(list, items=str, check=unique),
        },
    ),
    "requirements": Key(list, items=str, check=_requirement_list),
    "console_scripts": Key(list, required=True, items=str, check=all_of(unique, matches(r"[A-Za-z0-9][A-Za-z0-9._-]*", "a command name"))),
    "smoke_commands": Key(list, required=True, items=str, check=non_empty),
    "depends": Key(list, items=str, check=_relations),
    "user": Key(str, check=matches(r"[a-z_][a-z0-9_-]{0,31}", "a system user name")),
    "daemons": Key(list, items=dict),
    "config_sample": Key(
        dict,
        table={
            "output": Key(str, required=True, check=matches(r"[A-Za-z0-9][A-Za-z0-9._-]*", "a file name")),
            "namespaces": Key(list, required=True, items=str, check=non_empty),
        },
    ),
}

DAEMON_SCHEMA = {
    "name": Key(str, required=True, check=matches(r"[a-z0-9][a-z0-9-]*", "a systemd unit name")),
    "command": Key(str, required=True, check=non_empty),
    "description": Key(str, required=True, check=non_empty),
    "enable": Key(bool),
}


@dataclass(frozen=True)
class ConstraintsSource:
    kind: str  # "upper-constraints" or "lock"
    path: Path | None = None
    url: str | None = None
    sha256: str | None = None
    requirements_in: Path | None = None

    def describe(self) -> str:
        return str(self.path) if self.path else str(self.url)


@dataclass(frozen=True)
class Source:
    pypi: str | None = None
    version: str | None = None
    git: str | None = None
    branch: str | None = None
    extras: tuple[str, ...] = ()


@dataclass(frozen=True)
class Daemon:
    name: str
    command: str  # a console script of the service, with its arguments
    description: str
    enable: bool = False  # enabled and started on install only when the service says so


@dataclass(frozen=True)
class ConfigSample:
    output: str
    namespaces: tuple[str, ...]


@dataclass(frozen=True)
class Service:
    name: str
    summary: str
    source: Source
    requirements: tuple[str, ...]
    console_scripts: tuple[str, ...]
    smoke_commands: tuple[str, ...]
    path: Path
    depends: tuple[str, ...] = ()
    user: str = ""
    daemons: tuple[Daemon, ...] = ()
    config_sample: ConfigSample | None = None

    @property
    def package(self) -> str:
        return f"venv-{self.name}"

    def root_requirements(self) -> list[Requirement]:
        """What the service's venv asks for, before dependencies: itself and its extras."""
        reqs = []
        if self.source.pypi:
            extras = f"[{','.join(self.source.extras)}]" if self.source.extras else ""
            reqs.append(Requirement(f"{self.source.pypi}{extras}=={self.source.version}"))
        reqs.extend(Requirement(r) for r in self.requirements)
        return reqs


@dataclass(frozen=True)
class Release:
    name: str
    distribution: str
    python: str
    services: tuple[Service, ...]
    wheelhouse_package: str
    maintainer: str
    build_depends: tuple[str, ...]
    index_url: str
    constraints: ConstraintsSource
    staging_suite: str
    production_suite: str
    path: Path
    root: Path
    lint_fail_on: tuple[str, ...] = ("error", "warning")

    def service(self, name: str) -> Service:
        for s in self.services:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.services)
        raise ModelError(self.path, [f"key 'services': no service {name!r} in this release (it has: {known})"])


def _load_toml(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ModelError(path, ["file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(path, [f"malformed TOML: {exc}"]) from None


def load_service(root: Path, name: str) -> Service:
    path = root / "services" / f"{name}.toml"
    if not path.is_file():
        raise ModelError(path, [f"service file not found (expected {path})"])
    data = _load_toml(path)
    problems = validate(data, SERVICE_SCHEMA)
    for i, daemon in enumerate(data.get("daemons", []) if not problems else []):
        problems.extend(validate(daemon, DAEMON_SCHEMA, prefix=f"daemons[{i}]."))
    if not problems:
        problems.extend(_service_consistency(data, name))
    if problems:
        raise ModelError(path, problems)
    src = data["source"]
    sample = data.get("config_sample")
    return Service(
        name=data["name"],
        summary=data["summary"],
        source=Source(
            pypi=src.get("pypi"), version=src.get("version"), git=src.get("git"),
            branch=src.get("branch"), extras=tuple(src.get("extras", ())),
        ),
        requirements=tuple(data.get("requirements", ())),
        console_scripts=tuple(data["console_scripts"]),
        smoke_commands=tuple(data["smoke_commands"]),
        path=path,
        depends=tuple(data.get("depends", ())),
        user=data.get("user", data["name"]),
        daemons=tuple(Daemon(d["name"], d["command"], d["description"], d.get("enable", False))
                      for d in data.get("daemons", ())),
        config_sample=ConfigSample(sample["output"], tuple(sample["namespaces"])) if sample else None,
    )


def _service_consistency(data: dict, name: str) -> list[str]:
    problems = []
    names = [d["name"] for d in data.get("daemons", [])]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"key 'daemons': {dup!r} is declared twice")
    for i, daemon in enumerate(data.get("daemons", [])):
        program = daemon["command"].split()[0]
        if program not in data["console_scripts"]:
            problems.append(f"key 'daemons[{i}].command': {program!r} is not one of the service's console_scripts")
    if data["name"] != name:
        problems.append(f"key 'name': is {data['name']!r} but the file is named for {name!r}")
    src = data["source"]
    if "pypi" in src and "git" in src:
        problems.append("key 'source': give either 'pypi' (with 'version') or 'git' (with 'branch'), not both")
    elif "pypi" in src:
        if "version" not in src:
            problems.append("key 'source.version': required with 'source.pypi' (pin the service's version)")
        if "branch" in src:
            problems.append("key 'source.branch': only for a git source")
    elif "git" in src:
        if "branch" not in src:
            problems.append("key 'source.branch': required with 'source.git'")
        if "version" in src:
            problems.append("key 'source.version': a git source takes its version from git, remove it")
    else:
        problems.append("key 'source': needs 'pypi' and 'version', or 'git' and 'branch'")
    return problems


def load_release(root: Path, name: str) -> Release:
    """Load and validate a release and every service it names."""
    root = Path(root)
    path = root / "releases" / f"{name}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in (root / "releases").glob("*.toml"))
        raise ModelError(path, [f"release file not found (known releases: {', '.join(known) or 'none'})"])
    data = _load_toml(path)
    problems = validate(data, RELEASE_SCHEMA)
    if not problems:
        problems.extend(_release_consistency(root, data, name))
    if problems:
        raise ModelError(path, problems)
    services = tuple(load_service(root, s) for s in data["services"])
    c = data["constraints"]
    return Release(
        name=data["name"],
        distribution=data["distribution"],
        python=data.get("python", "/usr/bin/python3"),
        services=services,
        wheelhouse_package=data["wheelhouse_package"],
        maintainer=data.get("maintainer", "venvdeb release engineering <release@venvdeb.invalid>"),
        build_depends=tuple(data.get("build_depends", ())),
        index_url=data.get("index_url", "https://pypi.org/simple").rstrip("/"),
        constraints=ConstraintsSource(
            kind=c["kind"],
            path=(root / c["path"]) if "path" in c else None,
            url=c.get("url"),
            sha256=c.get("sha256"),
            requirements_in=(root / c["requirements_in"]) if "requirements_in" in c else None,
        ),
        staging_suite=data["suites"]["staging"],
        production_suite=data["suites"]["production"],
        path=path,
        root=root,
        lint_fail_on=tuple(data.get("lint_fail_on", ("error", "warning"))),
    )


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
    if data["suites"]["staging"] == data["suites"]["production"]:
        problems.append("key 'suites': staging and production must be different suites")
    return problems


def list_releases(root: Path) -> list[str]:
    return sorted(p.stem for p in (Path(root) / "releases").glob("*.toml"))


def canonical(name: str) -> str:
    return canonicalize_name(name)
