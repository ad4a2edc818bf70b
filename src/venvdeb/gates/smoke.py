"""`venvdeb smoke`: install a package with apt in a clean chroot of the target distribution.

apt is configured with a deb822 .sources entry for a suite (staging), Signed-By the
repository's keyring; the caller serves the repository and says which suite (``AptSuite``). The
candidate .deb is installed by apt from a local path (apt resolves its dependencies from the
configured suites); when the suite already holds an earlier version, that one is installed
first and the candidate upgrades it. Then: the service's own commands,
pip check, every console script's entry point, no build path in the venv, systemd-analyze
verify of the units. A service that declares functional checks is then brought up as an
operator would (api_check.py): its configuration written, its set-up commands run, each WSGI
application started from its installed unit, as its user, and asked the service's HTTP requests.
Then the same chroot is booted with its own systemd (environment/boot.py): the applications
started by systemd in their units' sandboxes and asked again, and the commands that name a unit
run under it (unit_check.py). Beside all that, at the same time, in a clean chroot of its own,
Debian's piuparts (piuparts.py): install, upgrade from the suite when it has the package, purge,
and nothing may be left behind.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import uv
from debian.debfile import DebFile

from ..deb import sources_entry
from ..environment import Environment, Image, boot, idmap, images
from ..http import free_port
from ..model import Point, Service
from ..model.results import Check, SmokeResult
from ..progress import activity, say
from . import api_check, piuparts

KEYRING_IN_CHROOT = "/etc/apt/keyrings/venvdeb.gpg"

# The unit that runs unit_check.py in the booted chroot, and powers it off when it is done.
CHECK_UNIT = "venvdeb-smoke.service"
CHECK_UNIT_TEXT = """[Unit]
Description=venvdeb smoke: the package's units under systemd
# Once the boot is done (is-system-running --wait in it would wait for itself).
After=multi-user.target
SuccessAction=poweroff
FailureAction=poweroff

[Service]
Type=oneshot
ExecStart=/usr/bin/python3 {here}/unit_check.py {here}/plan.json {report}
TimeoutStartSec=600

[Install]
WantedBy=multi-user.target
"""
BOOT_TIMEOUT = 900


@dataclass(frozen=True)
class AptSuite:
    """The suite smoke installs from, as apt in the chroot reaches it."""

    url: str
    name: str
    keyring: bytes  # the repository's public keyring


# Each console script's entry point is loaded as its generated script does it (`from <module>
# import <first attribute>`, then the remaining attributes), and in a process of its own, as the
# command runs: a module may choose process-wide state when it is imported (nova 33 picks its
# concurrency backend: eventlet for some commands, threading for others), so two commands'
# modules need not load in one interpreter. The processes run side by side, one per core.
LOAD_ENTRY_POINT = """
import importlib.metadata, sys
ep = next(e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == sys.argv[1])
first, *rest = ep.attr.split(".")
obj = getattr(__import__(ep.module, fromlist=[first]), first)
for attr in rest:
    obj = getattr(obj, attr)
if not callable(obj):
    sys.exit(f"{ep.value} is not callable")
"""

ENTRY_POINT_CHECK = """
import importlib.metadata, os, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
load, wanted = sys.argv[1], sorted(set(sys.argv[2:]))
found = {e.name for e in importlib.metadata.entry_points(group="console_scripts")}
missing = [w for w in wanted if w not in found]
if missing:
    sys.exit("no entry point for: " + ", ".join(missing))
def run(name):
    proc = subprocess.run([sys.executable, "-c", load, name], capture_output=True, text=True)
    return name, proc.returncode, (proc.stdout + proc.stderr).strip()
with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
    results = list(pool.map(run, wanted))
failed = [(name, out) for name, code, out in results if code]
for name, out in failed:
    print(f"--- {name}:\\n{out[-1500:]}")
for name, out in failed:  # last, so that the tail of the output says which and why
    print(f"{name}: entry point does not load: {(out.splitlines() or ['exit status'])[-1]}")
