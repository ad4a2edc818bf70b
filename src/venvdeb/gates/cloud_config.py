"""The cloud gate's controller, as files and a plan: each service's configuration rendered from
its ``[cloud]`` declarations, and what cloud_check.py does with them in the booted chroot.

Pure: the same services and secrets give the same files. The templates see:

- ``database(name)``: the SQLAlchemy URL of the service's database ``name`` (its own user);
- ``transport_url``: RabbitMQ's, for the one user every service shares;
- ``memcached_servers``;
- ``keystone_authtoken``: the body of a ``[keystone_authtoken]`` section, with the service's own
  user (keystonemiddleware validates tokens with it);
- ``credentials``: the same user's, for a section that calls another service (nova's
  ``[placement]``);
- ``url(service)``: that service's endpoint; ``has(service)``: whether the cloud runs it;
- ``host``, ``region``, ``admin_password``, ``password`` (the service user's).

With placeholders for secrets (``ADMIN_PASS``, ``NOVA_DBPASS``, ``NOVA_PASS``, ``RABBIT_PASS``,
as upstream's install guides write them), the same files are the operator guide's.
"""

from __future__ import annotations

import secrets as _secrets
from dataclasses import dataclass, field

import jinja2

from ..errors import ModelError
from ..model import Service

HOST = "controller"  # the controller's name, in /etc/hosts of the booted chroot, as in the install guide
REGION = "RegionOne"
KEYSTONE_PORT_PATH = "/v3"
RABBIT_USER = "openstack"
SERVICE_PROJECT = "service"
# The scenario's user, in a project of its own, with keystone's member role.
SCENARIO_PROJECT, SCENARIO_USER = "scenario", "scenario-user"
# Debian's servers every cloud runs, and their units.
INFRASTRUCTURE = {"mariadb-server": "mariadb.service", "rabbitmq-server": "rabbitmq-server.service",
                  "memcached": "memcached.service"}


@dataclass(frozen=True)
class Secrets:
    """Every password of one cloud: made afresh for each gate, or the install guide's placeholders."""

    values: dict[str, str] = field(default_factory=dict)
    placeholders: bool = False

    def __call__(self, name: str) -> str:
        if self.placeholders:
            return name
        return self.values.setdefault(name, _secrets.token_hex(16))


def ordered(services: list[Service]) -> list[Service]:
    """``services`` each after those its ``[cloud] after`` names (that the cloud has), else in the
    order given."""
    names = {s.name for s in services}
    done: list[Service] = []
    left = list(services)
    while left:
        ready = next((s for s in left if all(a in {d.name for d in done} for a in s.cloud.after if a in names)), None)
        if ready is None:
            cycle = ", ".join(s.name for s in left)
            raise ModelError(left[0].path, [f"key 'cloud.after': the services {cycle} wait for each other"])
        done.append(ready)
        left.remove(ready)
    return done


def endpoint(service: Service) -> str:
    port = next(a.port for a in service.wsgi if a.name == service.cloud.api)
    return f"http://{HOST}:{port}{service.cloud.path}"


