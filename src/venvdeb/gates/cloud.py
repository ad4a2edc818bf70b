"""`venvdeb cloud`: a point's services installed together from its staging suite on one
controller, and used as a user of that cloud would.

In a clean chroot of the point's distribution, isolated as smoke's is (its own user namespace,
apt reaching only Debian's mirror and the suite): apt installs exactly the staged version of each
service package, with Debian's MariaDB, RabbitMQ and memcached. Each service's configuration is
rendered from its ``[cloud]`` declarations (cloud_config.py) and written in /etc as an operator
writes it. Then the chroot is booted with its own systemd (environment/boot.py), where
cloud_check.py brings the controller up as the install guide does and runs the scenario of
packaging/cloud.toml. What the booted system reports is read back as data.

Two walks follow the scenario on request. To the next release: each service upgraded in turn in the
booted system, from packages downloaded before the boot (it has no network). To the next Debian
release, at the same release of the services: the controller powered off, its operating system
upgraded as Debian's release notes have it (sources to the new codename, then ``apt upgrade
--without-new-pkgs`` and ``apt full-upgrade``), the point's own builds for that distribution
replacing the venv packages, and the controller booted again on it: the resources the scenario
made read back the same, and the scenario runs again.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from ..deb import sources_entry
from ..environment import Image, boot, idmap
from ..environment.egress import host_port
from ..environment.images import apt_sources
from ..model import Point, Service
from ..model.cloud import Step
from ..model.results import Check, CloudResult
from ..progress import activity, say
from . import api_check, cloud_check, unit_check
from .cloud_config import HOST, INFRASTRUCTURE, Controller, Secrets
from .smoke import KEYRING_IN_CHROOT, AptSuite, apt_files, read_report

HERE = "/usr/lib/venvdeb-cloud"
# Stand-ins for hardware a chroot has not, put on the Python path of the units that ask (cloud_check.py).
DOUBLES = Path(__file__).with_name("doubles")

ARCHIVES = "/var/lib/venvdeb-cloud/archives"  # the next release's packages, for the upgrade walk
NEXT_SOURCES = "/etc/apt/sources.list.d/venvdeb-next.sources"
CHECK_UNIT = "venvdeb-cloud.service"
PNG = b"\x89PNG\r\n\x1a\n"
CHECK_UNIT_TEXT = """[Unit]
Description=venvdeb cloud gate: the controller brought up, and the scenario
After=multi-user.target
SuccessAction=poweroff
FailureAction=poweroff

[Service]
Type=oneshot
ExecStart=/usr/bin/python3 {here}/cloud_check.py {here}/plan.json {report}
TimeoutStartSec={timeout}

