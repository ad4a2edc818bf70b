"""The release page: per release and distribution, every package with its staging and production
versions, its lint and smoke results, whether its independent rebuild gave the same bytes (and
where not, diffoscope's account), its cloud gate, its age and a link to its last build; the
point's last cloud gate with the versions it ran; and the pins the release moves away from its
constraints, with why. The page a release engineer opens first.

A WSGI application, mounted in the web UI by Buildbot's wsgi_dashboards plugin. It reads the
repository's records (what each suite holds, written on every publish, promotion, rollback and
refresh; the gate records: no tool runs on a GET) and Buildbot's data API (each builder's last build);
``rows`` gathers what the page shows, ``render`` turns it into HTML with Jinja2.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from ..model.cloud import runs_a_cloud
from ..repository import Repository
from ..resources import templates
from . import schedulers


@dataclass
class Row:
    package: str
    builder: str
    staging: str = ""
    production: str = ""
    lint: str = ""           # "passed", "FAILED" or "" (no record)
    smoke: str = ""
    rebuild: str = ""        # the independent rebuild: "passed" (the same bytes), "FAILED" or ""
    cloud: str = ""          # the cloud gate, with this version beside the point's others
    differences: str = ""    # diffoscope's report of a rebuild that gave other bytes (its first lines)
    age: str = ""            # of the staging version, since it was published
    build_url: str = ""      # the builder's last build in the web UI
    build_result: str = ""


@dataclass
class Point:
    release: str
    distribution: str
    staging_suite: str
    production_suite: str
    rows: list[Row] = field(default_factory=list)
    overrides: tuple = ()    # the release's constraint overrides (model/overrides.py), with their reasons
    cloud: dict | None = None  # the last cloud gate of a staged package: passed, finished, versions
    has_cloud: bool = False  # the point runs a cloud gate (it has keystone)
    cloud_build: tuple | None = None  # the cloud builder's last build: (url, result)


RESULTS = {0: "success", 1: "warnings", 2: "failure", 3: "skipped", 4: "exception", 5: "retry", 6: "cancelled"}


def age_text(seconds: float) -> str:
    if seconds < 3600:
        return f"{max(int(seconds // 60), 0)} min"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def gate_text(record: dict, gate: str) -> str:
    if gate not in record:
        return ""
    return "passed" if record[gate].get("passed") else "FAILED"


def rows(points, repo: Repository, last_build, now: float | None = None) -> list[Point]:
    """What the page shows. ``last_build(builder_name)`` gives (url, result text) or None."""
    now = time.time() if now is None else now
    found = []
    for release in points:
        point = Point(release.name, release.distribution, release.staging_suite, release.production_suite,
                      overrides=release.constraints.overrides)
        staged, produced = _suite(repo, release.staging_suite), _suite(repo, release.production_suite)
        packages = [(release.wheelhouse_package, schedulers.wheelhouse_builder(release))]
        packages += [(s.package, schedulers.service_builder(release, s)) for s in release.services]
        for package, builder in packages:
            row = Row(package, builder, staged.get(package, ("", ""))[0], produced.get(package, ("", ""))[0])
            if row.staging:
                record = repo.gates(package, row.staging)
                row.lint, row.smoke = gate_text(record, "lint"), gate_text(record, "smoke")
                row.rebuild, row.cloud = gate_text(record, "rebuild"), gate_text(record, "cloud")
                ran = record.get("cloud")
                if isinstance(ran, dict) and str(ran.get("finished", "")) > str((point.cloud or {}).get("finished", "")):
                    point.cloud = ran
                if row.rebuild == "FAILED":
                    row.differences = str(record["rebuild"].get("differences") or "")
                pool = staged[package][1]
                row.age = age_text(now - pool.stat().st_mtime) if pool.is_file() else ""
            build = last_build(builder)
            if build:
                row.build_url, row.build_result = build
            point.rows.append(row)
        point.has_cloud = runs_a_cloud(release.services)
        if point.has_cloud:
            point.cloud_build = last_build(schedulers.cloud_builder(release))
        found.append(point)
    return found


def _suite(repo: Repository, suite: str) -> dict:
    """package -> (version, pool file) in ``suite``, as the repository last recorded it on a
    change (Repository.record_suites): a GET of the page, anyone's, runs no tool."""
    return repo.suites().get(suite, {})


def render(points: list[Point], title: str = "Releases") -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates() / "buildbot")), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("release.html.j2").render(points=points, title=title)


class ReleasePage:
    """The WSGI application: GET any path gives the page, built afresh from the repository and
    Buildbot's data. ``buildbot_api`` is set by the wsgi_dashboards plugin."""

    buildbot_api = None

    def __init__(self, points, repo: Repository):
        self.points, self.repo = points, repo

    def last_build(self, builder: str):
        found = self.buildbot_api.dataGet(("builders",), filters=[_filter("name", builder)])
        if not found:
            return None
        builds = self.buildbot_api.dataGet(("builders", found[0]["builderid"], "builds"),
                                           order=["-number"], limit=1)
        if not builds:
            return None
        build = builds[0]
        result = RESULTS.get(build["results"], "running") if build["complete"] else "running"
        return f"#/builders/{found[0]['builderid']}/builds/{build['number']}", result

    def __call__(self, environ, start_response):
        page = render(rows(self.points, self.repo, self.last_build)).encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page))),
                                  ("Cache-Control", "no-store")])
        return [page]


def _filter(name: str, value: str):
    from buildbot.data import resultspec

    return resultspec.Filter(name, "eq", [value])
