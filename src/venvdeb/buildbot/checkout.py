"""The packaging, checked out on the worker at the revision a build is for.

A worker shares no directory with the master: every build clones (then fetches) the packaging
repository and checks out

- the commit a wheelhouse build handed to the service builds it triggered (``packaging_revision``),
  so a wheelhouse and the services built against it read the same packaging;
- else the commit that triggered the build, when it is a commit of the packaging repository;
- else (forced, or triggered by another repository: a constraints repository, a service's
  upstream branch, a point release) the head of the packaging branch.

Buildbot's own Git step would check out the triggering commit whatever repository it came from;
only the choice of revision is ours.
"""

from __future__ import annotations

from buildbot.plugins import steps

from .settings import PackagingSource

CHECKOUT = "packaging-src"  # below the build's working directory on the worker


def revision_to_build(handed: str | None, repository: str | None, revision: str | None, packaging_repo: str) -> str | None:
    """The packaging commit a build checks out, or None for the branch's head."""
    if handed:
        return handed
    if revision and repository == packaging_repo:
        return revision
    return None


def worker_root(source: PackagingSource) -> str:
    """The packaging root on the worker, relative to the build's working directory."""
    return CHECKOUT if source.subdir == "." else f"{CHECKOUT}/{source.subdir}"


class PackagingCheckout(steps.Git):
    name = "packaging"
    description = "checking out the packaging"

    def __init__(self, source: PackagingSource, **kwargs):
        # "fresh": what an earlier build left (untracked, ignored) goes; the clone stays, so a
        # build fetches only what is new.
        super().__init__(repourl=source.repo, branch=source.branch, mode="full", method="fresh",
                         workdir=f"build/{CHECKOUT}", haltOnFailure=True, logEnviron=False, **kwargs)

    def run(self):
        stamp = self.build.getSourceStamp(self.codebase)
        revision = revision_to_build(self.getProperty("packaging_revision"), stamp and stamp.repository,
                                     stamp and stamp.revision, self.repourl)
        return self.run_vc(self.branch, revision, None)
