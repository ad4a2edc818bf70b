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

Without ``value`` the setting is left out, and systemd's own default applies. ``setting`` may
be a list, of settings left out for one reason. The reason is written above the setting in the
unit, so an operator reading it knows why.

A unit whose helpers escalate through sudo (setuid) relaxes NoNewPrivileges. For a unit with
User=, systemd enforces each of its seccomp-based settings (the system call filter, address
families, namespaces, ...) with no_new_privs (systemd.exec(5), NoNewPrivileges=), and sudo then
refuses to run. Such a unit therefore has no User=: it starts as root, which installs the
filters without no_new_privs, and drops to the service's user itself (setpriv, util-linux's)
before the service runs; its state and log directories are then ReadWritePaths, since
StateDirectory= would give them to root. ``drops_itself`` says which units do.
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
# How a unit that starts as root becomes the service's user (``drops_itself``).
SETPRIV = "/usr/bin/setpriv --reuid={user} --regid={user} --init-groups --reset-env --"


def drops_itself(relaxed: tuple[Relaxation, ...]) -> bool:
    """Whether the unit starts as root and drops to its user itself: its helpers use sudo."""
    return any(r.setting == "NoNewPrivileges" and r.value == "no" for r in relaxed)


def _setting(value) -> str | None:
    names = value if isinstance(value, list) else [value]
    bad = [n for n in names if n not in SETTINGS]
    if not names:
        return "must not be empty"
    return f"{', '.join(map(repr, bad))} is not a setting of the sandbox (one of: {', '.join(SETTINGS)})" if bad else None


RELAX_SCHEMA = {
    "setting": Key((str, list), required=True, items=None, check=_setting,
                   doc="The sandbox's setting relaxed (systemd.exec(5)), or a list of settings left out for one reason."),
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
        if found:
            continue
        names = item["setting"] if isinstance(item["setting"], list) else [item["setting"]]
        if isinstance(item["setting"], list) and "value" in item:
            problems.append(f"key '{prefix}relax[{i}].value': a list of settings is left out: give no value")
        for name in names:
            if name in seen:
                problems.append(f"key '{prefix}relax[{i}].setting': {name} is relaxed twice")
            seen.add(name)
    return problems


def relaxations(relax: list[dict]) -> tuple[Relaxation, ...]:
    return tuple(Relaxation(name, r["reason"], r.get("value"))
                 for r in relax for name in (r["setting"] if isinstance(r["setting"], list) else [r["setting"]]))


def sandbox(service: str, relaxed: tuple[Relaxation, ...] = ()) -> list[Line]:
    """A unit's sandbox, in order: ``SANDBOX`` for ``service``, with ``relaxed`` in place of the
    settings it names (a setting left out is still a line, with no value, so its reason is said)."""
    by_name = {r.setting: r for r in relaxed}
    lines, done, said = [], set(), {}
    for name, value in SANDBOX:
        if name in ("StateDirectory", "LogsDirectory") and drops_itself(relaxed) and name not in by_name:
            # systemd would give these to the unit's user, root here: they are the package's own.
            protected = "ProtectSystem" not in by_name or by_name["ProtectSystem"].value is not None
            if name == "StateDirectory" and protected:  # no mount namespace, nothing read-only: none needed
                lines.append(Line("ReadWritePaths", f"/var/lib/{service} /var/log/{service}",
                                  "the unit starts as root (see ExecStart): StateDirectory= and LogsDirectory= "
                                  "would give these directories to root"))
        elif name not in by_name:
            lines.append(Line(name, value.format(service=service)))
        elif name not in done:
            done.add(name)
            reason = by_name[name].reason
            # A reason given for several settings is written once, at the first.
            lines.append(Line(name, by_name[name].value, f"as {said[reason]}, above" if reason in said else reason))
            said.setdefault(reason, name)
    # The error a filtered system call gives means nothing without a filter.
    if "SystemCallFilter" in by_name and by_name["SystemCallFilter"].value is None:
        lines = [line for line in lines if line.setting != "SystemCallErrorNumber"]
    return lines
