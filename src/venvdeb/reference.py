"""docs/reference.md, generated from the code so that it cannot drift from it: every key of a
release file and a service file (from the model's schemas), every command and option (from the
argument parser) and every farm setting (from the settings' table).

usage: python -m venvdeb.reference > docs/reference.md   (make reference)

tests/unit/test_reference.py fails when the checked-in file is not what this prints.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
from pathlib import Path

from .buildbot import settings
from .cli.parser import parser
from .errors import EXIT_STATUSES
from .model import apis, cloud, overrides, release, sandbox, service
from .model.schema import NO_DEFAULT, Key

HEADER = """\
# venvdeb reference

Generated from the code by `make reference` (`python -m venvdeb.reference`): do not edit by
hand. A test fails when this file is not what the code says. For what the keys are for, read
[release engineering](release-engineering.md); for the farm, [the farm](farm.md).
"""

TYPES = {str: "string", int: "integer", bool: "boolean", list: "list", dict: "table"}


def type_text(key: Key) -> str:
    kinds = key.type if isinstance(key.type, tuple) else (key.type,)
    text = " or ".join(TYPES.get(k, k.__name__) for k in kinds)
    if key.items is not None:
        text = f"list of {TYPES.get(key.items, key.items.__name__)}s"
    return text


def value_text(value) -> str:
    """A default as TOML writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""`'
    if isinstance(value, (list, tuple)):
        return "`[" + ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in value) + "]`"
    if isinstance(value, dict):
        return "`{}`" if not value else f"`{value}`"
    if value is None:
        return "none"
    return f"`{value}`"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def schema_table(title: str, schema: dict[str, Key], where: str = "") -> list[str]:
    lines = [f"### {title}", ""]
    if where:
        lines += [where, ""]
    lines += ["| key | type | required | default | meaning |", "|---|---|---|---|---|"]
    for name, key in schema.items():
        default = "" if key.default is NO_DEFAULT else value_text(key.default)
        lines.append(f"| `{name}` | {type_text(key)} | {'yes' if key.required else ''} | {default} | {cell(key.doc)} |")
    return lines + [""]


def release_file() -> list[str]:
    lines = ["## The release file: `packaging/releases/<name>.toml`", ""]
    top = {k: v for k, v in release.RELEASE_SCHEMA.items()}
    lines += schema_table("Top level", top)
    lines += schema_table("`[services.<name>]`", release.RELEASE_SERVICE_SCHEMA,
                          "What the release says of one of its services; the service file says the rest.")
    lines += schema_table("`[constraints]`", release.CONSTRAINTS_SCHEMA)
    lines += schema_table("`[constraints.overrides.<package>]`", overrides.OVERRIDE_SCHEMA,
                          "One pin of the constraints the release moves, named as the constraints name it.")
    lines += schema_table("`[suites]`", release.RELEASE_SCHEMA["suites"].table)
    return lines


def service_file() -> list[str]:
    s = service.SERVICE_SCHEMA
    lines = ["## The service file: `packaging/services/<name>.toml`", ""]
    lines += schema_table("Top level", s)
    lines += schema_table("`[source]`", s["source"].table)
    lines += schema_table("`[[daemons]]`", service.DAEMON_SCHEMA)
    lines += schema_table("`[[wsgi]]`", apis.WSGI_SCHEMA)
    lines += schema_table("`[[daemons.relax]]`, `[[wsgi.relax]]`", sandbox.RELAX_SCHEMA,
                          "Every unit venvdeb generates runs in this sandbox (systemd.exec(5)): "
                          + ", ".join(f"`{name}={value.replace('{service}', '<service>')}`"
                                      for name, value in sandbox.SANDBOX)
                          + ". A unit's relaxation replaces one setting (both SystemCallFilter lines), "
                            "and its reason is written above it in the unit.")
    lines += schema_table("`[helpers]`", s["helpers"].table)
    lines += schema_table("`[build]`", s["build"].table)
    lines += schema_table("`[config_sample]`", s["config_sample"].table)
    lines += schema_table("`[smoke]`", apis.SMOKE_SCHEMA)
    lines += schema_table("`[[smoke.requests]]`", apis.REQUEST_SCHEMA)
    lines += schema_table("`[[smoke.commands]]`", apis.COMMAND_SCHEMA)
    lines += schema_table("`[[lintian_overrides]]`", service.OVERRIDE_SCHEMA)
    lines += schema_table("`[cloud]`", cloud.CLOUD_SCHEMA,
                          "Templates (`config`, `setup`) are Jinja2; what they see is in "
                          "[the controller's configuration](cloud-controller.md).")
    return lines


def scenario_file() -> list[str]:
    lines = ["## The cloud gate's scenario: `packaging/cloud.toml`", ""]
    lines += schema_table("`[[steps]]`", cloud.STEP_SCHEMA)
    lines += schema_table("`[steps.request]`", cloud.REQUEST_STEP_SCHEMA)
    return lines


def _subcommands(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _option_rows(p: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in p._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction, argparse._VersionAction)):
            continue
        name = ", ".join(f"`{o}`" for o in action.option_strings) or f"`{action.metavar or action.dest}`"
        if action.option_strings and action.nargs != 0:
            name += f" {action.metavar or action.dest.upper()}"
        default = action.default
        if isinstance(default, Path):  # expanded when the parser was made: the home directory as ~
            default = str(default).replace(str(Path.home()), "~", 1) if default.is_absolute() else str(default)
        shown = "" if default in (None, False, argparse.SUPPRESS) or action.nargs == 0 else value_text(
            str(default) if not isinstance(default, (str, int, list, tuple)) else default)
        choices = f" (one of: {', '.join(map(str, action.choices))})" if action.choices else ""
        rows.append(f"| {name} | {shown} | {cell((action.help or '') + choices)} |")
    return rows


@contextlib.contextmanager
def plain_environment():
    """The parser's defaults as a fresh shell has them: without this machine's VENVDEB_* variables."""
    saved = dict(os.environ)
    try:
        for name in [n for n in os.environ if n.startswith("VENVDEB_")]:
            del os.environ[name]
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def commands() -> list[str]:
    with plain_environment():
        top = parser()
    lines = ["## Commands", "", "Every command is `venvdeb [--packaging DIR] [--packaging-commit SHA] COMMAND ...`; "
             "options given by an environment variable say so in their default.", "",
             "Every command exits with one of these statuses (a failure's message starts with its word, "
             "`venvdeb: rejected: ...`; with `--json`, stdout has the error, or the failed check's result):", "",
             "| status | word | meaning |", "|---|---|---|",
             *(f"| {status} | {word} | {meaning} |" for status, (word, meaning) in EXIT_STATUSES.items()), ""]

    def one(path: list[str], p: argparse.ArgumentParser) -> None:
        subs = _subcommands(p)
        if subs and len(path) > 0 and not _option_rows(p):
            for name, sub in subs.items():
                one(path + [name], sub)
            return
        if path:
            lines.extend([f"### `venvdeb {' '.join(path)}`", ""])
            if p.description:
                lines.extend([cell(p.description), ""])
            rows = _option_rows(p)
            if rows:
                lines.extend(["| argument | default | meaning |", "|---|---|---|", *rows, ""])
        for name, sub in subs.items():
            one(path + [name], sub)

    lines += ["### `venvdeb` (every command)", "", "| argument | default | meaning |", "|---|---|---|",
              *_option_rows(top), ""]
    for name, sub in _subcommands(top).items():
        one([name], sub)
    return lines


def farm() -> list[str]:
    lines = ["## Farm settings", "",
             f"The master's settings: a TOML file named by `${settings.CONFIG_ENV}`, then environment variables "
             "(which win). Unknown settings are refused.", "",
             "| setting | environment variable | default | meaning |", "|---|---|---|---|"]
    for f in dataclasses.fields(settings.Settings):
        if f.name not in settings.ENVIRONMENT:
            continue
        variable = settings.ENVIRONMENT[f.name][0]
        lines.append(f"| `{f.name}` | `{variable}` | {value_text(f.default)} | {cell(f.metadata.get('doc', ''))} |")
    lines += ["", "### `[releases.<name>]`", "", "| setting | type | meaning |", "|---|---|---|"]
    lines += [f"| `{name}` | {TYPES[kind]} | {cell(doc)} |" for name, (kind, doc) in settings.RELEASE_KEYS.items()]
    return lines + [""]


def render() -> str:
    return "\n".join([HEADER, *release_file(), *service_file(), *scenario_file(), *commands(),
                      *farm()]).rstrip("\n") + "\n"


CONTROLLER_HEADER = """\
# The controller's configuration

Generated by `make reference` from the packaging's `[cloud]` tables (release {release}), with the
install guide's placeholders for passwords: do not edit by hand. These are the files the cloud gate
(`venvdeb cloud`) writes on its controller, where every service of a point runs together on one
MariaDB, one RabbitMQ and one memcached; an operator's controller needs the same, with its own
host name and passwords. Print them for any release: `venvdeb cloud <release> --show-config`.

In the templates of a service file's `[cloud]` table: `database(name)` (the service's own database
user), `transport_url`, `memcached_servers`, `keystone_authtoken` (the service's user),
`credentials` (the same, for a section that calls another service), `url(service)`,
`has(service)`, `host`, `region`, `admin_password` and `password`.
"""


def controller(root: Path, release_name: str) -> str:
    from .gates.cloud_config import Controller, Secrets

    services = release.load_release(root, release_name).services
    built = Controller([s for s in services if s.system_user], Secrets(placeholders=True),
                       commands=[s.name for s in services if not s.system_user])
    from .gates.cloud_config import SERVICE_PROJECT, endpoint

    lines = [CONTROLLER_HEADER.format(release=release_name),
             f"Once keystone is up, each other service is in its catalog: a user named for it, with the admin "
             f"and service roles in the `{SERVICE_PROJECT}` project, the service and its public, internal "
             f"and admin endpoints (region `RegionOne`):", "", "| service | type | endpoint |", "|---|---|---|"]
    lines += [f"| {s.name} | `{s.cloud.type}` | `{endpoint(s)}` |" for s in built.services if s.cloud.type]
    lines.append("")
    for service in built.services:
        lines.append(f"## {service.name}\n")
        setup = built.setup(service)
        if setup:
            lines += ["Set up, once its databases exist:", "", "```sh", *setup, "```", ""]
        lines.append(f"Then its units, in order: {', '.join(f'`{u}`' for u in service.cloud.units)}.\n")
        upgrade, online = built.commands(service, "upgrade"), built.commands(service, "online")
        if upgrade or online:
            lines += ["To the next release, its units stopped and its new package installed "
                      f"(`apt install --only-upgrade {service.package}`):", "", "```sh", *upgrade, "```", ""]
            if online:
                lines += ["and once its units run again:", "", "```sh", *online, "```", ""]
        for path, text in built.config(service):
            language = "python" if path.endswith(".py") else "ini"
            lines += [f"`{path}`:", "", f"```{language}", text.rstrip("\n"), "```", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    # python -m venvdeb.reference [--controller PACKAGING RELEASE]
    if sys.argv[1:2] == ["--controller"]:
        sys.stdout.write(controller(Path(sys.argv[2]), sys.argv[3]))
    else:
        sys.stdout.write(render())
