"""A service: what does not change between releases (scripts, daemons, config sample, smoke).

Read from ``services/<name>.toml`` of a packaging root, and validated whole: every problem names
the file and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from ..errors import ModelError
from .apis import FunctionalSmoke, WsgiApp, file_names, functional_smoke, smoke_problems, wsgi_apps, wsgi_problems
from .cloud import CloudSpec, cloud_problems, cloud_spec
from .sandbox import Relaxation, relax_problems, relaxations
from .schema import (DEBIAN_PACKAGE, PYPI_NAME, SERVICE_NAME, Key, all_of, get, load_toml, matches, non_empty, unique,
                     validate)


# An oslo.privsep context's pypath: a module and the context's name in it.
PRIVSEP_CONTEXT = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+"


def _requirement_list(value) -> str | None:
    for item in value:
        try:
            Requirement(item)
        except InvalidRequirement as exc:
            return f"{item!r} is not a valid requirement: {exc}"
    return None


# A stable series a service follows instead of a pin: its release's leading numbers, then ".*"
# (nova 33.0.* in 2026.1: every point release of 33.0).
SERIES = re.compile(r"\d+(\.\d+)*\.\*")


def _version(value) -> str | None:
    if SERIES.fullmatch(value):
        return None
    try:
        Version(value)
    except InvalidVersion:
        return (f"{value!r} is neither a Python version (a pin, e.g. '33.0.2') nor a series "
                "(the leading numbers of a release, then '.*', e.g. '33.0.*')")
    return None


def _relations(value) -> str | None:
    from debian.deb822 import PkgRelation

    for item in value:
        parsed = PkgRelation.parse_relations(item)
        if not parsed or not all(alt.get("name") and re.fullmatch(DEBIAN_PACKAGE, alt["name"]) for alts in parsed for alt in alts):
            return f"{item!r} is not a Debian package relation (e.g. 'libvirt0' or 'qemu-utils (>= 1:7)')"
    return None


# Debian's base system's accounts (base-passwd's, and those of the packages every host has): a
# service given one would own files and run as an account other software trusts.
BASE_ACCOUNTS = frozenset({"root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp",
                           "proxy", "www-data", "backup", "list", "irc", "gnats", "nobody", "_apt", "messagebus",
                           "sshd", "polkitd"})
GIT_BRANCH = r"[A-Za-z0-9][A-Za-z0-9._/+-]*"


def _own_user(value) -> str | None:
    if value in BASE_ACCOUNTS or value.startswith("systemd-"):
        return f"{value!r} is an account of Debian's base system: give the service a user of its own"
    return None


def _git_url(value) -> str | None:
    # git takes a leading '-' for an option (--upload-pack=... runs a command), wherever it stands.
    if not value or value.startswith("-"):
        return f"{value!r} is not a git repository: a URL or a path, not an option"
    return None


def _one_line(value) -> str | None:
    bad = [c for c in value if "\n" in c or not c.strip()]
    return f"{bad[0]!r}: each command is one non-empty line" if bad else None


SERVICE_SCHEMA = {
    "name": Key(str, required=True, check=matches(SERVICE_NAME, "a service name"),
                doc="The service's name, as the file is named (services/<name>.toml); its package is venv-<name>."),
    "summary": Key(str, required=True, check=non_empty, doc="The package's synopsis (lintian's rules apply)."),
    "source": Key(
        dict, required=True,
        table={
            "pypi": Key(str, check=matches(PYPI_NAME, "a PyPI project name"), doc="The PyPI project."),
            "version": Key(str, check=_version, doc="Its version, where no release names it: a pin or a series."),
            "git": Key(str, check=_git_url, doc="A git repository (a URL, or a path from the packaging root: '..' is "
                                                "the packaging's own repository), instead of PyPI."),
            "branch": Key(str, check=matches(GIT_BRANCH, "a git branch name"),
                          doc="The git branch, where no release names it."),
            "extras": Key(list, items=str, check=unique, default=(), doc="Extras of the project to install."),
        },
        doc="Where the service comes from ([source], below); a release may say otherwise."),
    "requirements": Key(list, items=str, check=_requirement_list, default=(),
                        doc="Python requirements the venv needs beyond the project's own (database drivers, "
                            "what upstream imports but does not require)."),
    "console_scripts": Key(list, required=True, items=str,
                           check=all_of(unique, matches(r"[A-Za-z0-9][A-Za-z0-9._-]*", "a command name")),
                           doc="The venv's commands linked into /usr/bin."),
    "smoke_commands": Key(list, required=True, items=str, check=non_empty,
                          doc="Commands smoke runs once the package is installed (each must exit 0)."),
    "depends": Key(list, items=str, check=_relations, default=(),
                   doc="Debian packages the service needs on a host (Depends), as relations."),
    "user": Key(str, check=all_of(matches(r"[a-z_][a-z0-9_-]{0,31}", "a system user name"), _own_user),
                doc="The system user the service runs as (default: the service's name): its own, not root "
                    "or an account of Debian's base system."),
    "system_user": Key(bool, default=True,
                       doc="false for a command an operator runs as themselves (openstack): no system user, "
                           "and no /etc, /var/lib or /var/log of the package's own."),
    "daemons": Key(list, items=dict, default=(), doc="Its daemons, a systemd unit each ([[daemons]], below)."),
    "wsgi": Key(list, items=dict, default=(),
                doc="Its WSGI applications, each served by gunicorn from the venv under a unit ([[wsgi]], below)."),
    "smoke": Key(dict, default={}, doc="What smoke brings up and checks ([smoke], below)."),
    "cloud": Key(dict, default={}, doc="How the cloud gate configures and starts it beside the others ([cloud], "
                                       "below; model/cloud.py)."),
    "lintian_overrides": Key(list, items=dict, default=(),
                             doc="What upstream ships that lintian flags, each with its reason "
                                 "([[lintian_overrides]], below)."),
    "helpers": Key(
        dict,
        table={
            "rootwrap": Key(str, required=True, check=matches(r"[A-Za-z0-9][A-Za-z0-9._-]*", "a console script's name"),
                            doc="The service's rootwrap console script, which its user runs through sudo with "
                                "/etc/<service>/rootwrap.conf: the one command sudo lets it run as root."),
            "privsep_contexts": Key(list, items=str, default=(),
                                    check=all_of(unique, matches(PRIVSEP_CONTEXT, "an oslo.privsep context "
                                                                                  "(module.name, as its pypath)")),
                                    doc="The oslo.privsep contexts its daemons start (their pypath): sudo lets "
                                        "privsep-helper run as root through rootwrap for these alone, with fixed "
                                        "arguments (/etc/sudoers.d/<service>)."),
            "filters_from": Key(list, items=str, default=(),
                                check=all_of(unique, matches(PYPI_NAME, "a Python distribution's name")),
                                doc="Libraries of the venv whose rootwrap filters it needs beside its own "
                                    "(os-brick): no other distribution's are installed."),
        },
        doc="Privileged helpers the service user runs through sudo (/etc/sudoers.d/<service>): rootwrap, and "
            "through it oslo.privsep's privsep-helper."),
    "etc": Key(dict, check=file_names, default={},
               doc="Files of the operator's, installed in /etc/<service>/ as conffiles: {\"path\" = \"text\"}."),
    "build": Key(dict, table={"commands": Key(list, required=True, items=str, check=all_of(non_empty, _one_line),
                                              doc="Shell lines run in the venv's directory, with VENV, SITE and ETC "
                                                  "set and the venv's bin/ first on PATH.")},
                 doc="What debian/rules runs in the built venv before it is checked and packaged (horizon "
                     "collects and compresses its static files)."),
    "config_sample": Key(
        dict,
        table={
            "output": Key(str, required=True, check=matches(r"[A-Za-z0-9][A-Za-z0-9._-]*", "a file name"),
                          doc="The sample's file name (installed as <output>.sample)."),
            "namespaces": Key(list, required=True, items=str,
                              check=all_of(non_empty, matches(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", "an oslo.config namespace")),
                              doc="oslo-config-generator's namespaces."),
        },
        doc="The configuration sample generated at build time, in /usr/share/doc/venv-<service>/examples/."),
}

# What upstream ships and the operator cannot change, that lintian flags: each override says why.
OVERRIDE_SCHEMA = {
    "tag": Key(str, required=True, check=matches(r"[a-z0-9][a-z0-9-]+", "a lintian tag"), doc="The lintian tag."),
    "context": Key(str, check=non_empty, doc="lintian's context pattern (e.g. '[usr/lib/venvs/x/*]')."),
    "reason": Key(str, required=True, check=non_empty, lines=True, doc="Why: written above the override."),
}

# The WSGI server, from the release's wheelhouse, pinned by its constraints like everything else.
WSGI_SERVER = "gunicorn"

DAEMON_SCHEMA = {
    "name": Key(str, required=True, check=matches(r"[a-z0-9][a-z0-9-]*", "a systemd unit name"),
                doc="The unit's name (<name>.service)."),
    "command": Key(str, required=True, check=non_empty,
                   doc="A console script of the service, with its arguments: the unit's ExecStart."),
    "description": Key(str, required=True, check=non_empty, doc="The unit's Description."),
    "enable": Key(bool, default=False, doc="Enabled and started on install."),
    "relax": Key(list, items=dict, default=(),
                 doc="Settings of its unit's sandbox relaxed, each with its reason ([[daemons.relax]], below)."),
}


@dataclass(frozen=True)
class Source:
    pypi: str | None = None
    version: str | None = None  # a pin, or a series ("33.0.*") whose newest point release is built
    git: str | None = None
    branch: str | None = None
    extras: tuple[str, ...] = ()
    # ``git`` as the file says it: a path from the packaging root ("..") is resolved in ``git``,
    # which differs between machines; what the package is made from is said with this.
    written: str | None = field(default=None, repr=False, compare=False)

    @property
    def series(self) -> str | None:
        """The stable series followed ("33.0.*"), or None for a pin (or a git branch)."""
        return self.version if self.version and SERIES.fullmatch(self.version) else None


@dataclass(frozen=True)
class Daemon:
    name: str
    command: str  # a console script of the service, with its arguments
    description: str
    enable: bool = False  # enabled and started on install only when the service says so
    relax: tuple[Relaxation, ...] = ()  # its unit's sandbox relaxed (sandbox.py)


@dataclass(frozen=True)
class LintianOverride:
    tag: str
    reason: str
    context: str = ""  # lintian's context pattern, e.g. '* [usr/lib/venvs/x/*]'


@dataclass(frozen=True)
class Helpers:
    """The privileged helpers the service user runs through sudo: its rootwrap (a console script of
    the service, run with /etc/<service>/rootwrap.conf), and through rootwrap oslo.privsep's
    privsep-helper, for the contexts named alone."""

    rootwrap: str
    privsep_contexts: tuple[str, ...] = ()
    filters_from: tuple[str, ...] = ()  # libraries whose rootwrap filters are installed beside the service's

    @property
    def privsep(self) -> bool:
        return bool(self.privsep_contexts)


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
    wsgi: tuple[WsgiApp, ...] = ()
    smoke: FunctionalSmoke = FunctionalSmoke()
    cloud: CloudSpec = CloudSpec()
    lintian_overrides: tuple[LintianOverride, ...] = ()
    helpers: Helpers | None = None
    etc: tuple[tuple[str, str], ...] = ()  # (path below /etc/<service>/, text), conffiles
    # Run by debian/rules in the venv's directory once dh_virtualenv has made it, with VENV, SITE
    # (its site-packages) and ETC (the [etc] files in the build tree) set and its bin/ first on
    # PATH: horizon collects and compresses its static files. The venv is then checked like any
    # other.
    build_commands: tuple[str, ...] = ()
    system_user: bool = True  # False: user is "" and the package makes no user and no directories

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
        if self.wsgi and not any(r.name.lower() == WSGI_SERVER for r in reqs):
            reqs.append(Requirement(WSGI_SERVER))
        return reqs


def load_service(root: Path, name: str, release: tuple[Path, dict] | None = None) -> Service:
    """The service as a release has it. ``release`` is (the release file, what it says of this
    service): its version, and its source where it differs from the service file's."""
    path = root / "services" / f"{name}.toml"
    if not path.is_file():
        raise ModelError(path, [f"service file not found (expected {path})"])
    data = load_toml(path)
    problems = validate(data, SERVICE_SCHEMA)
    for i, daemon in enumerate(data.get("daemons", []) if not problems else []):
        found = validate(daemon, DAEMON_SCHEMA, prefix=f"daemons[{i}].")
        problems.extend(found or relax_problems(daemon.get("relax", []), f"daemons[{i}]."))
    if not problems:
        problems.extend(wsgi_problems(data.get("wsgi", [])))
        problems.extend(smoke_problems(data.get("smoke", {}), data.get("wsgi", []), data.get("daemons", [])))
        problems.extend(cloud_problems(data.get("cloud", {}), data.get("wsgi", []), data.get("daemons", [])))
        for i, override in enumerate(data.get("lintian_overrides", [])):
            problems.extend(validate(override, OVERRIDE_SCHEMA, prefix=f"lintian_overrides[{i}]."))
    if not problems:
        # With a release that names the version (or branch), the service file need not.
        problems.extend(_service_consistency(data, name, complete=release is None))
    if problems:
        raise ModelError(path, problems)
    src = dict(data["source"])
    if release is not None:
        release_path, given = release
        src = merged_source(src, given)
        problems = _source_problems(src, f"services.{name}.", complete=True, origin=path.name)
        if problems:
            raise ModelError(release_path, problems)
    sample, helpers = data.get("config_sample"), data.get("helpers")
    return Service(
        name=data["name"],
        summary=data["summary"],
        source=Source(
            pypi=src.get("pypi"), version=src.get("version"), git=git_location(src.get("git"), root),
            written=src.get("git"),
            branch=src.get("branch"), extras=tuple(get(src, SERVICE_SCHEMA["source"].table, "extras")),
        ),
        requirements=tuple(get(data, SERVICE_SCHEMA, "requirements")),
        console_scripts=tuple(data["console_scripts"]),
        smoke_commands=tuple(data["smoke_commands"]),
        path=path,
        depends=tuple(get(data, SERVICE_SCHEMA, "depends")),
        user=data.get("user", data["name"]) if get(data, SERVICE_SCHEMA, "system_user") else "",
        system_user=get(data, SERVICE_SCHEMA, "system_user"),
        daemons=tuple(Daemon(d["name"], d["command"], d["description"], get(d, DAEMON_SCHEMA, "enable"),
                             relaxations(get(d, DAEMON_SCHEMA, "relax")))
                      for d in get(data, SERVICE_SCHEMA, "daemons")),
        config_sample=ConfigSample(sample["output"], tuple(sample["namespaces"])) if sample else None,
        wsgi=wsgi_apps(data.get("wsgi", [])),
        smoke=functional_smoke(data.get("smoke", {})),
        cloud=cloud_spec(get(data, SERVICE_SCHEMA, "cloud")),
        lintian_overrides=tuple(LintianOverride(o["tag"], o["reason"], o.get("context", ""))
                                for o in data.get("lintian_overrides", ())),
        helpers=Helpers(helpers["rootwrap"], tuple(get(helpers, SERVICE_SCHEMA["helpers"].table, "privsep_contexts")),
                        tuple(get(helpers, SERVICE_SCHEMA["helpers"].table, "filters_from")))
        if helpers else None,
        etc=tuple(sorted(data.get("etc", {}).items())),
        build_commands=tuple(data.get("build", {}).get("commands", ())),
    )