if failed:
    sys.exit(1)
print(f"loaded {len(results)} entry points, each in its own process")
"""


class Smoke:
    """Smoke tests of one service's package, each in a fresh chroot unpacked from ``image``."""

    def __init__(self, point: Point, service: Service, image: Image, suite: AptSuite, log=say,
                 piuparts: bool = True, beside: dict[str, Path | None] | None = None):
        self.point, self.service, self.image, self.suite, self.log = point, service, image, suite, log
        self.piuparts = piuparts  # False: a quicker smoke, for a loop of changes; never what publishes a release
        # The services its smoke brings up beside it: each one's candidate .deb (built in the same
        # run), or None to install it by name from the suite.
        beside = beside or {}
        self.beside = [(point.service(name), beside.get(name)) for name in service.smoke.beside]

    def egress(self) -> set[tuple[str, int]]:
        """What a smoke chroot may reach: Debian's mirror and the suite under test, through apt's
        proxy. Maintainer scripts and services see nothing else: not the host's web UI, workers'
        port or database, nor the rest of its network."""
        from ..environment.egress import host_port

        return self.image.mirrors() | {host_port(self.suite.url)}

    def run(self, deb: Path, previous: str | None = None) -> SmokeResult:
        """Install ``deb`` (upgrading from the suite's ``previous`` version, if given) and check
        it; beside that, piuparts' install, upgrade and purge test, in a chroot of its own.
        piuparts starts from a clean base, not from smoke's chroot: the two share nothing, and
        run at once (one waits on apt, dpkg or a server while the other computes). Its checks
        come after smoke's, as if they had run after them."""
        control = DebFile(str(deb)).debcontrol()
        result = SmokeResult(control["Package"], control["Version"])
        certified = SmokeResult(result.package, result.version)  # piuparts' own
        with ThreadPoolExecutor(max_workers=1) as pool:
            beside = pool.submit(self._piuparts, deb, certified, bool(previous)) if self.piuparts else None
            self._installed(deb, previous, result)
            if beside is not None:
                beside.result()
        result.checks.extend(certified.checks)
        return result

    def _installed(self, deb: Path, previous: str | None, result: SmokeResult) -> None:
        """apt installs ``deb`` in a fresh chroot (after the suite's ``previous``), and every
        check runs there."""
        # One activity for the chroot (each of its steps says how it went); piuparts has its own.
        with activity(f"smoke {deb.name}: apt install and checks"), \
                self.image.fresh(self.log, egress=self.egress()) as ch:
            self._configure(ch)
            self._step(result, "apt-get update", lambda: ch.run(["apt-get", "update"]))
            if not result.passed:
                return
            if previous:
                result.upgraded_from = previous
                self._step(result, f"install {result.package} {previous} from staging",
                           lambda: ch.run(["apt-get", "install", "-y", f"{result.package}={previous}"]))
            candidate = f"/tmp/candidate/{deb.name}"
            ch.write(candidate, deb.read_bytes())
            verb = "upgrade to" if previous else "install"
            self._step(result, f"{verb} {result.package} {result.version} with apt",
                       lambda: ch.run(["apt-get", "install", "-y", candidate]))
            if result.passed and self.beside:
                self._install_beside(ch, result)
            if result.passed:
                self._checks(ch, result)
            if result.passed and self.service.smoke.wanted:
                self._functional(ch, result)
            if result.passed:
                self._under_systemd(ch, result)

    def _piuparts(self, deb: Path, result: SmokeResult, upgrade_only: bool = False) -> None:
        """piuparts (piuparts.py), from a copy of the clean image with the suite's apt sources,
        in a chroot with piuparts: smoke's own has the service's state in it."""
        def step(name, action, detail=None) -> bool:
            self._step(result, name, action, detail=detail)
            return result.passed

        with self.image.tree(self.log) as clean, \
                images.with_piuparts(self.image).fresh(self.log, egress=self.egress()) as ch:
            piuparts.test(ch, clean, deb, self.image.distribution, self._apt_files(), step, upgrade_only)

    def from_suite(self, version: str) -> SmokeResult:
        """What an operator does: `apt install <package>` from the signed suite (which has ``version``)."""
        package = self.service.package
        result = SmokeResult(package, version)
        with activity(f"smoke {package} {version} from {self.suite.name}"), \
                self.image.fresh(self.log, egress=self.egress()) as ch:
            self._configure(ch)
            self._step(result, "apt-get update", lambda: ch.run(["apt-get", "update"]), show=True)
            self._step(result, f"apt install {package}", lambda: ch.run(["apt-get", "install", "-y", package]),
                       show=True)
            if result.passed and self.beside:
                self._install_beside(ch, result, show=True)
            if result.passed:
                for command in self.service.smoke_commands:
                    self._step(result, f"run: {command}", lambda c=command: ch.run(shlex.split(c)), show=True)
            if result.passed and self.service.smoke.wanted:
                self._functional(ch, result, show=True)
            if result.passed:
                self._under_systemd(ch, result)
        return result

    def _install_beside(self, ch: Environment, result: SmokeResult, show: bool = False) -> None:
        """The services brought up beside this one, with apt: each one's candidate, or from the suite."""
        wanted = []
        for other, deb in self.beside:
            if deb is None:
                wanted.append(other.package)
            else:
                wanted.append(f"/tmp/candidate/{deb.name}")
                ch.write(wanted[-1], deb.read_bytes())
        names = ", ".join(other.package for other, _ in self.beside)
        self._step(result, f"install {names} beside it, with apt",
                   lambda: ch.run(["apt-get", "install", "-y", *wanted]), show=show)

    def _plan(self, ch: Environment, service: Service, apps: list[str]) -> dict:
        """What api_check.py does for ``service``: its configuration is written here, its
        applications in ``apps`` get a free port each."""
        spec, etc = service.smoke, f"/etc/{service.name}"
        for name, text in spec.config:
            ch.write(f"{etc}/{name}", text, mode=0o640)
        # The chroot shares the host's network: a service's own port (keystone's 5000) may be
        # taken on a build host.
        return {"service": service.name, "etc": etc, "user": service.user, "database": spec.database,
                "config": [name for name, _ in spec.config], "setup": list(spec.setup),
                # Those run under a unit run in the booted chroot (_under_systemd).
                "commands": [asdict(c) for c in spec.commands if not c.unit],
                "apps": [{"name": a.name, "application": a.application, "port": free_port(),
                          "unit": f"/lib/systemd/system/{a.name}.service"} for a in service.wsgi if a.name in apps],
                "requests": [r.as_dict() for r in spec.requests]}

    def _functional(self, ch: Environment, result: SmokeResult, show: bool = False) -> None:
        services = [self.service] + [other for other, _ in self.beside]
        if any(s.smoke.database == "mariadb" for s in services):
            # Debian's server, from the mirror as on a host. The chroot's policy-rc.d keeps its
            # postinst from starting it; api_check starts it on its socket, before the set-up.
            self._step(result, "install mariadb-server for the service's database",
                       lambda: ch.run(["apt-get", "install", "-y", "mariadb-server"]), show=show)
            if not result.passed:
                return
        plan = self._plan(ch, self.service, [r.wsgi for r in self.service.smoke.requests])
        # A service beside this one serves every application it has, for this one's commands.
        plan["beside"] = [self._plan(ch, other, [a.name for a in other.wsgi]) for other, _ in self.beside]
        ch.write("/tmp/venvdeb-api-check.json", json.dumps(plan, indent=1))
        ch.write("/tmp/venvdeb-api-check.py", Path(api_check.__file__).read_bytes())
        proc = ch.run(["/usr/bin/python3", "/tmp/venvdeb-api-check.py", "/tmp/venvdeb-api-check.json"])
        reported = []
        for line in proc.stdout.splitlines():
            try:
                reported.append(Check(**json.loads(line)))
            except (ValueError, TypeError):
                continue
        for check in reported:
            self._report(check, check.detail if show and not check.passed else "")
        result.checks.extend(reported)
        if proc.returncode != 0 and all(c.passed for c in reported):
            result.checks.append(Check("functional checks", False, (proc.stdout + proc.stderr)[-2500:]))

    def _under_systemd(self, ch: Environment, result: SmokeResult) -> None:
        """The chroot, as the checks above left it, booted with its own systemd (boot.py): the
        service's applications started by systemd, each in its unit's sandbox, and asked their
        requests; the commands that name a unit run under it (unit_check.py). What the booted
        system writes in its report (a host directory bound in) is read back as data, as
        api_check's output is."""
        spec, started = self.service.smoke, time.monotonic()
        wanted = {r.wsgi for r in spec.requests}
        plan = {"database": {"mariadb": "mariadb.service"}.get(spec.database or ""),
                "apps": [{"name": a.name, "port": a.port} for a in self.service.wsgi if a.name in wanted],
                "requests": [r.as_dict() for r in spec.requests],
                "commands": [asdict(c) for c in spec.commands if c.unit]}
        if not plan["apps"] and not plan["commands"]:  # nothing of the service's to run under systemd
            return
        here = "/usr/lib/venvdeb-smoke"
        ch.write(f"{here}/plan.json", json.dumps(plan, indent=1))
        # unit_check.py imports api_check.py as its neighbour: it is never imported here.
        ch.write(f"{here}/unit_check.py", Path(api_check.__file__).with_name("unit_check.py").read_bytes())
        ch.write(f"{here}/api_check.py", Path(api_check.__file__).read_bytes())
        ch.write(f"/etc/systemd/system/{CHECK_UNIT}", CHECK_UNIT_TEXT.format(here=here, report=f"{boot.REPORT_DIR}/{boot.REPORT}"))
        enabled = ch.run(["systemctl", "enable", CHECK_UNIT])
        if enabled.returncode != 0:
            result.checks.append(Check(f"systemctl enable {CHECK_UNIT}", False, enabled.stdout + enabled.stderr))
            return
        with activity(f"smoke {result.package}: booted with systemd"):
            booted, report = boot.boot(ch.root, ch.base, idmap.DEFAULT_RANGE[1], timeout=BOOT_TIMEOUT)
        reported, done = read_report(report)
        for check in reported:
            self._report(check)
        result.checks.extend(reported)
        if done is None or (not done and all(c.passed for c in reported)):
            result.checks.append(Check("booted with systemd: the check unit ran to its end", False,
                                       (report + booted.stdout)[-2500:], round(time.monotonic() - started, 1)))

    def _apt_files(self) -> dict[str, bytes]:
        return apt_files(self.suite)

    def _configure(self, ch: Environment) -> None:
        for path, data in self._apt_files().items():
            ch.write(path, data)

    def _step(self, result: SmokeResult, name: str, action, show: bool = False, detail=None) -> None:
        """``detail(output, passed)``: what of the command's output to keep (unless told: the
        tail of a failed one's, nothing of a passed one's)."""
        started = time.monotonic()
        proc = action()
        ok = proc.returncode == 0
        said = proc.stdout + proc.stderr
        detail = detail(said, ok) if detail else ("" if ok else said[-2500:])
        check = Check(name, ok, detail, round(time.monotonic() - started, 1))
        result.checks.append(check)
        # With show, the demo shows what apt and the commands said.
        self._report(check, said.strip() if show else "")

    def _report(self, check: Check, said: str = "") -> None:
        self.log(f"smoke: {'ok  ' if check.passed else 'FAIL'} {check.name}")
        for line in said.splitlines()[-12:]:
            self.log(f"    | {line}")

    def _checks(self, ch: Environment, result: SmokeResult) -> None:
        venv = f"/usr/lib/venvs/{self.service.name}"
        for command in self.service.smoke_commands:
            self._step(result, f"run: {command}", lambda c=command: ch.run(shlex.split(c)))
        # pip's check, by uv from outside the venv: the venv holds its wheels and no pip (rules.j2).
        self._step(result, "pip check", lambda: ch.run([ch.stage(Path(uv.find_uv_bin())), "pip", "check", "--python",
                                                        f"{venv}/bin/python"], setenv={"UV_NO_CACHE": "1"}))
        if self.service.console_scripts:
            self._step(result, "console scripts' entry points import",
                       lambda: ch.run([f"{venv}/bin/python", "-c", ENTRY_POINT_CHECK, LOAD_ENTRY_POINT,
                                          *self.service.console_scripts]))
        # A build tree path always contains debian/<package>/ before the venv's path.
        self._step(result, "no file in the venv names the build path",
                   lambda: _inverted(ch.run(["grep", "-rlF", f"debian/{self.service.package}{venv}", venv])))
        if self.service.helpers:
            sudoers = f"/etc/sudoers.d/{self.service.name}"
            self._step(result, f"{sudoers}: mode 0440, and visudo -cf parses it",
                       lambda: _mode_and_visudo(ch, sudoers))
        units = [f"/lib/systemd/system/{d.name}.service" for d in self.service.daemons + self.service.wsgi]
        if units:
            if ch.exists("/usr/bin/systemd-analyze"):
                self._step(result, "systemd-analyze verify",
                           lambda: ch.run(["systemd-analyze", "verify", "--man=no", *units]))
            else:
                result.checks.append(Check("systemd-analyze verify", True, "skipped: not in the chroot"))