class Controller:
    """One controller running ``services`` (each with a ``[cloud]`` table), with ``secrets``;
    ``commands``: the names of the command-line packages installed beside them (openstackclient),
    which the scenario's steps may need."""

    def __init__(self, services: list[Service], secrets: Secrets | None = None, commands: list[str] = ()):
        self.secrets = secrets or Secrets()
        problems = [(s, "declares no [cloud] table: the gate cannot configure or start it") for s in services
                    if not s.cloud.declared]
        if problems:
            service, why = problems[0]
            raise ModelError(service.path, [f"key 'cloud': {service.name} {why}"])
        self.services = ordered(services)
        identity = [s for s in self.services if s.cloud.type == "identity"]
        if len(identity) != 1:
            raise ModelError(self.services[0].path.parent,
                             ["the cloud needs one service with [cloud] type = \"identity\" (keystone), "
                              f"found {len(identity) or 'none'} among {', '.join(s.name for s in services)}"])
        self.identity = identity[0]
        self.names = [s.name for s in self.services] + list(commands)
        self._env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                                       autoescape=False)

    # -- what a template sees --------------------------------------------------------------------
    def password(self, service: str) -> str:
        return self.secrets(f"{service.upper()}_PASS")

    def database_password(self, service: str) -> str:
        return self.secrets(f"{service.upper()}_DBPASS")

    @property
    def keystone_url(self) -> str:
        return endpoint(self.identity)

    def context(self, service: Service) -> dict:
        def database(name: str) -> str:
            if name not in service.cloud.databases:
                raise jinja2.UndefinedError(f"database({name!r}): not one of the service's [cloud] databases")
            return f"mysql+pymysql://{service.user}:{self.database_password(service.name)}@{HOST}/{name}"

        def url(name: str) -> str:
            other = next((s for s in self.services if s.name == name and s.cloud.api), None)
            if other is None:
                raise jinja2.UndefinedError(f"url({name!r}): the cloud has no {name} API")
            return endpoint(other)

        base = f"http://{HOST}:{next(a.port for a in self.identity.wsgi if a.name == self.identity.cloud.api)}"
        credentials = "\n".join([
            f"auth_url = {base}", "auth_type = password", "project_domain_name = Default",
            "user_domain_name = Default", f"region_name = {REGION}", f"project_name = {SERVICE_PROJECT}",
            f"username = {service.name}", f"password = {self.password(service.name)}"])
        authtoken = "\n".join([f"www_authenticate_uri = {base}", f"memcached_servers = {HOST}:11211",
                               credentials])
        return {"database": database, "url": url, "has": lambda name: name in self.names,
                "transport_url": f"rabbit://{RABBIT_USER}:{self.secrets('RABBIT_PASS')}@{HOST}:5672/",
                "memcached_servers": f"{HOST}:11211", "keystone_authtoken": authtoken, "credentials": credentials,
                "host": HOST, "region": REGION, "admin_password": self.secrets("ADMIN_PASS"),
                "password": self.password(service.name)}

    def _render(self, service: Service, where: str, template: str) -> str:
        try:
            return self._env.from_string(template).render(self.context(service))
        except jinja2.TemplateError as exc:
            raise ModelError(service.path, [f"key '{where}': {exc}"]) from None

    # -- the files, the commands, the plan -------------------------------------------------------
    def config(self, service: Service) -> list[tuple[str, str]]:
        """(path in the chroot, text) of each of the service's configuration files."""
        files = [(f"/etc/{service.name}/{name}", self._render(service, f"cloud.config.{name}", text))
                 for name, text in service.cloud.config]
        if service.cloud.type and service is not self.identity and \
                not any("[keystone_authtoken]" in text for _, text in files):
            raise ModelError(service.path, [f"key 'cloud.config': {service.name}'s API is in the catalog, but no file "
                                            "of its configuration has a [keystone_authtoken] section: nothing would "
                                            "check the tokens it is sent (add one with {{ keystone_authtoken }})"])
        return files

    def setup(self, service: Service) -> list[str]:
        return self.commands(service, "setup")

    def commands(self, service: Service, key: str) -> list[str]:
        """The service's ``[cloud]`` commands of ``key`` (setup, upgrade, online), rendered."""
        return [self._render(service, f"cloud.{key}[{i}]", command)
                for i, command in enumerate(getattr(service.cloud, key))]

    def walk(self, installed: dict[str, str], to: dict[str, str], archives: str, names: tuple[str, str],
             commands: list[Service] = ()) -> dict:
        """The upgrade walk of the plan: each service after another, in the order they are brought
        up (identity first, as upstream's upgrade order has it), its ``installed`` version to its
        ``to`` one; the command-line packages last. ``names``: the releases, from and to."""
        units = {s["name"]: s["units"] for s in self.plan([])["services"]}
        order = [(s, units[s.name], self.commands(s, "upgrade"), self.commands(s, "online")) for s in self.services]
        order += [(c, [], [], []) for c in commands]
        return {"from": names[0], "to": names[1], "archives": archives, "installed": dict(installed),
                "services": [{"name": s.name, "package": s.package, "from": installed[s.package],
                              "to": to[s.package], "units": u, "upgrade": up, "online": on}
                             for s, u, up, on in order]}

    def plan(self, steps: list[dict]) -> dict:
        """What cloud_check.py does, in order. ``steps``: the scenario's (Step.as_dict())."""
        services = []
        for service in self.services:
            ports = {a.name: a.port for a in service.wsgi}
            services.append({
                "name": service.name, "user": service.user, "etc": f"/etc/{service.name}",
                "config": [path for path, _ in self.config(service)], "setup": self.setup(service),
                "units": [{"name": f"{unit}.service", "port": ports.get(unit)} for unit in service.cloud.units],
                "doubles": [f"{unit}.service" for unit in service.cloud.doubles],
                "identity": service is self.identity})
        registrations = [{"service": s.name, "type": s.cloud.type, "url": endpoint(s), "user": s.name,
                          "password": self.password(s.name)}
                         for s in self.services if s.cloud.type and s is not self.identity]
        databases = [{"name": name, "user": s.user, "password": self.database_password(s.name)}
                     for s in self.services for name in s.cloud.databases]
        for step in steps:
            missing = [n for n in step["needs"] if n not in self.names]
            step["skip"] = f"the cloud has no {', '.join(missing)}" if missing else None
        return {"host": HOST, "region": REGION, "infrastructure": list(INFRASTRUCTURE.values()),
                "databases": databases, "rabbit": {"user": RABBIT_USER, "password": self.secrets("RABBIT_PASS")},
                "keystone": {"url": f"{self.keystone_url}", "admin_password": self.secrets("ADMIN_PASS")},
                "registrations": registrations, "services": services,
                "ports": {a.name: a.port for s in self.services for a in s.wsgi},
                "scenario": {"project": SCENARIO_PROJECT, "user": SCENARIO_USER,
                             "password": self.secrets("SCENARIO_PASS")},
                "steps": steps}

    def files(self) -> list[tuple[str, str]]:
        """Every configuration file of the controller, service after service."""
        return [f for s in self.services for f in self.config(s)]
