"""The cloud gate's controller, brought up in the booted chroot (environment/boot.py) and used
as a user would: every service of a point on one host, with one MariaDB, one RabbitMQ and one
memcached, each API checking tokens with keystone.

usage: python3 cloud_check.py PLAN.json REPORT

Run as a oneshot unit of the booted system; the plan (cloud_config.py) gives, in order: Debian's
servers to start; the databases, each with its service's user; RabbitMQ's user; then each
service: its configuration's ownership, its set-up (database migrations, keystone's bootstrap),
its units started by systemd, as their users, the applications waited for on their port. Once
the identity service is up, every other service is registered in its catalog (a user in the
service project with the admin role, the service, its public, internal and admin endpoints), as
the install guide has it, and the scenario's project and user are made. Then the scenario's
steps, in order, each as the scenario's user (or the admin): a script with OS_* set, or an HTTP
request; the first that fails stops the scenario, with its command, its output and the journals
of the services it needs. With an upgrade walk in the plan, each service is then upgraded to the
next release in turn (``upgrade``). Booted again after its operating system's upgrade
(``rebooted``), the controller is started again instead, and what the first boot made is read back
before the scenario runs again. Last, every unit started must be running, never restarted.

Standard library only, beside api_check.py and unit_check.py, whose report format it shares: one
JSON line per check in REPORT, and last {"done": true|false}.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_check  # noqa: E402  (beside this file in the booted system)
import unit_check  # noqa: E402

DETAIL = 40000  # what of a failure is kept: its command's output, and the journals of the services it needs
WORK = "/var/lib/venvdeb-cloud"
DOUBLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "doubles")
STEP_USER = "nobody"  # the scenario's commands run unprivileged, as an operator's workstation would
STEP_TIMEOUT = 900
SETTLE = 5  # seconds a daemon must stay active after it started
JOURNAL_LAG = 2  # seconds for journald to take in what a unit wrote just before a step failed


def emit(name: str, passed: bool, detail: str = "", started: float | None = None) -> bool:
    """api_check.emit's line, with more of a failure kept."""
    seconds = round(time.monotonic() - started, 1) if started is not None else 0.0
    print(json.dumps({"name": name, "passed": passed, "detail": detail[-DETAIL:], "seconds": seconds}), flush=True)
    return passed


def sh(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, **kwargs)


def infrastructure(plan: dict) -> bool:
    for unit in plan["infrastructure"]:
        started = time.monotonic()
        why = unit_check.start_unit(unit)
        if not emit(f"{unit} started by systemd", why is None, why or "", started):
            return False
    return True


def databases(plan: dict) -> bool:
    for db in plan["databases"]:
        started = time.monotonic()
        sql = (f"CREATE DATABASE IF NOT EXISTS `{db['name']}`; "
               + "".join(f"CREATE USER IF NOT EXISTS '{db['user']}'@'{host}' IDENTIFIED BY '{db['password']}'; "
                         f"GRANT ALL PRIVILEGES ON `{db['name']}`.* TO '{db['user']}'@'{host}'; "
                         for host in ("localhost", "%")))
        made = sh(["mariadb", "-e", sql])
        if not emit(f"mariadb: database {db['name']}, for user {db['user']}", made.returncode == 0,
                    made.stdout + made.stderr, started):
            return False
    return True


def rabbit(plan: dict) -> bool:
    started = time.monotonic()
    user = plan["rabbit"]
    for argv in (["rabbitmqctl", "add_user", user["user"], user["password"]],
                 ["rabbitmqctl", "set_permissions", user["user"], ".*", ".*", ".*"]):
        proc = sh(argv)
        if proc.returncode != 0:
            return emit(f"rabbitmq: user {user['user']}", False,
                        f"$ {' '.join(argv[:3])} ...\nexit status {proc.returncode}\n{proc.stdout}{proc.stderr}", started)
    return emit(f"rabbitmq: user {user['user']}, with every permission on /", True, "", started)