def apt_files(suite: AptSuite) -> dict[str, bytes]:
    """apt's configuration for the suite under test: its sources entry and keyring."""
    return {KEYRING_IN_CHROOT: suite.keyring,
            "/etc/apt/sources.list.d/venvdeb.sources": sources_entry(suite.url, suite.name, KEYRING_IN_CHROOT).encode(),
            "/etc/apt/apt.conf.d/90venvdeb":
                b'Acquire::Languages "none";\nAPT::Install-Recommends "false";\n'
                # a chroot has no /dev/pts: dpkg's output is logged without one
                b'Dpkg::Use-Pty "0";\n',
            # No fsync for every file a package unpacks (a venv has thousands): the chroot is
            # thrown away, as mmdebstrap's is while it installs.
            "/etc/dpkg/dpkg.cfg.d/venvdeb-unsafe-io": b"force-unsafe-io\n"}


def read_report(report: str) -> tuple[list[Check], bool | None]:
    """The checks a booted system's report gives (one JSON line each), and its last word
    ({"done": ...}; None if it never said it). Read as data: a line that is no check is skipped."""
    reported, done = [], None
    for line in report.splitlines():
        try:
            found = json.loads(line.strip())
        except ValueError:
            continue
        if isinstance(found, dict) and set(found) == {"done"}:
            done = found["done"] is True
        elif isinstance(found, dict):
            with contextlib.suppress(TypeError):
                reported.append(Check(**found))
    return reported, done


def _mode_and_visudo(ch: Environment, sudoers: str):
    """sudo ignores a file in /etc/sudoers.d that others may write, and cannot use one it
    fails to parse: both are checked as installed."""
    proc = ch.run(["visudo", "-cf", sudoers])
    mode = ch.path(sudoers).stat().st_mode & 0o7777 if ch.exists(sudoers) else None
    if mode != 0o440:
        proc.returncode = proc.returncode or 1
        proc.stdout += f"\n{sudoers}: mode {oct(mode) if mode is not None else 'missing'}, expected 0o440\n"
    return proc


def _inverted(proc):
    """grep finds nothing (1): the check passes; it finds something (0): it fails, listing it."""
    proc.returncode = {0: 1, 1: 0}.get(proc.returncode, proc.returncode)
    return proc
