"""`venvdeb render`: the source tree of a service package, from templates/ and the model.

A pure step: model, wheelhouse manifest and changelog history in, files out. Golden tests
render it and compare with tests/golden/*/out.

debian/source/format is 1.0: the packages carry a Debian revision (a rebuild never reuses a
published version), which 3.0 (native) forbids, and there is no upstream tarball for 3.0 (quilt):
the source is generated.
"""

from __future__ import annotations

import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import jinja2

from ..deb import changelog, year_of
from ..errors import VenvdebError
from ..model import Point, Service
from ..model.ledger import Entry
from ..model.manifest import WheelItem
from ..model.sandbox import SETPRIV, drops_itself, sandbox
from ..resources import templates as templates_dir
from .installed import Wheelhouse
from .sbom import cyclonedx

TEMPLATES = templates_dir()
INSTALL_ROOT = "/usr/lib/venvs"


@dataclass(frozen=True)
class RenderInputs:
    point: Point
    service: Service
    wheelhouse: Wheelhouse
    closure: list[WheelItem]  # the venv's distributions, the service's own wheel included
    history: list[Entry]  # the changelog, oldest first; the last entry is this build
    python_version: str  # the target's, e.g. 3.11.2
    upstream_name: str
    upstream_version: str  # the service's Python version
    homepage: str | None  # none for a source with no web address (a repository on this machine)
    own_wheel: Path | None = None  # a git service's wheel, built from its checkout


def requirements_txt(closure: list[WheelItem]) -> str:
    return "".join(f"{w.name}=={w.version} --hash=sha256:{w.sha256}\n"
                   for w in sorted(closure, key=lambda w: w.name))


def architecture(closure: list[WheelItem]) -> str:
    pure = all(w.file.endswith("-any.whl") for w in closure)
    return "all" if pure else "any"


def check_console_scripts(inputs: RenderInputs) -> None:
    """The service's console scripts, and oslo.privsep's privsep-helper when its helpers say so,
    are in the venv."""
    provided = {s for w in inputs.closure for s in w.console_scripts}
    missing = [s for s in inputs.service.console_scripts if s not in provided]
    if missing:
        raise VenvdebError(
            f"{inputs.service.path}: key 'console_scripts': {', '.join(missing)} "
            f"not provided by any distribution in the venv",
            hint=f"{inputs.upstream_name} provides: {', '.join(sorted(provided)) or 'no console scripts'}",
        )
    helpers = inputs.service.helpers
    if helpers and helpers.privsep and "privsep-helper" not in provided:
        raise VenvdebError(f"{inputs.service.path}: key 'helpers.privsep': privsep-helper is not provided by any "
                           "distribution in the venv",
                           hint="oslo.privsep provides it: add it to the service's requirements, or set privsep = false")


def context(inputs: RenderInputs) -> dict:
    major, minor = (int(x) for x in inputs.python_version.split(".")[:2])
    entry = inputs.history[-1]
    return {
        "package": inputs.service.package,
        "service": inputs.service,
        "release": inputs.point,
        "maintainer": inputs.point.maintainer,
        "version": entry.version,
        "year": year_of(entry),
        "upstream_name": inputs.upstream_name,
        "upstream_version": inputs.upstream_version,
        "homepage": inputs.homepage,
        "wheelhouse": inputs.wheelhouse,
        "closure": sorted(inputs.closure, key=lambda w: w.name),
        "architecture": architecture(inputs.closure),
        "python_min": f"{major}.{minor}",
        "python_next": f"{major}.{minor + 1}",
        "install_root": INSTALL_ROOT,
        "venv_dir": f"{INSTALL_ROOT}/{inputs.service.name}",
        "user": inputs.service.user,
        "config_sample": inputs.service.config_sample,
        "own_wheel": inputs.own_wheel,
    }


# templates/debian/<name>.j2 -> debian/<package>.<name> (debhelper's per-package files)
PER_PACKAGE = {"links", "install", "postinst", "prerm", "postrm", "logrotate", "lintian-overrides"}
# Rendered once per daemon or WSGI application, below (every unit includes sandbox.j2).
PER_UNIT = {"service.j2", "wsgi.service.j2", "gunicorn.conf.py.j2", "sandbox.j2"}
# Rendered only for a service that has privileged helpers, into the tree's sudoers.d/.
ONLY_WITH_HELPERS = {"sudoers.j2"}


def package_templates(service, templates: Path = TEMPLATES) -> list[str]:
    """The files under ``templates``/debian/ rendered (or copied) once for ``service``: all but a
    unit's, the sudoers file, and logrotate's for a service without daemons."""
    return [f"debian/{src.name}" for src in sorted((templates / "debian").iterdir())
            if src.is_file() and src.name not in PER_UNIT | ONLY_WITH_HELPERS
            and (src.name != "logrotate.j2" or service.daemons)]