def with_doubles(unit: str) -> None:
    """``unit``'s command (as its installed file has it) run with the gate's doubles on its Python
    path, through a drop-in: env(1) after setpriv where the unit becomes its user with it (setpriv
    --reset-env clears what Environment= would set)."""
    with open(f"/lib/systemd/system/{unit}") as f:
        command = api_check.unit_settings(f.read())["ExecStart"]
    becomes = unit_check.becomes_its_user(unit)
    command = f"{becomes}/usr/bin/env PYTHONPATH={DOUBLES} {command.removeprefix(becomes)}"
    drop_in = f"/run/systemd/system/{unit}.d/zz-venvdeb-cloud-doubles.conf"
    os.makedirs(os.path.dirname(drop_in), exist_ok=True)
    with open(drop_in, "w") as f:
        f.write(f"[Service]\nExecStart=\nExecStart={command}\n")
    unit_check.systemctl("daemon-reload")


def bring_up(service: dict) -> bool:
    name = service["name"]
    if not api_check.run_setup(service, prefix=f"{name}: "):
        return False
    for unit in service["doubles"]:
        with_doubles(unit)
    return start_units(service)


def start_units(service: dict) -> bool:
    name = service["name"]
    for unit in service["units"]:
        started = time.monotonic()
        why = unit_check.start_unit(unit["name"], unit["port"])
        if why is None and unit["port"] is None:  # a daemon: still running a moment later
            time.sleep(SETTLE)
            if unit_check.systemctl("is-active", "--quiet", unit["name"]).returncode != 0:
                why = f"{unit['name']} stopped after it started:\n{unit_check.journal(unit['name'])}"
        where = f" on port {unit['port']}" if unit["port"] else ""
        if not emit(f"{name}: {unit['name']} started by systemd{where}", why is None, why or "", started):
            return False
    return True


class Keystone:
    """keystone's API, as its admin: what the install guide does with `openstack` before any
    other service is configured."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.token = ""

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict, dict]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        token = self.token if token is None else token
        if token:
            headers["X-Auth-Token"] = token
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=api_check.REQUEST_TIMEOUT) as response:
                text = response.read().decode()
                return response.status, dict(response.headers), json.loads(text) if text else {}
        except urllib.error.HTTPError as exc:
            text = exc.read().decode(errors="replace")
            raise RuntimeError(f"{method} {self.url}{path}: {exc.code}\n{text[:1500]}") from None

    def login(self, user: str, password: str, project: str) -> str:
        _, headers, _ = self.call("POST", "/auth/tokens", {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}, token="")
        return headers.get("X-Subject-Token", "")

    def make(self, collection: str, body: dict) -> str:
        _, _, made = self.call("POST", f"/{collection}", {collection[:-1]: body})
        return made[collection[:-1]]["id"]

    def role(self, name: str) -> str:
        """The role ``name``, made if keystone's bootstrap did not make it."""
        _, _, found = self.call("GET", f"/roles?name={name}")
        return found["roles"][0]["id"] if found["roles"] else self.make("roles", {"name": name})

    def user_in(self, project: str, name: str, password: str, *roles: str) -> None:
        user = self.make("users", {"name": name, "password": password, "domain_id": "default"})
        for role in roles:
            self.call("PUT", f"/projects/{project}/users/{user}/roles/{role}")


