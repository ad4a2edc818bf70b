"""The functional part of smoke, run inside the chroot by the distribution's /usr/bin/python3,
after the package is installed: what an operator does, then what a client sees.

usage: python3 api_check.py PLAN.json

The plan (written by smoke.py) gives the database server to start first, if the service needs
one (MariaDB, on its socket only, with a database and a user named for the service's user and
the password "smoke-only"), the configuration files smoke wrote in /etc/<service>/, the
set-up commands (run as root), the commands the service's user runs (its privileged helpers
through sudo, say) with the exit status each must give, the WSGI applications to start (their unit files, and a free port on 127.0.0.1
for each) and the HTTP requests with their expected statuses. Each application is started from
its installed unit: its ExecStart, as its User and Group, in its WorkingDirectory. Only the bind
address is smoke's (gunicorn reads GUNICORN_CMD_ARGS over its config file).

Standard library only: this runs on the chroot's Python, outside any venv. One JSON line per
check is printed: {"name", "passed", "detail", "seconds"}.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

# What the service's commands and servers run with: as a unit's, nothing of smoke's own.
BASE_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
START_TIMEOUT = 90  # seconds for a server to accept connections
REQUEST_TIMEOUT = 120  # the first request waits for a worker to import the application

# Loads module:callable as a WSGI server does, so that an application that cannot be imported is
# named with its traceback before any server starts.
# The application is named in the environment, not argv: OpenStack's applications parse argv with
# oslo.config when they are imported.
IMPORT = """
import importlib, os, sys
spec = os.environ["VENVDEB_WSGI_APPLICATION"]
module, _, attrs = spec.partition(":")
obj = importlib.import_module(module)
for attr in attrs.split("."):
    obj = getattr(obj, attr)
if not callable(obj):
    sys.exit(f"{spec} is not callable")
