"""Upstream point releases: a change source that polls the package index for each service that
follows a stable series, and the scheduler that builds what it finds.

When the index has a newer final release of the series (nova 33.0.3 for "33.0.*") than the one
last announced, or, on the first look, than the one the release's constraints pin, the poller
adds a change (category "point-release", project the release at its distribution, revision the
version). The scheduler builds that point's wheelhouse, which takes the newest point release (see
wheelhouse/series.py) and triggers the release's service builds: only the service whose closure
changed builds, its changelog saying "New upstream point release 33.0.3". A pin is not polled.
"""

from __future__ import annotations

import json

from buildbot.changes import base
from buildbot.plugins import schedulers, util
from buildbot.util.state import StateMixin
from packaging.utils import canonicalize_name
from packaging.version import Version
from twisted.internet import defer, threads

from ..http import Client
from ..model import constraints
from ..wheelhouse.artifacts import file_version
from ..wheelhouse.index import PEP691
from ..wheelhouse.series import newest

CATEGORY = "point-release"


def index_versions(index_url: str, project: str) -> list[Version]:
    """The versions of ``project`` with a file on the index that is not yanked (PEP 691 JSON)."""
    page = json.loads(Client().get_bytes(f"{index_url}/{canonicalize_name(project)}/", accept=PEP691))
    found = {file_version(f["filename"]) for f in page["files"] if not f.get("yanked")}
    return sorted(parsed[1] for parsed in found if parsed)


def to_announce(found: Version | None, last: str | None, baseline: str | None) -> bool:
    """Whether ``found`` is a point release to build: newer than the last one announced; on the
    first look, newer than what the constraints pin (none pinned: the wheelhouse already takes the
    newest, nothing to announce)."""
    known = last or baseline
    return found is not None and known is not None and found > Version(known)


def baseline(release, project: str) -> str | None:
    """The version of ``project`` the release's constraints pin now, if they are a file here."""
    if release.constraints.path is None or not release.constraints.path.is_file():
        return None
    pins = [p.version for p in constraints.load_file(release.constraints.path).pins
            if p.name == canonicalize_name(project)]
    return str(max(map(Version, pins))) if pins else None


class PointReleasePoller(base.ReconfigurablePollingChangeSource, StateMixin):
    compare_attrs = ("name", "index_url", "project", "series", "point", "baseline", "pollInterval", "pollAtLaunch")

    def checkConfig(self, index_url, project, series, point, baseline=None, **kwargs):
        super().checkConfig(name=self.name, **kwargs)

    @defer.inlineCallbacks
    def reconfigService(self, index_url, project, series, point, baseline=None, **kwargs):
        self.index_url, self.project, self.series, self.point, self.baseline = (
            index_url, project, series, point, baseline)
        yield super().reconfigService(name=self.name, **kwargs)

    def describe(self):
        return f"PointReleasePoller: {self.project} {self.series} on {self.index_url} for {self.point}"

    @defer.inlineCallbacks
    def poll(self):
        versions = yield threads.deferToThread(index_versions, self.index_url, self.project)
        found = newest(versions, self.series)
        last = yield self.getState("last", None)
        if to_announce(found, last, self.baseline):
            yield self.master.data.updates.addChange(
                author="venvdeb point-release poller", revision=str(found), files=[],
                comments=f"New upstream point release {self.project} {found}", branch=None,
                category=CATEGORY, project=self.point, repository=self.index_url, src=None,
                properties={"point_release": f"{self.project}=={found}"})
        if found is not None and str(found) != last:
            yield self.setState("last", str(found))


def pollers(settings, points, point_name) -> list:
    """A poller per series-following service of each release at each distribution."""
    return [PointReleasePoller(name=f"point-release-{point_name(release)}-{service.name}",
                               index_url=release.index_url, project=service.source.pypi, series=service.source.series,
                               point=point_name(release), baseline=baseline(release, service.source.pypi),
                               pollInterval=settings.poll_interval, pollAtLaunch=True)
            for release in points for service in release.services if service.source.series]


def scheduler(name: str, point: str, wheelhouse_builder: str):
    """A point release rebuilds the wheelhouse, then the services whose closure changed."""
    return schedulers.AnyBranchScheduler(
        name=name, builderNames=[wheelhouse_builder], treeStableTimer=None,
        change_filter=util.ChangeFilter(category=CATEGORY, project=point), properties={"trigger_services": True})