def register(plan: dict) -> tuple[bool, dict[bool, str]]:
    """Every other service in keystone's catalog, and the scenario's project and user; the tokens
    of the scenario's user (False) and of the admin (True)."""
    started = time.monotonic()
    keystone = Keystone(plan["keystone"]["url"])
    try:
        keystone.token = keystone.login("admin", plan["keystone"]["admin_password"], "admin")
        # A service's user has the admin role, and the service role that service tokens carry
        # (nova sends one with each call to cinder and neutron), in the service project.
        admin, member, service_role = keystone.role("admin"), keystone.role("member"), keystone.role("service")
        service_project = keystone.make("projects", {"name": "service", "domain_id": "default"})
        for entry in plan["registrations"]:
            keystone.user_in(service_project, entry["user"], entry["password"], admin, service_role)
            service = keystone.make("services", {"type": entry["type"], "name": entry["service"]})
            for interface in ("public", "internal", "admin"):
                keystone.make("endpoints", {"service_id": service, "interface": interface, "url": entry["url"],
                                            "region_id": plan["region"]})
        emit("keystone: " + ", ".join(f"{e['service']} ({e['type']})" for e in plan["registrations"])
             + " registered, each with its user in the service project" if plan["registrations"]
             else "keystone: no other service to register", True, "", started)
        started = time.monotonic()
        scenario = plan["scenario"]
        project = keystone.make("projects", {"name": scenario["project"], "domain_id": "default"})
        keystone.user_in(project, scenario["user"], scenario["password"], member)
        token = keystone.login(scenario["user"], scenario["password"], scenario["project"])
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        return emit("keystone: the other services and the scenario's user registered", False, str(exc), started), {}
    return emit(f"keystone: project {scenario['project']} with user {scenario['user']} (member), who gets a token",
                bool(token), "", started), {False: token, True: keystone.token}


def login(plan: dict) -> tuple[bool, dict[bool, str]]:
    """The tokens of the scenario's user (False) and of the admin (True), from a keystone that
    has both already."""
    started, keystone, scenario = time.monotonic(), Keystone(plan["keystone"]["url"]), plan["scenario"]
    try:
        tokens = {True: keystone.login("admin", plan["keystone"]["admin_password"], "admin"),
                  False: keystone.login(scenario["user"], scenario["password"], scenario["project"])}
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        return emit("keystone: the admin and the scenario's user get a token", False, str(exc), started), {}
    return emit(f"keystone: the admin and {scenario['user']}, made before, get a token", all(tokens.values()), "",
                started), tokens


def environment(plan: dict, admin: bool, run: int) -> dict:
    scenario = plan["scenario"]
    user, password, project = (("admin", plan["keystone"]["admin_password"], "admin") if admin
                               else (scenario["user"], scenario["password"], scenario["project"]))
    return {**api_check.BASE_ENV, "HOME": f"{WORK}/home", "OS_AUTH_URL": plan["keystone"]["url"],
            "OS_IDENTITY_API_VERSION": "3", "OS_USERNAME": user, "OS_PASSWORD": password,
            "OS_PROJECT_NAME": project, "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
            "OS_REGION_NAME": plan["region"], "OS_INTERFACE": "public", "RUN": str(run), "FIRST": "1",
            **{api_check.url_variable(app): f"http://{plan['host']}:{port}" for app, port in plan["ports"].items()}}


def logs_of(plan: dict, names: list[str]) -> str:
    """The journal's tail of each unit of the services ``names``, the last named last (the
    one a step needs last is the likeliest to say why it failed)."""
    time.sleep(JOURNAL_LAG)
    services = [s for name in names for s in plan["services"] if s["name"] == name]
    return "".join(f"\n--- journal of {u['name']}:\n{unit_check.journal(u['name'], 6000)}"
                   for s in services for u in s["units"])


