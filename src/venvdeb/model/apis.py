"""What a service serves, and how smoke proves it: its WSGI applications, and its functional
checks (configuration an operator writes, set-up commands, HTTP requests and their statuses).

A service file says, for example:

    [[wsgi]]
    name = "keystone-api"                         # the systemd unit, and the gunicorn settings' name
    application = "keystone.wsgi.api:application"
    description = "OpenStack Identity API"
    port = 5000                                   # bind defaults to 0.0.0.0, workers to 2

    [smoke.config]
    "keystone.conf" = "..."                        # written in /etc/keystone/ before the set-up

    [smoke]
    setup = ["su -s /bin/sh -c 'keystone-manage db_sync' keystone"]

    [[smoke.requests]]
    wsgi = "keystone-api"
    path = "/v3"
    status = 200

    [[smoke.commands]]                             # run as the service's user, after the set-up
    description = "rootwrap refuses what no filter allows"
    run = "sudo nova-rootwrap /etc/nova/rootwrap.conf cat /etc/shadow"
    status = 99                                    # the exit status (default 0)
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass

from .sandbox import Relaxation, relax_problems, relaxations
from .schema import SERVICE_NAME, Key, all_of, get, matches, non_empty, unique, validate

UNIT_NAME = r"[a-z0-9][a-z0-9-]*"
# module:callable, as gunicorn and every WSGI server take it.
APPLICATION = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _address(value) -> str | None:
    """What gunicorn's bind (``"<address>:<port>"`` in its Python settings) takes: an IPv4
    address or a host name."""
    try:
        ipaddress.IPv4Address(value)
        return None
    except ValueError:
        pass
    if re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*", value):
        return None
    return f"{value!r} is neither an IPv4 address nor a host name"


def _port(value) -> str | None:
    return None if 1 <= value <= 65535 else f"{value} is not a TCP port (1-65535)"


def _workers(value) -> str | None:
    return None if value >= 1 else "must be at least 1"


def _status(value) -> str | None:
    return None if 100 <= value <= 599 else f"{value} is not an HTTP status"


def _exit_status(value) -> str | None:
    return None if 0 <= value <= 255 else f"{value} is not an exit status (0-255)"


def _method(value) -> str | None:
    return None if value in METHODS else f"{value!r} is not one of {', '.join(METHODS)}"


def _json_text(value) -> str | None:
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError as exc:
            return f"not valid JSON: {exc}"
    return None


def _path(value) -> str | None:
    return None if value.startswith("/") else f"{value!r} must start with '/'"


# A part of a path that debhelper's install files carry as it is: they are split on blanks and globbed.
FILE_NAME = r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]*"


def file_names(value) -> str | None:
    """Paths below /etc/<service>/ (neutron's plugins/ml2/ml2_conf.ini): relative, and each part
    a plain name."""
    bad = [name for name in value if not all(re.fullmatch(FILE_NAME, part) for part in name.split("/"))]
    return (f"{', '.join(map(repr, bad))}: a path below /etc/<service>/, relative, each part a name of "
            "letters, digits and '_.+-', not starting with '.' (e.g. 'nova.conf' or 'plugins/ml2/ml2_conf.ini')"
            ) if bad else None


WSGI_SCHEMA = {
    "name": Key(str, required=True, check=matches(UNIT_NAME, "a systemd unit name"),
                doc="The unit's name (<name>.service) and its gunicorn settings' (<name>-gunicorn.conf.py)."),
    "application": Key(str, required=True,
                       check=matches(APPLICATION, "module:callable (e.g. 'keystone.wsgi.api:application')"),
                       doc="The application, as module:callable."),
    "description": Key(str, required=True, check=non_empty, doc="The unit's Description."),
    "port": Key(int, required=True, check=_port, doc="The port it serves on; each of a release's applications "
                                                     "has its own."),
    "bind": Key(str, check=_address, default="0.0.0.0", doc="The address it binds to (IPv4, or a host name)."),
    "workers": Key(int, check=_workers, default=2, doc="gunicorn's worker processes."),
    "enable": Key(bool, default=False, doc="Enabled and started on install."),
    "relax": Key(list, items=dict, default=(),
                 doc="Settings of its unit's sandbox relaxed, each with its reason ([[wsgi.relax]], below)."),
}

REQUEST_SCHEMA = {
    "wsgi": Key(str, required=True, doc="The [[wsgi]] application asked."),
    "path": Key(str, required=True, check=_path, doc="The request's path."),
    "method": Key(str, check=_method, default="GET", doc="The HTTP method."),
    "json": Key((str, dict), check=_json_text, lines=True, doc="A JSON body (a table, or its text)."),
    "headers": Key(dict, default={}, doc="Request headers."),
    "status": Key(int, required=True, check=_status, doc="The status it must give."),
    "contains": Key(str, check=non_empty, doc="A text the body must hold."),
}

COMMAND_SCHEMA = {
    "description": Key(str, required=True, check=non_empty, doc="What the check shows, as smoke reports it."),
    "run": Key(str, required=True, check=non_empty,
               doc="A shell command, run as the service's user (as nobody without one), with the URL of each "
                   "application serving beside it in its environment."),
    "status": Key(int, check=_exit_status, default=0, doc="The exit status it must give."),
    "contains": Key(str, check=non_empty, doc="A text its output must hold."),
    "unit": Key(str, check=matches(UNIT_NAME, "a systemd unit name"),
                doc="One of the service's daemons or applications: the command runs as that unit's ExecStart, "
                    "by systemd in the booted chroot (its user, its sandbox), instead of as the user in the chroot."),
}

# A database server smoke runs in the chroot for services that need one (upstream supports no
# sqlite for them): Debian's, with a database and a user named for the service.
DATABASES = ("mariadb",)


def _database(value) -> str | None:
    return None if value in DATABASES else f"{value!r} is not one of {', '.join(DATABASES)} (sqlite needs no server)"


SMOKE_SCHEMA = {
    "config": Key(dict, check=file_names, default={},
                  doc="Files smoke writes in /etc/<service>/ first, as an operator would: {\"name\" = \"text\"}."),
    "database": Key(str, check=_database, doc="A database server smoke starts first ('mariadb'), with a "
                                              "database and a user named for the service."),
    "setup": Key(list, items=str, check=non_empty, default=(),
                 doc="Shell commands run as root after install, as the install guide has them."),
    "requests": Key(list, items=dict, default=(), doc="HTTP requests to the service's applications "
                                                      "([[smoke.requests]], below)."),
    "commands": Key(list, items=dict, default=(), doc="Commands run as the service's user "
                                                      "([[smoke.commands]], below)."),
    "beside": Key(list, items=str, check=all_of(non_empty, unique, matches(SERVICE_NAME, "a service name")),
                  default=(),
                  doc="Services of the same release installed beside this one and brought up as their own smoke "
                      "does, serving while its commands run (KEYSTONE_API_URL holds keystone-api's URL)."),
}


@dataclass(frozen=True)
class WsgiApp:
    name: str
    application: str  # module:callable
    description: str
    port: int
    bind: str = "0.0.0.0"
    workers: int = 2
    enable: bool = False  # enabled and started on install only when the service says so
    relax: tuple[Relaxation, ...] = ()  # its unit's sandbox relaxed (sandbox.py)


@dataclass(frozen=True)
class Request:
    """An HTTP request smoke sends to one of the service's WSGI applications, and the status it
    must get (and, with ``contains``, a text the body must hold)."""

    wsgi: str
    path: str
    status: int
    method: str = "GET"
    body: str | None = None  # JSON text
    headers: tuple[tuple[str, str], ...] = ()
    contains: str | None = None

    def as_dict(self) -> dict:
        return {"wsgi": self.wsgi, "path": self.path, "status": self.status, "method": self.method,
                "body": self.body, "headers": dict(self.headers), "contains": self.contains}


@dataclass(frozen=True)
class Command:
    """A shell command smoke runs as the service's user (what the service itself would run, such
    as a privileged helper through sudo), the exit status it must give, and a text its output
    must hold."""

    description: str
    run: str
    status: int = 0
    contains: str | None = None
    unit: str | None = None  # run under that unit's sandbox, by systemd in the booted chroot (unit_check.py)


@dataclass(frozen=True)
class FunctionalSmoke:
    config: tuple[tuple[str, str], ...] = ()  # (file name in /etc/<service>/, text)
    setup: tuple[str, ...] = ()  # shell commands, as root, as an operator runs them after install
    requests: tuple[Request, ...] = ()
    commands: tuple[Command, ...] = ()
    database: str | None = None  # one of DATABASES, started before the set-up
    beside: tuple[str, ...] = ()  # services brought up beside it (their names)

    @property
    def wanted(self) -> bool:
        """Whether the service declares anything for smoke to bring up."""
        return bool(self.setup or self.requests or self.commands or self.beside)


def wsgi_problems(apps: list[dict]) -> list[str]:
    problems = []
    for i, app in enumerate(apps):
        found = validate(app, WSGI_SCHEMA, prefix=f"wsgi[{i}].") or relax_problems(app.get("relax", []), f"wsgi[{i}].")
        # An API's unit keeps User= and no_new_privs: a unit whose helpers use sudo is a daemon's.
        if not found:
            found = [f"key 'wsgi[{i}].relax[{j}].setting': an application's unit cannot relax NoNewPrivileges: "
                     "its server runs no privileged helper" for j, relax in enumerate(app.get("relax", []))
                     if any(r.setting == "NoNewPrivileges" for r in relaxations([relax]))]
        problems.extend(found)
    return problems


def smoke_problems(smoke: dict, apps: list[dict], daemons: list[dict] = ()) -> list[str]:
    problems = validate(smoke, SMOKE_SCHEMA, prefix="smoke.")
    names = {a.get("name") for a in apps}
    for i, request in enumerate(smoke.get("requests", []) if isinstance(smoke.get("requests"), list) else []):
        if not isinstance(request, dict):
            continue
        found = validate(request, REQUEST_SCHEMA, prefix=f"smoke.requests[{i}].")
        problems.extend(found)
        if not found and request["wsgi"] not in names:
            problems.append(f"key 'smoke.requests[{i}].wsgi': {request['wsgi']!r} is not one of the service's "
                            f"[[wsgi]] applications ({', '.join(sorted(n for n in names if n)) or 'it declares none'})")
        for key, value in (request.get("headers") or {}).items():
            if not isinstance(value, str):
                problems.append(f"key 'smoke.requests[{i}].headers.{key}': expected a string")
    for i, command in enumerate(smoke.get("commands", []) if isinstance(smoke.get("commands"), list) else []):
        if isinstance(command, dict):
            found = validate(command, COMMAND_SCHEMA, prefix=f"smoke.commands[{i}].")
            problems.extend(found)
            units = {u.get("name") for u in [*apps, *daemons]}
            if not found and command.get("unit") and command["unit"] not in units:
                problems.append(f"key 'smoke.commands[{i}].unit': {command['unit']!r} is not one of the service's units "
                                f"({', '.join(sorted(n for n in units if n)) or 'it has none'})")
    for name, text in (smoke.get("config") or {}).items():
        if not isinstance(text, str):
            problems.append(f"key 'smoke.config.{name}': expected the file's text as a string")
    return problems


def wsgi_apps(data: list[dict]) -> tuple[WsgiApp, ...]:
    return tuple(WsgiApp(a["name"], a["application"], a["description"], a["port"], get(a, WSGI_SCHEMA, "bind"),
                         get(a, WSGI_SCHEMA, "workers"), get(a, WSGI_SCHEMA, "enable"),
                         relaxations(get(a, WSGI_SCHEMA, "relax"))) for a in data)


def functional_smoke(data: dict) -> FunctionalSmoke:
    def body(value):
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, sort_keys=True)

    return FunctionalSmoke(
        config=tuple(sorted((data.get("config") or {}).items())),
        setup=tuple(data.get("setup", ())),
        database=data.get("database"),
        beside=tuple(data.get("beside", ())),
        requests=tuple(Request(r["wsgi"], r["path"], r["status"], get(r, REQUEST_SCHEMA, "method"), body(r.get("json")),
                               tuple(sorted((r.get("headers") or {}).items())), r.get("contains"))
                       for r in data.get("requests", ())),
        commands=tuple(Command(c["description"], c["run"], get(c, COMMAND_SCHEMA, "status"), c.get("contains"),
                               c.get("unit"))
                       for c in data.get("commands", ())),
    )
