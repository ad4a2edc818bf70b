"""The part of smoke that runs under systemd, in the smoke chroot booted with its own systemd
(environment/boot.py): the package's units as a host runs them, in their sandbox.

usage: python3 unit_check.py PLAN.json REPORT

Run as a oneshot unit of the booted system, after the chroot's functional checks (api_check.py)
have configured the service and made its database. The plan (written by smoke.py) gives the
database server's unit to start first, if any; the WSGI applications, each started with
`systemctl start` and asked the service's requests on the port its gunicorn settings give (the
booted system has a network of its own); and the commands to run under one of the service's
units: each is run by systemd as that unit's ExecStart (its user, its sandbox, with what the
service file relaxes), through a drop-in that is removed afterwards.

Standard library only, beside api_check.py, whose report format it shares: one JSON line per
check, in REPORT (a file of the host's directory bound in the booted system), and last
{"done": true|false}.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_check  # noqa: E402  (beside this file in the booted system)

START_TIMEOUT = api_check.START_TIMEOUT
DROP_IN = "/run/systemd/system/{unit}.d/zz-venvdeb-smoke.conf"
OUTPUT = "/run/venvdeb-smoke"


def systemctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["systemctl", "--no-pager", *args], capture_output=True, text=True)


def journal(unit: str, size: int = 2500) -> str:
    proc = subprocess.run(["journalctl", "--no-pager", "-o", "cat", "-u", unit], capture_output=True, text=True)
    return (proc.stdout + proc.stderr)[-size:]


def start_unit(unit: str, port: int | None = None) -> str | None:
    """Start ``unit``; None once it runs (and, with ``port``, accepts connections), else why not."""
    started = systemctl("start", unit)
    if started.returncode != 0:
        return f"systemctl start {unit}: exit status {started.returncode}\n{started.stderr}\n{journal(unit)}"
    deadline = time.monotonic() + START_TIMEOUT
    while port is not None and time.monotonic() < deadline:
        if systemctl("is-active", "--quiet", unit).returncode != 0:
            return f"{unit} stopped: {systemctl('status', unit).stdout[-1500:]}\n{journal(unit)}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return None
        except OSError:
            time.sleep(0.3)
    if port is not None:
        return f"{unit} did not listen on port {port} in {START_TIMEOUT} s:\n{journal(unit)}"
    return None


def in_force(unit: str) -> tuple[bool, str]:
    """Whether the unit's running process is in the sandbox its unit file asks for, as the kernel
    reports it (/proc/<pid>/status and mountinfo), and what was seen."""
    props = dict(line.partition("=")[::2] for line in systemctl(
        "show", "--property=MainPID,NoNewPrivileges,CapabilityBoundingSet,SystemCallFilter,ProtectSystem",
        unit).stdout.splitlines())
    pid = props.get("MainPID", "0")
    try:
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)
        with open(f"/proc/{pid}/mountinfo") as f:
            root_options = next(line.split()[5] for line in f if line.split()[4] == "/")
    except (OSError, StopIteration) as exc:
        return False, f"{unit}: its process ({pid}) cannot be read: {exc}"
    seen = {"NoNewPrivs": status.get("NoNewPrivs", "?").strip(), "Seccomp": status.get("Seccomp", "?").strip(),
            "CapBnd": status.get("CapBnd", "?").strip(), "/": root_options.split(",")[0]}
    # What the unit asks for, and nothing it does not (the container may filter on its own).
    wanted = {}
    if props.get("NoNewPrivileges") == "yes":
        wanted["NoNewPrivs"] = "1"
    if props.get("SystemCallFilter"):
        wanted["Seccomp"] = "2"
    if not props.get("CapabilityBoundingSet"):
        wanted["CapBnd"] = "0000000000000000"
    if props.get("ProtectSystem") == "strict":
        wanted["/"] = "ro"
    said = ", ".join(f"{k} {v}" for k, v in seen.items())
    wrong = [f"{k}: {seen[k]}, but the unit asks for {v}" for k, v in wanted.items() if seen[k] != v]
    return not wrong, said + ("\n" + "\n".join(wrong) if wrong else "")


def serve(app: dict, requests: list[dict]) -> bool:
    started = time.monotonic()
    unit = f"{app['name']}.service"
    why = start_unit(unit, app["port"])
    ok = api_check.emit(f"{app['name']}: started by systemd, in its unit's sandbox, on port {app['port']}",
                        why is None, why or "", started)
    if ok:
        started = time.monotonic()
        sandboxed, seen = in_force(unit)
        ok = api_check.emit(f"{app['name']}: the kernel shows its sandbox in force ({seen.splitlines()[0]})",
                            sandboxed, seen, started)
    if ok:
        log = f"{OUTPUT}/{app['name']}.log"
        with open(log, "w") as f:
            f.write(journal(unit, 20000))
        ok = all([api_check.check(req, app["port"], log) for req in requests if req["wsgi"] == app["name"]])
    systemctl("stop", unit)
    return ok


def becomes_its_user(unit: str) -> str:
    """What the unit's ExecStart runs its command with to become the service's user, when the
    unit starts as root (a unit whose helpers use sudo: ``setpriv ... --``); else nothing."""
    with open(f"/lib/systemd/system/{unit}") as f:
        argv = shlex.split(api_check.unit_settings(f.read()).get("ExecStart", ""))
    if argv and os.path.basename(argv[0]) == "setpriv" and "--" in argv:
        return " ".join(argv[:argv.index("--") + 1]) + " "
    return ""


def run_under(unit: str, command: dict, number: int) -> bool:
    """``command`` as ``unit``'s ExecStart: its User, Group, WorkingDirectory and sandbox."""
    name = f"under {unit}'s sandbox: {command['description']}"
    started = time.monotonic()
    script, out = f"{OUTPUT}/command-{number}.sh", f"{OUTPUT}/command-{number}.out"
    with open(script, "w") as f:
        f.write(command["run"] + "\n")
    os.chmod(script, 0o644)
    drop_in = DROP_IN.format(unit=unit)
    os.makedirs(os.path.dirname(drop_in), exist_ok=True)
    with open(drop_in, "w") as f:
        f.write(f"[Service]\nType=oneshot\nRestart=no\nExecStart=\nExecStart={becomes_its_user(unit)}/bin/sh {script}\n"
                f"StandardOutput=truncate:{out}\nStandardError=inherit\n")
    try:
        systemctl("daemon-reload")
        systemctl("start", unit)
        status = systemctl("show", "--property=ExecMainStatus", "--value", unit).stdout.strip()
        with open(out, errors="replace") as f:
            said = f.read()
    finally:
        os.unlink(drop_in)
        systemctl("daemon-reload")
        systemctl("reset-failed", unit)
    said = f"$ {command['run']}\nexit status {status}\n{said}"
    if status != str(command["status"]):
        return api_check.emit(name, False, f"expected exit status {command['status']}, got {status}:\n{said}", started)
    if command.get("contains") and command["contains"] not in said:
        return api_check.emit(name, False, f"the output does not contain {command['contains']!r}:\n{said}", started)
    return api_check.emit(name, True, "", started)


def main(plan_path: str, report: str) -> int:
    with open(plan_path) as f:
        plan = json.load(f)
    sys.stdout = open(report, "a", buffering=1)  # api_check.emit prints its lines
    os.makedirs(OUTPUT, mode=0o755, exist_ok=True)
    ok = True
    if plan.get("database"):
        started = time.monotonic()
        why = start_unit(plan["database"])
        ok = api_check.emit(f"{plan['database']} started by systemd", why is None, why or "", started)
    if ok:
        for app in plan["apps"]:
            ok = serve(app, plan["requests"]) and ok
        for number, command in enumerate(plan["commands"]):
            ok = run_under(command["unit"] + ".service", command, number) and ok
    print(json.dumps({"done": ok}), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