def run_step(plan: dict, number: int, step: dict, tokens: dict[bool, str], run: int = 1, verify: bool = False) -> bool:
    """The step's script (or request), in the scenario's ``run``; with ``verify``, its verify script:
    what the first run made reads back the same."""
    name = (f"verify (run {run}): what the first run made reads back the same: {step['name']}" if verify
            else f"scenario{'' if run == 1 else f' (run {run})'}: {step['name']}")
    started = time.monotonic()
    logs = lambda: logs_of(plan, step["needs"])  # noqa: E731 (read only when the step fails)
    if step["request"]:
        req = step["request"]
        port = plan["ports"][req["api"]]
        headers = {"X-Auth-Token": tokens[step["admin"]]} if req["token"] else {}
        try:
            status, body = api_check.request({"path": req["path"], "method": req["method"], "headers": headers}, port)
        except OSError as exc:
            return emit(name, False, f"{req['method']} {req['path']} on port {port}: no answer ({exc}){logs()}", started)
        whose = ("the admin's token" if step["admin"] else "the user's token") if req["token"] else "no token"
        said = f"{req['method']} http://{plan['host']}:{port}{req['path']} ({whose})\nstatus {status}\n{body[:1500]}"
        if status != step["status"]:
            return emit(name, False, f"expected status {step['status']}:\n{said}{logs()}", started)
    else:
        text = step["verify"] if verify else step["run"]
        script = f"{WORK}/step-{number}-{run}{'-verify' if verify else ''}.sh"
        with open(script, "w") as f:
            f.write("set -e\n" + text + "\n")
        os.chmod(script, 0o644)
        try:
            proc = sh(["runuser", "-u", STEP_USER, "--", "sh", script], env=environment(plan, step["admin"], run),
                      cwd=f"{WORK}/home", timeout=STEP_TIMEOUT)
            status, said = proc.returncode, f"$ {text}\nexit status {proc.returncode}\n{proc.stdout}{proc.stderr}"
        except subprocess.TimeoutExpired as exc:
            status, said = -1, f"$ {text}\nstill running after {STEP_TIMEOUT} s\n{exc.stdout or ''}"
        if verify:
            return emit(name, status == 0, said[-3000:] + (logs() if status else ""), started)
        if status != step["status"]:
            return emit(name, False, f"expected exit status {step['status']}:\n{said[-3000:]}{logs()}", started)
    if step["contains"] and step["contains"] not in said:
        return emit(name, False, f"the output does not contain {step['contains']!r}:\n{said[-3000:]}{logs()}", started)
    return emit(name, True, said[-600:], started)


def scenario(plan: dict, tokens: dict[bool, str], run: int = 1) -> bool:
    """The scenario's steps in order; the first that fails stops it."""
    for number, step in enumerate(plan["steps"]):
        if step["skip"]:
            if run == 1:
                emit(f"scenario: {step['name']} (not run: {step['skip']})", True)
            continue
        if not run_step(plan, number, step, tokens, run):
            return False
    return True


APT_ENV = {**api_check.BASE_ENV, "DEBIAN_FRONTEND": "noninteractive"}


def upgrade(plan: dict, tokens: dict[bool, str]) -> bool:
    """One service after another to the next release, as its upgrade guide has it: its units
    stopped, its package installed with apt (from what the host downloaded before the boot: this
    system has no network), its migrations, its units started, its online migrations. After each:
    what the first run made reads back the same, the scenario runs again, and every other package
    is at the version it should be."""
    walk = plan["upgrade"]
    installed = dict(walk["installed"])
    for run, service in enumerate(walk["services"], start=2):
        name, started = service["name"], time.monotonic()
        for unit in reversed(service["units"]):
            unit_check.systemctl("stop", unit["name"])
        proc = sh(["apt-get", "install", "-y", "--no-download", "-o", f"Dir::Cache::archives={walk['archives']}",
                   "-o", "Dpkg::Options::=--force-confold", f"{service['package']}={service['to']}"], env=APT_ENV)
        if not emit(f"upgrade {name} to {walk['to']}: {service['package']} {service['from']} -> {service['to']}, "
                    f"with apt", proc.returncode == 0, proc.stdout[-3000:] + proc.stderr, started):
            return False
        installed[service["package"]] = service["to"]
        for command in service["upgrade"]:
            if not shell(f"upgrade {name}: {command}", command):
                return False
        if not start_units(service):
            return False
        for command in service["online"]:
            if not shell(f"upgrade {name}: {command}", command):
                return False
        still = sorted(p for p, v in installed.items() if v == walk["installed"][p])
        if not at_versions(installed, f"after {name}'s upgrade, still at {walk['from']}: {', '.join(still) or 'none'}"):
            return False
        if not read_back(plan, tokens, run):
            return False
        if not scenario(plan, tokens, run):
            return False
    return True


