"""The cloud gate's model: what each service declares to run in a cloud with the others (its
``[cloud]`` table), and the scenario a user of that cloud runs (``packaging/cloud.toml``).

A service file says, for example:

    [cloud]
    after = ["keystone"]                   # brought up once these are
    api = "placement-api"                  # the application its catalog endpoint is served by
    type = "placement"                     # the catalog's service type
    databases = ["placement"]              # made in MariaDB, for a user named for the service
    setup = ["su -s /bin/sh -c 'placement-manage db sync' placement"]
    units = ["placement-api"]              # started, in order, once the set-up is done

    [cloud.config]
    "placement.conf" = '''
    [placement_database]
    connection = {{ database("placement") }}
    [keystone_authtoken]
    {{ keystone_authtoken }}
    '''

Configuration and set-up are Jinja2 templates (cloud_config.py gives what they may use). The
scenario's steps each name the services they need; a cloud without one of them skips the step,
and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from .apis import METHODS, UNIT_NAME, file_names
from .schema import SERVICE_NAME, Key, all_of, get, load_toml, matches, non_empty, unique, validate

DATABASE_NAME = r"[a-z][a-z0-9_]{0,63}"
SCENARIO_FILE = "cloud.toml"


def _endpoint_path(value) -> str | None:
    return None if value == "" or re.fullmatch(r"(/[A-Za-z0-9._%()-]+)+", value) else (
        f"{value!r} is not a URL path ('' or '/v2.1', '/v3')")


CLOUD_SCHEMA = {
    "after": Key(list, items=str, default=(), check=all_of(unique, matches(SERVICE_NAME, "a service name")),
                 doc="Services brought up before this one, when the cloud has them (keystone, for every API "
                     "that checks tokens)."),
    "api": Key(str, check=matches(UNIT_NAME, "a [[wsgi]] application's name"),
               doc="The application that serves the service's endpoint in keystone's catalog."),
    "type": Key(str, check=matches(r"[a-z][a-z0-9-]*", "a catalog service type (compute, image, placement)"),
                doc="Its catalog service type: keystone registers the service, its user and its endpoints "
                    "(with api)."),
    "path": Key(str, check=_endpoint_path, default="", doc="The endpoint's path on the application ('/v2.1')."),
    "databases": Key(list, items=str, default=(), check=all_of(unique, matches(DATABASE_NAME, "a database name")),
                     doc="Its MariaDB databases, made with a user named for the service that has every right on "
                         "them."),
    "config": Key(dict, check=file_names, default={},
                  doc="Files written in /etc/<service>/ before its set-up: {\"name\" = \"Jinja2 template\"}."),
    "setup": Key(list, items=str, default=(),
                 doc="Shell commands (Jinja2 templates) run as root once its databases exist, as upstream's "
                     "install guide has them."),
    "units": Key(list, items=str, default=(), check=all_of(unique, matches(UNIT_NAME, "a unit name")),
                 doc="Its units started after the set-up, in order: applications are waited for on their "
                     "port."),
    "upgrade": Key(list, items=str, default=(),
                   doc="Shell commands (Jinja2 templates) run as root when the service is upgraded to the next "
                       "release, its units stopped and its new package installed: the schema migrations its "
                       "upgrade guide gives (expand, migrate, contract)."),
    "online": Key(list, items=str, default=(),
                  doc="Shell commands run once its upgraded units run again: online data migrations (nova's)."),
    "doubles": Key(list, items=str, default=(), check=all_of(unique, matches(UNIT_NAME, "a unit name")),
                   doc="Its units that get the gate's test doubles on their Python path (a drop-in): what stands "
                       "in for hardware a chroot has not (cinder-volume's backend, gates/doubles/)."),
}

REQUEST_STEP_SCHEMA = {
    "api": Key(str, required=True, check=matches(UNIT_NAME, "a [[wsgi]] application's name"),
               doc="The application asked."),
    "path": Key(str, required=True, check=lambda v: None if v.startswith("/") else f"{v!r} must start with '/'",
                doc="The request's path."),
    "method": Key(str, default="GET", check=lambda v: None if v in METHODS else f"{v!r} is not one of "
                  f"{', '.join(METHODS)}", doc="The HTTP method."),
    "token": Key(bool, default=False, doc="Sent with a token (X-Auth-Token): the scenario user's, or with admin "
                                          "the admin's."),
}

STEP_SCHEMA = {
    "name": Key(str, required=True, check=non_empty, doc="What the step shows, as the gate reports it."),
    "needs": Key(list, required=True, items=str,
                 check=all_of(non_empty, unique, matches(SERVICE_NAME, "a service name")),
                 doc="The services it needs: a cloud without one of them skips it. When it fails, the journal of "
                     "each one's units is shown, the last named last."),
    "run": Key(str, check=non_empty, lines=True,
               doc="A shell script, run as an unprivileged user in the scenario's directory with OS_* set for "
                   "the scenario's user (the admin's, with admin = true), and RUN: the scenario's run (1, then one "
                   "more after each service's upgrade), for the names of what it makes."),
    "verify": Key(str, check=non_empty, lines=True,
                  doc="A shell script, run as run does after each service's upgrade, with FIRST (the first run): "
                      "what that run made still exists and reads back the same."),
    "admin": Key(bool, default=False, doc="Run with the cloud admin's credentials (a request: the admin's token), "
                                          "not the scenario user's."),
    "request": Key(dict, table=REQUEST_STEP_SCHEMA, doc="An HTTP request instead of a script."),
    "status": Key(int, default=None, doc="The exit status (run: default 0) or HTTP status (request) it must give."),
    "contains": Key(str, check=non_empty, doc="A text its output (or body) must hold."),
}


@dataclass(frozen=True)
class CloudSpec:
    """What a service declares for the cloud gate (its ``[cloud]`` table)."""

    after: tuple[str, ...] = ()
    api: str | None = None
    type: str | None = None
    path: str = ""
    databases: tuple[str, ...] = ()
    config: tuple[tuple[str, str], ...] = ()  # (file below /etc/<service>/, Jinja2 template)
    setup: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    doubles: tuple[str, ...] = ()
    upgrade: tuple[str, ...] = ()
    online: tuple[str, ...] = ()

    @property
    def declared(self) -> bool:
        return bool(self.config or self.setup or self.units or self.type)


@dataclass(frozen=True)
class Step:
    name: str
    needs: tuple[str, ...]
    run: str | None = None
    verify: str | None = None
    admin: bool = False
    request: dict | None = None  # api, path, method, token
    status: int | None = None
    contains: str | None = None

    def as_dict(self) -> dict:
        return {"name": self.name, "needs": list(self.needs), "run": self.run, "verify": self.verify, "admin": self.admin,
                "request": self.request, "status": self.status if self.status is not None else
                (None if self.request else 0), "contains": self.contains}


def runs_a_cloud(services) -> bool:
    """Whether these services make a cloud the gate can bring up: one of them is its identity."""
    return any(s.cloud.type == "identity" for s in services)


def cloud_problems(data: dict, apps: list[dict], daemons: list[dict]) -> list[str]:
    problems = validate(data, CLOUD_SCHEMA, prefix="cloud.")
    if problems:
        return problems
    names = {a.get("name") for a in apps}
    units = names | {d.get("name") for d in daemons}
    if data.get("api") and data["api"] not in names:
        problems.append(f"key 'cloud.api': {data['api']!r} is not one of the service's [[wsgi]] applications "
                        f"({', '.join(sorted(n for n in names if n)) or 'it declares none'})")
    if bool(data.get("type")) != bool(data.get("api")):
        problems.append("key 'cloud.type': a catalog entry needs both type and api (the application serving it)")
    for key in ("units", "doubles"):
        for unit in data.get(key, []):
            if unit not in units:
                problems.append(f"key 'cloud.{key}': {unit!r} is not one of the service's units "
                                f"({', '.join(sorted(n for n in units if n)) or 'it has none'})")
    for name, text in data.get("config", {}).items():
        if not isinstance(text, str):
            problems.append(f"key 'cloud.config.{name}': expected the file's template as a string")
    return problems


def cloud_spec(data: dict) -> CloudSpec:
    return CloudSpec(after=tuple(get(data, CLOUD_SCHEMA, "after")), api=data.get("api"), type=data.get("type"),
                     path=get(data, CLOUD_SCHEMA, "path"), databases=tuple(get(data, CLOUD_SCHEMA, "databases")),
                     config=tuple(sorted(get(data, CLOUD_SCHEMA, "config").items())),
                     setup=tuple(get(data, CLOUD_SCHEMA, "setup")), units=tuple(get(data, CLOUD_SCHEMA, "units")),
                     doubles=tuple(get(data, CLOUD_SCHEMA, "doubles")), upgrade=tuple(get(data, CLOUD_SCHEMA, "upgrade")),
                     online=tuple(get(data, CLOUD_SCHEMA, "online")))


SCENARIO_SCHEMA = {
    "steps": Key(list, required=True, items=dict, check=non_empty,
                 doc="The scenario's steps, in order ([[steps]], below)."),
}


def load_scenario(root: Path) -> tuple[Step, ...]:
    """The scenario of ``root``/cloud.toml, validated whole."""
    path = root / SCENARIO_FILE
    data = load_toml(path)
    problems = validate(data, SCENARIO_SCHEMA)
    steps = data.get("steps", []) if not problems else []
    for i, step in enumerate(steps):
        found = validate(step, STEP_SCHEMA, prefix=f"steps[{i}].")
        if not found and ("run" in step) == ("request" in step):
            found.append(f"key 'steps[{i}]': give either run (a script) or request (an HTTP request)")
        if not found and "request" in step and "verify" in step:
            found.append(f"key 'steps[{i}].verify': a request's step makes nothing to verify")
        if not found and "request" in step and "status" not in step:
            found.append(f"key 'steps[{i}].status': a request's step says the HTTP status it must give")
        problems.extend(found)
    names = [s.get("name") for s in steps]
    dup = unique([n for n in names if isinstance(n, str)])
    if dup:
        problems.append(f"key 'steps': names must differ: {dup}")
    if problems:
        raise ModelError(path, problems)
    return tuple(Step(s["name"], tuple(s["needs"]), s.get("run"), s.get("verify"), get(s, STEP_SCHEMA, "admin"),
                      {k: get(s["request"], REQUEST_STEP_SCHEMA, k) for k in REQUEST_STEP_SCHEMA}
                      if "request" in s else None, s.get("status"), s.get("contains"))
                 for s in steps)