# A git URL ("https://…", "file://…"), scp-like ("git@host:path") or an absolute path is taken as
# it is; another value is a path relative to the packaging root: "..", for a packaging directory
# at the top of a repository, is that repository (venvdeb's own service builds venvdeb so).
_GIT_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://|[^/]+:")


def git_location(value: str | None, root: Path) -> str | None:
    if value is None or _GIT_URL.match(value) or Path(value).is_absolute():
        return value
    return str((Path(root) / value).resolve())


def merged_source(service: dict, release: dict) -> dict:
    """The service file's source with what the release says over it; a release that gives
    another kind of source (git for pypi, or pypi for git) replaces the other kind's keys."""
    src = dict(service)
    if "git" in release:
        for key in ("pypi", "version", "extras"):
            src.pop(key, None)
    if "pypi" in release:
        for key in ("git", "branch"):
            src.pop(key, None)
    return {**src, **release}


def _source_problems(src: dict, prefix: str, complete: bool, origin: str = "") -> list[str]:
    """What is wrong with a source. ``complete``: it must say everything (a version for PyPI, a
    branch for git); otherwise the release may still add it. ``origin`` is the service file, when
    the source is a release's."""
    problems = []
    whole = prefix.rstrip(".")
    from_file = f" (from {origin})" if origin else ""
    if "pypi" in src and "git" in src:
        problems.append(f"key '{whole}': give either 'pypi' (with 'version') or 'git' (with 'branch'), not both")
    elif "pypi" in src:
        if complete and "version" not in src:
            problems.append(f"key '{prefix}version': required with 'source.pypi' = {src['pypi']!r}{from_file} "
                            "(pin the service's version)" if origin else
                            f"key '{prefix}version': required with '{prefix}pypi' (pin the service's version)")
        if "branch" in src:
            problems.append(f"key '{prefix}branch': only for a git source")
    elif "git" in src:
        if complete and "branch" not in src:
            problems.append(f"key '{prefix}branch': required with 'source.git'{from_file}" if origin else
                            f"key '{prefix}branch': required with '{prefix}git'")
        if "version" in src:
            problems.append(f"key '{prefix}version': a git source takes its version from git, remove it")
    elif complete:
        problems.append(f"key '{whole}': needs 'pypi' and 'version', or 'git' and 'branch'")
    return problems