[Install]
WantedBy=multi-user.target
"""
CHECK_TIMEOUT = 2400
BOOT_TIMEOUT = CHECK_TIMEOUT + 300


# RabbitMQ has no upgrade path from bookworm's 3.10 to trixie's 4.0 (4.0 needs feature flags that
# 3.10 never had). OpenStack keeps nothing in it that its services do not declare again when they
# connect: the node starts afresh, and its user is made again.
RABBIT_STORE = "/var/lib/rabbitmq/mnesia"
# Debian's release notes: the packages already there upgraded first, then the rest of the release.
DIST_UPGRADE = (["apt-get", "upgrade", "-y", "--without-new-pkgs"], ["apt-get", "full-upgrade", "-y"])
KEEP_CONFIG = ["-o", "Dpkg::Options::=--force-confold", "-o", "Dpkg::Options::=--force-confdef"]


@dataclass(frozen=True)
class Walk:
    """Where the cloud is upgraded to: the next release's point (one service at a time), or the
    same release's point on the next Debian release (the operating system). Its point, the
    version of each package there, and its suite."""

    to: Point
    versions: dict[str, str]
    suite: AptSuite

    def of_the_system(self, point: Point) -> bool:
        """Whether this walk upgrades ``point``'s operating system, not its services' release."""
        return self.to.distribution != point.distribution


def inputs(services: list[Service], scenario: tuple[Step, ...]) -> str:
    """A digest of what the gate puts in the controller, its secrets aside: each configuration
    file, the plan the check follows (the scenario's steps in it), the check's code and its unit,
    what it installs beside the services, and the code that does all that and boots it. Two runs
    with the same digest and the same package files are the same test (``venvdeb cloud
    --only-if-changed``); Debian's own packages are the mirror's of the day, as in every gate."""
    controller = Controller([s for s in services if s.system_user], Secrets(placeholders=True),
                            commands=[s.name for s in services if not s.system_user])
    digest = hashlib.sha256()
    for path, text in controller.files():
        digest.update(f"{path}\n{text}\n".encode())
    plan = controller.plan([step.as_dict() for step in scenario])
    digest.update(json.dumps([plan, CHECK_UNIT_TEXT, CHECK_TIMEOUT, INFRASTRUCTURE], sort_keys=True).encode())
    modules = [Path(__file__), *(Path(m.__file__) for m in (cloud_check, api_check, unit_check, boot))]
    for source in (*modules, *sorted(DOUBLES.glob("*.py"))):
        digest.update(f"\n{source.name}\n".encode() + source.read_bytes())
    return digest.hexdigest()


class Cloud:
    """The cloud gate of ``point``: ``services`` (their packages at ``versions``) from ``suite``;
    with ``walk``, then upgraded to the next release, one service after another."""

    def __init__(self, point: Point, services: list[Service], versions: dict[str, str], image: Image,
                 suite: AptSuite, scenario: tuple[Step, ...], log=say, walk: Walk | None = None,
                 screenshot: Path | None = None, digest: str | None = None):
        self.point, self.versions, self.image, self.suite, self.log = point, versions, image, suite, log
        self.services, self.walk, self.screenshot = services, walk, screenshot
        # Commands (openstack) are installed, and run by the scenario; the others are brought up.
        self.controller = Controller([s for s in services if s.system_user], Secrets(),
                                     commands=[s.name for s in services if not s.system_user])
        self.plan = self.controller.plan([step.as_dict() for step in scenario])
        # horizon's instances page, drawn by chromium in the booted system (a picture for a person);
        # horizon shows the page only with compute in the catalog.
        horizon = next((a.name for s in self.controller.services if s.name == "horizon" for a in s.wsgi), None)
        if screenshot and horizon and "nova" in self.controller.names:
            self.plan["screenshot"] = horizon
        self.inputs = digest or inputs(services, scenario)  # the caller's, when it has it already
        self.system_walk = bool(walk and walk.of_the_system(point))
        if walk and not self.system_walk:
            self.plan["upgrade"] = self.controller.walk(versions, walk.versions, ARCHIVES, (point.name, walk.to.name),
                                                        [s for s in services if not s.system_user])

    def egress(self) -> set[tuple[str, int]]:
        hosts = self.image.mirrors() | {host_port(self.suite.url)}
        if self.system_walk:
            hosts |= {host_port(line.split()[1]) for line in self.next_sources()} | {host_port(self.walk.suite.url)}
        return hosts

    def next_sources(self) -> list[str]:
        """Debian's sources of the next distribution: this image's, with the codename changed."""
        to, was = self.walk.to.distribution, self.point.distribution
        if self.image.sources is None:
            return apt_sources(to)

        def renamed(word: str) -> str:  # bookworm, bookworm-updates, bookworm-security
            return to + word[len(was):] if word == was or word.startswith(f"{was}-") else word
        return [" ".join(renamed(word) for word in line.split()) for line in self.image.sources]

    def run(self) -> CloudResult:
        result = CloudResult(self.point.name, self.point.distribution, self.suite.name, dict(sorted(self.versions.items())),
                             upgraded_to=dict(sorted(self.walk.versions.items())) if self.walk else {},
                             inputs=self.inputs)
        with activity(f"cloud {self.point.name} on {self.point.distribution}: a controller, installed and booted"), \
                self.image.fresh(self.log, egress=self.egress()) as ch:
            for path, data in apt_files(self.suite).items():
                ch.write(path, data)
            self._step(result, "apt-get update", lambda: ch.run(["apt-get", "update"]))
            wanted = [f"{package}={version}" for package, version in sorted(self.versions.items())]
            if result.passed:
                self._step(result, f"apt install {', '.join(wanted)} with {', '.join(INFRASTRUCTURE)}",
                           lambda: ch.run(["apt-get", "install", "-y", *wanted, *INFRASTRUCTURE]))
            if result.passed and self.walk and not self.system_walk:
                self._download_walk(ch, result)
            if result.passed and self.plan.get("screenshot"):
                self._step(result, "apt install chromium, for a screenshot of horizon",
                           lambda: ch.run(["apt-get", "install", "-y", "chromium", "fonts-dejavu-core"]))
            if not result.passed:
                return result
            # The install guide's host name for the controller, on the booted system's loopback.
            ch.write("/etc/hostname", f"{HOST}\n")
            ch.write("/etc/hosts", f"127.0.0.1\tlocalhost {HOST}\n::1\tlocalhost ip6-localhost ip6-loopback\n")
            for path, text in self.controller.files():
                ch.write(path, text, mode=0o640)
            for double in sorted(DOUBLES.glob("*.py")):
                ch.write(f"{HERE}/doubles/{double.name}", double.read_bytes())
            for module in (cloud_check, api_check, unit_check):
                ch.write(f"{HERE}/{Path(module.__file__).name}", Path(module.__file__).read_bytes())
            ch.write(f"/etc/systemd/system/{CHECK_UNIT}", CHECK_UNIT_TEXT.format(
                here=HERE, report=f"{boot.REPORT_DIR}/{boot.REPORT}", timeout=CHECK_TIMEOUT))
            self._step(result, f"systemctl enable {CHECK_UNIT}", lambda: ch.run(["systemctl", "enable", CHECK_UNIT]))
            booted = self._boot(ch, result, self.plan, "booted, the scenario") if result.passed else None
            if result.passed and self.system_walk:
                self._upgrade_the_system(ch, result)
                if result.passed:
                    booted = self._boot(ch, result, self.after_the_system_walk(),
                                        f"booted again on {self.walk.to.distribution}")
        picture = booted.files.get(cloud_check.SCREENSHOT, b"") if result.passed else b""
        if self.screenshot and picture.startswith(PNG):  # data from the container: a PNG, or nothing
            self.screenshot.write_bytes(picture)
            # The page it was drawn from, beside it: text for a person to read, never opened here.
            self.screenshot.with_suffix(".html").write_bytes(booted.files.get(cloud_check.PAGE, b""))
            self.log(f"cloud: horizon's instances page: {self.screenshot}")
        result.finished = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        return result

    def _boot(self, ch, result: CloudResult, plan: dict, what: str):
        """The chroot booted with ``plan``, until its check unit powers it off; its checks added to
        ``result``. The boot's console output and the files it left for the host."""
        ch.write(f"{HERE}/plan.json", json.dumps(plan, indent=1), mode=0o600)
        started = time.monotonic()
        with activity(f"cloud {self.point.name} on {self.point.distribution}: {what}"):
            booted, report = boot.boot(ch.root, ch.base, idmap.DEFAULT_RANGE[1], timeout=BOOT_TIMEOUT,
                                       files=(cloud_check.SCREENSHOT, cloud_check.PAGE))
        reported, done = read_report(report)
        for check in reported:
            self._report(check)
        result.checks.extend(reported)
        if done is None or (not done and all(c.passed for c in reported)):
            result.checks.append(Check(f"the controller's check unit ran to its end ({what})", False,
                                       (report + booted.stdout)[-3000:], round(time.monotonic() - started, 1)))
        return booted

    def _upgrade_the_system(self, ch, result: CloudResult) -> None:
        """The powered-off controller's operating system upgraded to the walk's distribution, as
        Debian's release notes have it, with the point's suite for that distribution in place of
        this one's; then exactly the walk's versions of the venv packages."""
        to = self.walk.to.distribution
        ch.write("/etc/apt/sources.list", "".join(f"{line}\n" for line in self.next_sources()).encode())
        for path, data in apt_files(self.walk.suite).items():
            ch.write(path, data)
        self._step(result, f"apt-get update, with {to}'s sources and {self.walk.suite.name}",
                   lambda: ch.run(["apt-get", "update"]))
        for argv in DIST_UPGRADE:
            if result.passed:
                self._step(result, f"{' '.join(a for a in argv if a != '-y')}, to {to}",
                           lambda: ch.run([*argv, *KEEP_CONFIG]))
        wanted = [f"{package}={version}" for package, version in sorted(self.walk.versions.items())]
        if result.passed:
            self._step(result, f"apt install {', '.join(wanted)}: the {to} builds",
                       lambda: ch.run(["apt-get", "install", "-y", *KEEP_CONFIG, *wanted]))
        if result.passed:
            self._step(result, f"rabbitmq: {RABBIT_STORE} removed, for a node started afresh on {to}",
                       lambda: ch.run(["rm", "-rf", RABBIT_STORE]))

    def after_the_system_walk(self) -> dict:
        """The plan of the second boot: the controller's units started again (the databases, their
        data and each service's configuration are the first boot's), every package at its build
        for the new distribution, what the scenario made read back, and the scenario again."""
        return {**self.plan, "rebooted": {"distribution": self.walk.to.distribution,
                                          "installed": dict(sorted(self.walk.versions.items()))}}

    def _download_walk(self, ch, result: CloudResult) -> None:
        """The next release's suite beside this one's, and its packages downloaded, with what they
        need: the booted system, which has no network, upgrades from them."""
        walk = self.walk
        ch.write(NEXT_SOURCES, sources_entry(walk.suite.url, walk.suite.name, KEYRING_IN_CHROOT).encode())
        ch.write(f"{ARCHIVES}/partial/.keep", b"")
        self._step(result, f"apt-get update, with {walk.suite.name}", lambda: ch.run(["apt-get", "update"]))
        wanted = [f"{package}={version}" for package, version in sorted(walk.versions.items())]
        if result.passed:
            self._step(result, f"apt downloads {', '.join(wanted)}, for the upgrade walk",
                       lambda: ch.run(["apt-get", "install", "-y", "--download-only", "-o",
                                       f"Dir::Cache::archives={ARCHIVES}", *wanted]))

    def _step(self, result: CloudResult, name: str, action) -> None:
        started = time.monotonic()
        proc = action()
        check = Check(name, proc.returncode == 0, "" if proc.returncode == 0 else (proc.stdout + proc.stderr)[-3000:],
                      round(time.monotonic() - started, 1))
        result.checks.append(check)
        self._report(check)

    def _report(self, check: Check) -> None:
        self.log(f"cloud: {'ok  ' if check.passed else 'FAIL'} {check.name} ({check.seconds} s)")
        if not check.passed:
            for line in check.detail.splitlines()[-40:]:
                self.log(f"    | {line}")