"""


def unit_settings(text: str) -> dict[str, str]:
    """The [Service] section's settings of a systemd unit (the last one given wins, as systemd
    has it for these keys)."""
    section, found = None, {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == "Service" and "=" in line:
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip()
    return found


def emit(name: str, passed: bool, detail: str = "", started: float | None = None) -> bool:
    seconds = round(time.monotonic() - started, 1) if started is not None else 0.0
    print(json.dumps({"name": name, "passed": passed, "detail": detail[-3000:], "seconds": seconds}), flush=True)
    return passed


def run_setup(plan: dict, prefix: str = "") -> bool:
    for name in plan["config"]:
        path = os.path.join(plan["etc"], name)
        os.chown(path, 0, _gid(plan["user"]))  # the package makes the user's group of its name
        os.chmod(path, 0o640)  # configuration holds secrets: root writes it, the service reads it
    for command in plan["setup"]:
        started = time.monotonic()
        proc = subprocess.run(["sh", "-c", command], capture_output=True, text=True, cwd="/")
        if not emit(f"{prefix}setup: {command}", proc.returncode == 0,
                    f"exit status {proc.returncode}\n{proc.stdout}{proc.stderr}", started):
            return False
    return True


DATABASE_SOCKET = "/run/mysqld/mysqld.sock"
DATABASE_PASSWORD = "smoke-only"


def start_database(plan: dict, running: list) -> bool:
    """Debian's MariaDB, as its unit starts it, but on its socket alone: the chroot shares the
    host's network, where port 3306 may be taken. One server for every service brought up (the
    first to need it starts it, into ``running``); then the service's database and user, as an
    install guide makes them."""
    name, started = plan["user"], time.monotonic()
    what = f"mariadb: started, with database {name} for user {name}"
    if not os.path.exists(DATABASE_SOCKET):  # the first service to need the server starts it
        os.makedirs("/run/mysqld", exist_ok=True)
        shutil.chown("/run/mysqld", "mysql", "mysql")
        log = "/tmp/mariadb.log"
        with open(log, "w") as out:
            proc = subprocess.Popen(["/usr/sbin/mariadbd", "--user=mysql", "--skip-networking",
                                     f"--socket={DATABASE_SOCKET}"],
                                    stdout=out, stderr=subprocess.STDOUT, cwd="/", start_new_session=True)
        running.append(proc)
        deadline = time.monotonic() + START_TIMEOUT
        while subprocess.run(["mariadb-admin", f"--socket={DATABASE_SOCKET}", "ping"], capture_output=True).returncode != 0:
            if proc.poll() is not None or time.monotonic() > deadline:
                return emit(what, False, f"mariadbd did not answer on {DATABASE_SOCKET}:\n{_tail(log)}", started)
            time.sleep(0.3)
    # The user's name may hold '-' (a system user name), which an identifier takes only quoted.
    sql = (f"CREATE DATABASE `{name}`; CREATE USER '{name}'@'localhost' IDENTIFIED BY '{DATABASE_PASSWORD}'; "
           f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{name}'@'localhost';")
    made = subprocess.run(["mariadb", f"--socket={DATABASE_SOCKET}", "-e", sql], capture_output=True, text=True)
    return emit(what, made.returncode == 0, f"{sql}\n{made.stdout}{made.stderr}", started)


# Who runs the commands of a package that makes no user (a command line, such as openstack): an
# unprivileged account, as an operator runs it.
NO_USER = "nobody"


def run_commands(plan: dict, urls: dict[str, str], logs: dict[str, str]) -> bool:
    """Each command as the service's user, in a login-less shell as its units run it, with the URL
    of each application serving beside it in its environment (``urls``); a failed one is shown
    with the tail of each of those applications' logs (``logs``: name -> file)."""
    ok = True
    user = plan["user"] or NO_USER
    for command in plan["commands"]:
        name = f"as {user}: {command['description']}"
        started = time.monotonic()
        proc = subprocess.run(["runuser", "-u", user, "--", "sh", "-c", command["run"]],
                              capture_output=True, text=True, cwd="/", env={**BASE_ENV, **urls})
        said = f"$ {command['run']}\nexit status {proc.returncode}\n{proc.stdout}{proc.stderr}"
        said += "".join(f"\n--- {app}'s log:\n{_tail(log, 1500)}" for app, log in logs.items())
        if proc.returncode != command["status"]:
            ok = emit(name, False, f"expected exit status {command['status']}, got {proc.returncode}:\n{said}", started) and ok
        elif command.get("contains") and command["contains"] not in proc.stdout + proc.stderr:
            ok = emit(name, False, f"the output does not contain {command['contains']!r}:\n{said}", started) and ok
        else:
            emit(name, True, "", started)
    return ok


def _gid(group: str) -> int:
    import grp

    return grp.getgrnam(group).gr_gid


