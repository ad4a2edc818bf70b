"""The cloud gate of one point, and the upgrade walk from the release before it (issue 27): each
against its target, with the time of each stage, from the gate's own checks.

Both run on what the repository's staging suites hold (make demo, or `venvdeb pipeline R --dist D`
for the releases walked), with a warm chroot image: the gate is timed from the command's start to
its end. Stages: the chroot's apt install (and, for the walk, the next release's download); Debian's
servers and databases; each service's set-up and start; keystone's registrations; the scenario; and
for the walk each service's upgrade (apt, migrations, restart, verify, the scenario again).

usage: python bench/cloud_gate.py [RELEASE] [PREVIOUS] [DIST]   (default 2026.2, 2025.2 -> 2026.1, bookworm)
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, record, venvdeb  # noqa: E402

TARGETS = {"gate": 10 * 60, "walk": 20 * 60}  # seconds, issue 27


def stage(name: str) -> str:
    """The stage a check of the gate belongs to."""
    for pattern, what in ((r"^apt|^systemctl enable", "apt install in the chroot"),
                          (r"^(mariadb|rabbitmq|memcached)", "MariaDB, RabbitMQ, memcached: started, databases, users"),
                          (r"^keystone: .*registered|^keystone: project", "keystone: the catalog, the scenario's user"),
                          (r"^upgrade ([a-z]+)|^after ([a-z]+)'s upgrade", "upgrade of {}: apt, migrations, restart"),
                          (r"^verify", "after each upgrade: what the first run made, read back"),
                          (r"^scenario \(run", "after each upgrade: the scenario again"),
                          (r"^scenario", "the scenario"),
                          (r"^every unit", "the scenario"),
                          (r"^([a-z]+): ", "{}: set-up and units started")):
        found = re.match(pattern, name)
        if found:
            groups = [g for g in found.groups() if g]
            return what.format(*groups) if groups else what
    return "other"


def run(*args: str) -> tuple[float, dict]:
    wall, result, _ = venvdeb("--packaging", str(PROJECT / "packaging"), "cloud", *args)
    stages: dict[str, float] = defaultdict(float)
    for check in result["checks"]:
        stages[stage(check["name"])] += check["seconds"]
    return wall, {"passed": result["passed"], "checks": len(result["checks"]), "stages": dict(stages),
                  "versions": result["versions"], "upgraded_to": result.get("upgraded_to", {})}


def main(release: str = "2026.2", previous: str = "2025.2", dist: str = "bookworm") -> None:
    following = {"2025.2": "2026.1", "2026.1": "2026.2"}[previous]
    gate_wall, gate = run(release, "--dist", dist)
    walk_wall, walk = run(previous, "--dist", dist, "--upgrade-to", following)
    data = {"gate": {"release": release, "dist": dist, "seconds": round(gate_wall, 1), **gate},
            "walk": {"from": previous, "to": following, "dist": dist, "seconds": round(walk_wall, 1), **walk},
            "targets": TARGETS}
    table = [f"# The cloud gate and the upgrade walk ({dist}, two cores)", "",
             "| run | wall | target | checks | passed |", "|---|---|---|---|---|",
             f"| the cloud gate of {release} | {gate_wall:.0f} s | {TARGETS['gate']} s | {gate['checks']} | {gate['passed']} |",
             f"| the upgrade walk {previous} -> {following} | {walk_wall:.0f} s | {TARGETS['walk']} s | {walk['checks']} | "
             f"{walk['passed']} |", ""]
    for title, found in ((f"The cloud gate of {release}", gate), (f"The walk {previous} -> {following}", walk)):
        table += [f"## {title}: where the time goes (the gate's own checks; the rest is booting and unpacking)", "",
                  "| stage | seconds |", "|---|---|"]
        table += [f"| {name} | {seconds:.1f} |" for name, seconds in found["stages"].items()] + [""]
    record("cloud_gate", data, table)


if __name__ == "__main__":
    main(*sys.argv[1:])
