"""The systemd sandbox of every unit venvdeb generates, and what a service file may relax.

Every daemon and WSGI application runs with all of ``SANDBOX`` (systemd.exec(5)): the file
system read-only but for the service's own /var/lib and /var/log, no capabilities, no new
privileges, only the Internet and local sockets, no namespaces, a system call filter. A unit
whose service needs more (nova-compute runs its helpers through sudo, and they act as root in
the unit's sandbox) relaxes a setting, with its reason, in the service file:

    [[daemons]]
    name = "nova-compute"
    ...
    [[daemons.relax]]
    setting = "NoNewPrivileges"
    value = "no"
    reason = "sudo runs nova-rootwrap, which is setuid root: no_new_privs would refuse it"

Without ``value`` the setting is left out, and systemd's own default applies. The reason is
written above the setting in the unit, so an operator reading it knows why.
"""

from __future__ import annotations

from dataclasses import dataclass

from .schema import Key, matches, non_empty, validate


@dataclass(frozen=True)
class Relaxation:
    setting: str
    reason: str
    value: str | None = None  # None: the setting is left out of the unit


@dataclass(frozen=True)
class Line:
    """One line of a unit's sandbox: ``setting=value``, with the reason it is relaxed, if it is."""

    setting: str
    value: str | None
    reason: str = ""


# In the order the unit gives them. {service} is the service's name. SystemCallFilter is given
# twice: what a system service needs, less what only a privileged one does; a relaxation
# replaces both.
SANDBOX: tuple[tuple[str, str], ...] = (
    ("UMask", "0027"),
    ("NoNewPrivileges", "yes"),
    ("ProtectSystem", "strict"),
    ("StateDirectory", "{service}"),
    ("LogsDirectory", "{service}"),
    ("PrivateTmp", "yes"),
    ("PrivateDevices", "yes"),
    ("DevicePolicy", "closed"),
    ("ProtectHome", "yes"),
    ("ProtectKernelTunables", "yes"),
    ("ProtectKernelModules", "yes"),
    ("ProtectKernelLogs", "yes"),
    ("ProtectControlGroups", "yes"),
    ("ProtectClock", "yes"),
    ("ProtectHostname", "yes"),
    ("ProtectProc", "invisible"),
    ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
    ("RestrictNamespaces", "yes"),
    ("RestrictRealtime", "yes"),
    ("RestrictSUIDSGID", "yes"),
    ("LockPersonality", "yes"),
    ("SystemCallArchitectures", "native"),
    ("SystemCallFilter", "@system-service"),
    ("SystemCallFilter", "~@privileged @resources"),
    ("SystemCallErrorNumber", "EPERM"),
    ("CapabilityBoundingSet", ""),
)
SETTINGS = tuple(dict.fromkeys(name for name, _ in SANDBOX))


def _setting(value) -> str | None:
    return None if value in SETTINGS else f"{value!r} is not a setting of the sandbox (one of: {', '.join(SETTINGS)})"


RELAX_SCHEMA = {
    "setting": Key(str, required=True, check=_setting, doc="The sandbox's setting relaxed (systemd.exec(5))."),
    "value": Key(str, check=matches(r"[A-Za-z0-9_@~:./ +-]*", "a value of a systemd setting (letters, digits, "
                                                              "spaces and _@~:./+-)"),
                 doc="Its value for this unit; without it, the setting is left out (systemd's default)."),
    "reason": Key(str, required=True, check=non_empty, doc="Why this unit needs it: written above it, in the unit."),
}


def relax_problems(relax: object, prefix: str) -> list[str]:
    """What is wrong with a unit's ``relax`` list (``prefix``: 'daemons[2].')."""
    if not isinstance(relax, list):
        return [f"key '{prefix}relax': expected a list of tables ([[{prefix.split('[')[0]}.relax]])"]
    problems, seen = [], set()
    for i, item in enumerate(relax):
        if not isinstance(item, dict):
            problems.append(f"key '{prefix}relax[{i}]': expected a table")
            continue
        found = validate(item, RELAX_SCHEMA, prefix=f"{prefix}relax[{i}].")
        problems.extend(found)
        if not found and item["setting"] in seen:
            problems.append(f"key '{prefix}relax[{i}].setting': {item['setting']} is relaxed twice")
        seen.add(item.get("setting"))
    return problems


def relaxations(relax: list[dict]) -> tuple[Relaxation, ...]:
    return tuple(Relaxation(r["setting"], r["reason"], r.get("value")) for r in relax)


def sandbox(service: str, relaxed: tuple[Relaxation, ...] = ()) -> list[Line]:
    """A unit's sandbox, in order: ``SANDBOX`` for ``service``, with ``relaxed`` in place of the
    settings it names (a setting left out is still a line, with no value, so its reason is said)."""
    by_name = {r.setting: r for r in relaxed}
    lines, done = [], set()
    for name, value in SANDBOX:
        if name not in by_name:
            lines.append(Line(name, value.format(service=service)))
        elif name not in done:
            done.add(name)
            lines.append(Line(name, by_name[name].value, by_name[name].reason))
    return lines
