"""Schedulers: force (with a required reason), triggers, git pollers, an optional nightly.

- Every builder has a ForceScheduler whose required "reason" becomes ``venvdeb build --reason``,
  so a person's reason ends up in debian/changelog. Buildbot's rebuild reuses the build's
  properties, reason included.
- A commit to a release's constraints (on their repository's branch, touching the constraints
  files) rebuilds the wheelhouse with ``trigger_services`` set: the wheelhouse build then
  triggers every service builder of the release through a Triggerable.
- A commit to a git-sourced service's stable branch rebuilds that service.
- A commit to the packaging repository rebuilds what it touches: a service file, that service
  (skipped if what it is made from did not change); the release file, the wheelhouse and then the
  services whose closure changed.
- A new point release of a series a service follows (point_releases.py) rebuilds the wheelhouse,
  then the services whose closure changed.
- treeStableTimer: a burst of commits gives one build, of the last one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from buildbot.plugins import changes, schedulers, util

from ..model.cloud import runs_a_cloud
from . import point_releases
from .settings import PackagingSource, Settings, constraints_repo, packaging_source


def identifier(name: str) -> str:
    """Buildbot wants identifiers for scheduler names: '2025.2' has to become '2025_2'."""
    return "".join(ch if ch.isalnum() else "_" for ch in name)


def point_name(release) -> str:
    """A release at one distribution, as builder names spell it: ``2026.1-trixie``."""
    return f"{release.name}-{release.distribution}"


def wheelhouse_builder(release) -> str:
    return f"wheelhouse-{point_name(release)}"


def service_builder(release, service) -> str:
    return f"{point_name(release)}-venv-{service.name}"


def promote_builder(release) -> str:
    return f"promote-{point_name(release)}"


def rollback_builder(release) -> str:
    return f"rollback-{point_name(release)}"


def cloud_builder(release) -> str:
    return f"cloud-{point_name(release)}"


def cloud_trigger(release) -> str:
    return identifier(f"cloud-{point_name(release)}")


def trigger_name(release) -> str:
    return identifier(f"services-{point_name(release)}")


# The force form asks only what venvdeb uses: the revision fields would do nothing here.
def _codebase():
    return util.CodebaseParameter(
        codebase="", branch=util.FixedParameter(name="branch", default=""),
        revision=util.FixedParameter(name="revision", default=""),
        repository=util.FixedParameter(name="repository", default=""),
        project=util.FixedParameter(name="project", default=""))


def force(builder: str, wheelhouse: bool = False):
    props = []
    if wheelhouse:
        props.append(util.BooleanParameter(name="trigger_services", label="then rebuild every service",
                                           default=False))
    return schedulers.ForceScheduler(
        name=identifier(f"force-{builder}"), builderNames=[builder], buttonName="Build",
        reason=util.StringParameter(name="reason", label="Reason (goes into debian/changelog)",
                                    required=True, size=60),
        codebases=[_codebase()], properties=props)


def repository_action(builder: str, release, verb: str):
    """The force form of promote and rollback: which package, which version (admins only, as
    every force is)."""
    packages = [release.wheelhouse_package, *(s.package for s in release.services)]
    return schedulers.ForceScheduler(
        name=identifier(f"force-{builder}"), builderNames=[builder], buttonName=verb.capitalize(),
        reason=util.StringParameter(name="reason", label="Reason", required=True, size=60),
        codebases=[_codebase()],
        properties=[util.ChoiceStringParameter(name="package", label="Package", choices=packages, default=packages[0],
                                               strict=True),
                    util.StringParameter(name="version", label=f"Version to {verb}", required=True, size=40,
                                         regex=r"^[A-Za-z0-9.+~:-]+$")])


REFRESH_BUILDER = "repo-refresh"


def repository_refresh() -> list:
    """Nightly, and on an admin's button: the suites' Valid-Until is a week ahead, so a night
    missed now and then does not expire them."""
    return [schedulers.Nightly(name="nightly-repo-refresh", builderNames=[REFRESH_BUILDER], hour=4, minute=0,
                               onlyIfChanged=False, properties={"reason": "Nightly Valid-Until renewal."}),
            schedulers.ForceScheduler(name="force-repo-refresh", builderNames=[REFRESH_BUILDER], buttonName="Refresh",
                                      reason=util.StringParameter(name="reason", label="Reason", required=True, size=60),
                                      codebases=[_codebase()])]


def poller_name(repo: str) -> str:
    return "poll-" + hashlib.sha256(repo.encode()).hexdigest()[:12]


class Watches:
    """Which (repository, branch) pairs to poll, collected over every release."""

    def __init__(self):
        self.branches: dict[str, set[str]] = {}

    def add(self, repo: str, branch: str) -> None:
        self.branches.setdefault(repo, set()).add(branch)

    def pollers(self, settings: Settings) -> list:
        return [changes.GitPoller(
            repourl=repo, branches=sorted(branches), project=repo, pollInterval=settings.poll_interval,
            pollAtLaunch=True, workdir=poller_name(repo), name=poller_name(repo))
            for repo, branches in sorted(self.branches.items())]


def touches(files: tuple[str, ...], beyond: str | None = None):
    """fileIsImportant: only commits that change one of ``files``, or (``beyond``, a directory) a
    file outside that directory, count."""
    wanted = set(files)
    prefix = f"{beyond.rstrip('/')}/" if beyond else None

    def important(change) -> bool:
        if not wanted and not prefix:
            return True
        return any(f in wanted or (prefix and not f.startswith(prefix)) for f in change.files)

    return important


def on_commits(settings: Settings, name: str, builder: str, repo: str, branch: str, files=(),
               beyond: str | None = None, **properties):
    """Build ``builder`` for commits to ``branch`` of ``repo`` that touch ``files`` or a file outside
    the directory ``beyond`` (any commit, if neither is given)."""
    return schedulers.SingleBranchScheduler(
        name=identifier(name), builderNames=[builder],
        change_filter=util.ChangeFilter(repository=repo, branch=branch),
        fileIsImportant=touches(tuple(files), beyond), onlyImportant=bool(files or beyond),
        treeStableTimer=settings.tree_stable_timer, properties=properties)


def packaging_files(source: PackagingSource, *paths: str) -> tuple[str, ...]:
    """Paths of the packaging root as a commit of its repository names them."""
    return tuple(p if source.subdir == "." else f"{source.subdir}/{p}" for p in paths)


def in_packaging(settings: Settings, packaging: PackagingSource | None, service) -> bool:
    """Whether a git-sourced service is built from the repository and branch the packaging is in
    (on another branch, the worker's checkout would not have it: it is polled as any git source)."""
    if not packaging or not service.source.git or service.source.branch != packaging.branch:
        return False
    root = Path(settings.path(settings.packaging)).resolve()
    top = root if packaging.subdir == "." else root.parents[len(Path(packaging.subdir).parts) - 1]
    return service.source.git in (str(top), packaging.repo)


def for_release(settings: Settings, release, watches: Watches) -> list:
    wh = wheelhouse_builder(release)
    services = [service_builder(release, s) for s in release.services]
    found = [force(wh, wheelhouse=True)] + [force(b) for b in services]
    found.append(schedulers.Triggerable(name=trigger_name(release), builderNames=services))
    if runs_a_cloud(release.services):
        # Run when any of the point's packages reaches staging (the service builds trigger it), or
        # from its button.
        found += [schedulers.Triggerable(name=cloud_trigger(release), builderNames=[cloud_builder(release)]),
                  force(cloud_builder(release))]
    found.append(repository_action(promote_builder(release), release, "promote"))
    found.append(repository_action(rollback_builder(release), release, "roll back to"))
    source = constraints_repo(settings, release)
    packaging = packaging_source(settings)
    release_file = packaging_files(packaging, f"releases/{release.path.name}") if packaging else ()
    if source:
        watches.add(source.repo, source.branch)
        # The release file is read with the constraints when both are in the packaging repository.
        files = source.files + (release_file if packaging and packaging.repo == source.repo else ())
        found.append(on_commits(settings, f"constraints-{point_name(release)}", wh, source.repo, source.branch, files,
                                trigger_services=True))
    if packaging:
        watches.add(packaging.repo, packaging.branch)
        if not source or source.repo != packaging.repo:
            found.append(on_commits(settings, f"packaging-{point_name(release)}", wh, packaging.repo,
                                    packaging.branch, release_file, trigger_services=True))
        for service in release.services:
            if in_packaging(settings, packaging, service):
                continue  # every commit of the repository builds it (below)
            found.append(on_commits(
                settings, f"packaging-{point_name(release)}-{service.name}", service_builder(release, service),
                packaging.repo, packaging.branch, packaging_files(packaging, f"services/{service.path.name}"),
                only_if_changed=True))
    for service in release.services:
        if in_packaging(settings, packaging, service):
            # venvdeb's own service is built from the packaging repository itself ('git = ".."'),
            # polled once, the worker's checkout its source: a commit to its code (anything outside
            # the packaging root) or to its service file builds it; a constraints bump of another
            # release does not.
            beyond = packaging.subdir if packaging.subdir != "." else None
            found.append(on_commits(settings, f"git-{point_name(release)}-{service.name}",
                                    service_builder(release, service), packaging.repo, packaging.branch,
                                    packaging_files(packaging, f"services/{service.path.name}") if beyond else (),
                                    beyond=beyond))
        elif service.source.git:
            watches.add(service.source.git, service.source.branch)
            found.append(on_commits(settings, f"git-{point_name(release)}-{service.name}",
                                    service_builder(release, service), service.source.git, service.source.branch))
    if any(service.source.series for service in release.services):
        found.append(point_releases.scheduler(identifier(f"point-releases-{point_name(release)}"),
                                              point_name(release), wh))
    if settings.nightly_hour is not None:
        found.append(schedulers.Nightly(
            name=identifier(f"nightly-{point_name(release)}"), builderNames=[wh], hour=settings.nightly_hour,
            minute=0, onlyIfChanged=False, properties={"trigger_services": True,
                                                       "reason": "Nightly rebuild."}))
    return found