def used_templates(service, templates: Path = TEMPLATES) -> list[str]:
    """The files of ``templates`` (names relative to it) that ``service``'s debian/ is made from.
    What a package's packaging digest covers, so a change to a template rebuilds only the services
    that use it, and one to the release page's rebuilds none."""
    names = [*package_templates(service, templates), "debian/source/format"]
    if service.daemons or service.wsgi:
        names.append("debian/sandbox.j2")
    if service.daemons:
        names.append("debian/service.j2")
    if service.wsgi:
        names += ["debian/wsgi.service.j2", "debian/gunicorn.conf.py.j2"]
    if service.helpers:
        names.append("debian/sudoers.j2")
    return names


def make_shell(command: str) -> str:
    """One shell command as a make recipe's argument to sh -c: quoted for the shell, and with
    make's own '$' doubled, so that the shell sees the command as the service file wrote it."""
    return shlex.quote(command).replace("$", "$$")


def _render(templates: Path, template: str, ctx: dict) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    env.filters["make_shell"] = make_shell
    env.filters["dirname"] = lambda path: path.rpartition("/")[0] + "/" if "/" in path else ""
    try:
        return env.get_template(template).render(**ctx)
    except jinja2.TemplateSyntaxError as exc:
        raise VenvdebError(f"{templates / template}:{exc.lineno}: template error: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise VenvdebError(f"{templates / template}: template error: {exc.message}",
                           hint="the template uses a name the renderer does not provide") from None


def units(service: Service, templates: Path = TEMPLATES) -> dict[str, str]:
    """The service's systemd units, by file name (nova-api.service): one per daemon and per WSGI
    application, each in its sandbox (model/sandbox.py) with what the service file relaxes."""
    base = {"service": service, "user": service.user, "venv_dir": f"{INSTALL_ROOT}/{service.name}"}
    found = {}
    for daemon in service.daemons:
        found[f"{daemon.name}.service"] = _render(templates, "debian/service.j2", {
            **base, "daemon": daemon, "sandbox": sandbox(service.name, daemon.relax),
            "drops_itself": drops_itself(daemon.relax), "setpriv": SETPRIV.format(user=service.user)})
    for app in service.wsgi:
        found[f"{app.name}.service"] = _render(templates, "debian/wsgi.service.j2", {
            **base, "app": app, "sandbox": sandbox(service.name, app.relax)})
    return found


def render(inputs: RenderInputs, tree: Path, templates: Path = TEMPLATES) -> Path:
    check_console_scripts(inputs)
    ctx = context(inputs)
    package = ctx["package"]
    debian = tree / "debian"
    (debian / "source").mkdir(parents=True, exist_ok=True)

    def emit(template: str, dest: Path, **extra) -> None:
        dest.write_text(_render(templates, template, {**ctx, **extra}))

    for template in package_templates(inputs.service, templates):
        src = templates / template
        if src.suffix == ".j2":
            name = src.stem
            dest = debian / (f"{package}.{name}" if name in PER_PACKAGE else name)
            emit(template, dest)
        else:
            shutil.copy2(src, debian / src.name)
    shutil.copyfile(templates / "debian" / "source" / "format", debian / "source" / "format")
    for name, text in units(inputs.service, templates).items():
        (debian / f"{package}.{name}").write_text(text)
    for app in inputs.service.wsgi:
        (tree / "etc").mkdir(exist_ok=True)
        emit("debian/gunicorn.conf.py.j2", tree / "etc" / f"{app.name}-gunicorn.conf.py", app=app)
    for name, text in inputs.service.etc:
        (tree / "etc" / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / "etc" / name).write_text(text, encoding="utf-8")
    if inputs.service.helpers:
        (tree / "sudoers.d").mkdir(exist_ok=True)
        emit("debian/sudoers.j2", tree / "sudoers.d" / inputs.service.name)
    (debian / "rules").chmod(0o755)
    (debian / "changelog").write_text(changelog(package, inputs.point.distribution,
                                                inputs.point.maintainer, inputs.history))
    (tree / "requirements.txt").write_text(requirements_txt(inputs.closure))
    (tree / "sbom.cdx.json").write_text(cyclonedx(package, ctx["version"], ctx["closure"]))
    if inputs.own_wheel is not None:
        (tree / "wheels").mkdir(exist_ok=True)
        shutil.copy2(inputs.own_wheel, tree / "wheels" / inputs.own_wheel.name)
    return tree