def shell(name: str, command: str) -> bool:
    started = time.monotonic()
    proc = sh(["sh", "-c", command], cwd="/")
    return emit(name, proc.returncode == 0, f"exit status {proc.returncode}\n{proc.stdout}{proc.stderr}", started)


def at_versions(installed: dict[str, str], name: str) -> bool:
    """Every package of the cloud at the version ``installed`` has it at (dpkg's word)."""
    started, wrong = time.monotonic(), []
    for package, version in sorted(installed.items()):
        found = sh(["dpkg-query", "-W", "-f", "${Version}", package]).stdout.strip()
        if found != version:
            wrong.append(f"{package}: {found or 'not installed'}, expected {version}")
    return emit(name, not wrong, "\n".join(wrong), started)


def rebooted(plan: dict) -> tuple[bool, dict[bool, str]]:
    """The controller booted again after its operating system's upgrade: Debian's servers and every
    unit started again (the data and the configuration are the first boot's; RabbitMQ's store
    starts afresh, so its user is made again), every package at its build for the new
    distribution, and what the scenario made reads back the same. The tokens, for the scenario."""
    walk = plan["rebooted"]
    started = time.monotonic()
    codename = sh(["sh", "-c", ". /etc/os-release && echo $VERSION_CODENAME"]).stdout.strip()
    python = sh(["/usr/bin/python3", "--version"]).stdout.strip()
    if not emit(f"the controller runs {walk['distribution']} ({codename}, {python})", codename == walk["distribution"],
                f"/etc/os-release says {codename!r}", started):
        return False, {}
    for unit in (u for s in plan["services"] for u in s["doubles"]):
        with_doubles(unit)  # the drop-in is in /run, which the reboot emptied
    if not (infrastructure(plan) and rabbit(plan) and all(start_units(s) for s in plan["services"])):
        return False, {}
    ok, tokens = login(plan)
    if not (ok and at_versions(walk["installed"], f"every package at its {walk['distribution']} build: "
                               + ", ".join(f"{p} {v}" for p, v in walk["installed"].items()))):
        return False, tokens
    return read_back(plan, tokens, 2), tokens


def read_back(plan: dict, tokens: dict[bool, str], run: int) -> bool:
    """Each step's verify script, in order: what the first run made reads back the same; the first
    that fails stops."""
    return all(run_step(plan, number, step, tokens, run, verify=True) for number, step in enumerate(plan["steps"])
               if step["verify"] and not step["skip"])


SCREENSHOT, PAGE = "instances.png", "instances.html"  # in the report's directory, for the host