def _service_consistency(data: dict, name: str, complete: bool = True) -> list[str]:
    problems = []
    names = [d["name"] for d in data.get("daemons", [])] + [w["name"] for w in data.get("wsgi", [])]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"key 'daemons': {dup!r} is declared twice (units of daemons and wsgi share one namespace)")
    for i, daemon in enumerate(data.get("daemons", [])):
        program = daemon["command"].split()[0]
        if program not in data["console_scripts"]:
            problems.append(f"key 'daemons[{i}].command': {program!r} is not one of the service's console_scripts")
    helpers = data.get("helpers")
    if helpers is not None:
        if helpers.get("rootwrap") and helpers["rootwrap"] not in data["console_scripts"]:
            problems.append(f"key 'helpers.rootwrap': {helpers['rootwrap']!r} is not one of the service's "
                            "console_scripts (add it there: sudo runs it from the venv's bin/)")
    for file, text in data.get("etc", {}).items():
        if not isinstance(text, str):
            problems.append(f"key 'etc.{file}': expected the file's text as a string")
        elif file in {f"{w['name']}-gunicorn.conf.py" for w in data.get("wsgi", [])}:
            problems.append(f"key 'etc.{file}': the package makes this file for [[wsgi]] {file[:-len('-gunicorn.conf.py')]!r}; "
                            "choose another name")
    if data["name"] != name:
        problems.append(f"key 'name': is {data['name']!r} but the file is named for {name!r}")
    if data.get("system_user") is False:
        smoke = data.get("smoke", {})
        needs = [key for key, present in (
            ("user", "user" in data), ("daemons", data.get("daemons")), ("wsgi", data.get("wsgi")),
            ("helpers", helpers is not None), ("etc", data.get("etc")), ("smoke.config", smoke.get("config")),
            ("smoke.database", smoke.get("database"))) if present]
        if needs:
            problems.append(f"key 'system_user': false, but {', '.join(needs)} need the service's user and "
                            "directories: remove them, or system_user")
    problems.extend(_source_problems(data["source"], "source.", complete))
    return problems