def start(app: dict) -> tuple[subprocess.Popen | None, str]:
    """Start ``app`` from its unit, as its user; (the process, its log file) or (None, why)."""
    with open(app["unit"]) as f:
        unit = unit_settings(f.read())
    argv = shlex.split(unit["ExecStart"])
    user, group = unit.get("User", "root"), unit.get("Group", unit.get("User", "root"))
    python = os.path.join(os.path.dirname(argv[0]), "python")
    imported = subprocess.run(["runuser", "-u", user, "-g", group, "--", python, "-c", IMPORT],
                              capture_output=True, text=True, cwd=unit.get("WorkingDirectory", "/"),
                              env={**BASE_ENV, "VENVDEB_WSGI_APPLICATION": app["application"]})
    if imported.returncode != 0:
        return None, (f"{app['application']} cannot be imported as {user} by {python}:\n"
                      f"{imported.stdout}{imported.stderr}")
    log = f"/tmp/{app['name']}.log"
    env = {**BASE_ENV, "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{app['port']}"}
    with open(log, "w") as out:
        proc = subprocess.Popen(["runuser", "-u", user, "-g", group, "--", *argv], stdout=out, stderr=subprocess.STDOUT,
                                cwd=unit.get("WorkingDirectory", "/"), env=env, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None, f"{' '.join(argv)} exited with status {proc.returncode}:\n{_tail(log)}"
        try:
            socket.create_connection(("127.0.0.1", app["port"]), timeout=1).close()
            return proc, log
        except OSError:
            time.sleep(0.3)
    stop(proc)
    return None, f"{' '.join(argv)} did not listen on 127.0.0.1:{app['port']} in {START_TIMEOUT} s:\n{_tail(log)}"


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:  # it exited by itself (a server that failed to start)
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _tail(path: str, size: int = 2500) -> str:
    with open(path, errors="replace") as f:
        return f.read()[-size:]


def request(req: dict, port: int) -> tuple[int, str]:
    url = f"http://127.0.0.1:{port}{req['path']}"
    headers = {"Accept": "application/json", **req.get("headers", {})}
    data = None
    if req.get("body") is not None:
        data = req["body"].encode()
        headers.setdefault("Content-Type", "application/json")
    r = urllib.request.Request(url, data=data, headers=headers, method=req["method"])
    try:
        with urllib.request.urlopen(r, timeout=REQUEST_TIMEOUT) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def check(req: dict, port: int, log: str) -> bool:
    url = f"http://127.0.0.1:{port}{req['path']}"
    name = f"{req['wsgi']}: {req['method']} {req['path']} gives {req['status']}"
    started = time.monotonic()
    try:
        status, body = request(req, port)
    except OSError as exc:
        return emit(name, False, f"{req['method']} {url}: no answer ({exc})\n--- server log:\n{_tail(log)}", started)
    if status != req["status"]:
        return emit(name, False, f"{req['method']} {url}: expected status {req['status']}, got {status}; body:\n{body[:1500]}"
                    f"\n--- server log:\n{_tail(log, 1500)}", started)
    if req.get("contains") and req["contains"] not in body:
        return emit(name, False, f"{req['method']} {url}: status {status}, but the body does not contain "
                    f"{req['contains']!r}; body:\n{body[:1500]}", started)
    return emit(name, True, "", started)


def url_variable(app_name: str) -> str:
    """The environment variable that holds an application's URL: KEYSTONE_API_URL for keystone-api."""
    return app_name.upper().replace("-", "_") + "_URL"


def main(plan_path: str) -> int:
    with open(plan_path) as f:
        plan = json.load(f)
    running: list[subprocess.Popen] = []  # servers of the services beside it, and the database
    try:
        urls, logs = {}, {}
        for other in plan.get("beside", []):
            if not bring_up(other, running, urls, logs):
                return 1
        if plan.get("database") and not start_database(plan, running):
            return 1
        return 0 if serve_and_check(plan, urls, logs) else 1
    finally:
        for proc in reversed(running):
            stop(proc)


def bring_up(plan: dict, running: list, urls: dict[str, str], logs: dict[str, str]) -> bool:
    """A service beside the one under test, as its own smoke brings it up: its database and
    set-up, then each of its applications started and asked its requests, left serving."""
    if plan.get("database") and not start_database(plan, running):
        return False
    if not run_setup(plan, f"beside, {plan['service']}: "):
        return False
    for app in plan["apps"]:
        started = time.monotonic()
        proc, log = start(app)
        if not emit(f"beside, {plan['service']}: {app['name']} started from its unit, on 127.0.0.1:{app['port']}",
                    proc is not None, "" if proc else log, started):
            return False
        running.append(proc)
        if not all([check(req, app["port"], log) for req in plan["requests"] if req["wsgi"] == app["name"]]):
            return False
        urls[url_variable(app["name"])] = f"http://127.0.0.1:{app['port']}"
        logs[app["name"]] = log
    return True


def serve_and_check(plan: dict, urls: dict[str, str], logs: dict[str, str]) -> bool:
    if not run_setup(plan):
        return False
    ok = run_commands(plan, urls, logs)
    for app in plan["apps"]:
        started = time.monotonic()
        proc, log = start(app)
        if not emit(f"{app['name']}: started from its unit, as its user, on 127.0.0.1:{app['port']}", proc is not None,
                    "" if proc else log, started):
            ok = False
            continue
        try:
            for req in plan["requests"]:
                if req["wsgi"] == app["name"]:
                    ok = check(req, app["port"], log) and ok
        finally:
            stop(proc)
    return ok


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