def screenshot(plan: dict) -> bool:
    """Horizon's instances page as the scenario's user sees it, drawn by chromium in this system:
    the page signed in and fetched, its stylesheets (served by a web server in front of horizon,
    which this controller has not) put inline from the venv's collected static files."""
    import glob
    import http.cookiejar
    import re
    import shutil
    import urllib.parse

    started = time.monotonic()
    base = f"http://{plan['host']}:{plan['ports'][plan['screenshot']]}"
    web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(path, data=None):
        request = urllib.request.Request(base + path, data, headers={"Referer": base + "/auth/login/"})
        with web.open(request, timeout=api_check.REQUEST_TIMEOUT) as answer:
            return answer.read().decode()

    try:
        form = dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', get("/auth/login/")))
        form.update(username=plan["scenario"]["user"], password=plan["scenario"]["password"])
        get("/auth/login/", urllib.parse.urlencode(form).encode())
        page = get("/project/instances/")
    except OSError as exc:
        return emit("horizon's instances page: a screenshot", False, str(exc), started)
    static = (glob.glob("/usr/lib/venvs/horizon/lib/python3*/site-packages/static") or ["/nonexistent"])[0]

    def inline(found):
        path = os.path.join(static, found[1])
        return f"<style>{open(path, errors='replace').read()}</style>" if os.path.isfile(path) else ""

    page = re.sub(r'<link[^>]*href="/static/([^"]+\.css)"[^>]*>', inline, page)
    page = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    # Horizon hides the page until its script sees it is not in a frame (anti-clickjacking): with
    # no scripts here, the style that hides it goes too.
    page = re.sub(r'<style id="anti-clickjack">.*?</style>', "", page, flags=re.S)
    html, png = f"{WORK}/home/{PAGE}", f"{WORK}/home/{SCREENSHOT}"
    with open(html, "w") as f:
        f.write(page)
    os.chmod(html, 0o644)
    proc = sh(["runuser", "-u", STEP_USER, "--", "chromium", "--headless", "--no-sandbox", "--disable-gpu",
               f"--user-data-dir={WORK}/home/chromium", "--hide-scrollbars", "--window-size=1280,800",
               f"--screenshot={png}", f"file://{html}"],
              env={**api_check.BASE_ENV, "HOME": f"{WORK}/home"}, timeout=STEP_TIMEOUT)
    if proc.returncode != 0 or not os.path.isfile(png):
        return emit("horizon's instances page: a screenshot", False, proc.stdout + proc.stderr, started)
    shutil.copyfile(png, os.path.join(os.path.dirname(REPORT), SCREENSHOT))
    shutil.copyfile(html, os.path.join(os.path.dirname(REPORT), PAGE))
    return emit(f"horizon's instances page, as {plan['scenario']['user']} sees it: a screenshot "
                f"({os.path.getsize(png)} bytes)", True, "", started)


def still_running(plan: dict) -> bool:
    """Every unit the gate started is running still, and systemd never restarted it: a daemon that
    fails on its first request (and is restarted) would pass every check of its start."""
    started, wrong = time.monotonic(), []
    units = [u["name"] for s in plan["services"] for u in s["units"]]
    for unit in units:
        props = dict(line.partition("=")[::2] for line in unit_check.systemctl(
            "show", "--property=ActiveState,NRestarts", unit).stdout.splitlines())
        if props.get("ActiveState") != "active" or props.get("NRestarts") != "0":
            wrong.append(f"{unit}: {props.get('ActiveState')}, restarted {props.get('NRestarts')} times\n"
                         f"{unit_check.journal(unit, 2000)}")
    return emit(f"every unit started ({len(units)}) still runs, and none was restarted", not wrong,
                "\n".join(wrong), started)


REPORT = ""  # the report's path, given on the command line


def main(plan_path: str, report: str) -> int:
    global REPORT
    REPORT = report
    with open(plan_path) as f:
        plan = json.load(f)
    sys.stdout = open(report, "a", buffering=1)  # emit prints its lines
    os.makedirs(unit_check.OUTPUT, mode=0o755, exist_ok=True)
    os.makedirs(f"{WORK}/home", mode=0o755, exist_ok=True)
    os.chown(f"{WORK}/home", *(int(sh(["id", flag, STEP_USER]).stdout) for flag in ("-u", "-g")))
    if plan.get("rebooted"):
        ok, tokens = rebooted(plan)
        ok = ok and scenario(plan, tokens, run=2)
    else:
        ok = infrastructure(plan) and databases(plan) and rabbit(plan)
        tokens: dict[bool, str] = {}
        for service in plan["services"] if ok else []:
            ok = bring_up(service)
            if ok and service["identity"]:
                ok, tokens = register(plan)
            if not ok:
                break
        ok = ok and scenario(plan, tokens)
    if ok and plan.get("screenshot"):
        screenshot(plan)  # a picture for a person; the gate's verdict is the scenario's
    ok = ok and (not plan.get("upgrade") or upgrade(plan, tokens))
    ok = ok and still_running(plan)
    print(json.dumps({"done": ok}), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
