"""The packaging at the revision a build is for: the master's own checkout, and the worker's.

The master reads no code or configuration a worker sends: at the start of every build it checks
the packaging out itself, from its own mirror of the packaging repository (step
``packaging-on-master``), for its steps (smoke, publish, rebuild) to read. The worker gets that
very commit from the master, as a git bundle over its worker connection (step
``packaging-from-master``: TLS, to the certificate the worker pins), and checks it out (step
``packaging``): workers need no access to the packaging repository, and what they build from is
authenticated by the master's certificate, whatever transport the master fetched it over. The
master's own fetch must authenticate its server (settings.authenticated_url). The commit is

- the commit a wheelhouse build handed to the service builds it triggered (``packaging_revision``),
  so a wheelhouse and the services built against it read the same packaging;
- else the commit that triggered the build, when it is a commit of the packaging repository;
- else (forced, or triggered by another repository: a constraints repository, a service's
  upstream branch, a point release) the head of the packaging branch, as the master's mirror has
  it once fetched.

(Buildbot's own Git step would check out the triggering commit whatever repository it came from,
and would have each worker fetch it itself.)
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

from twisted.internet import defer, threads

from buildbot.plugins import steps, util
from buildbot.process import buildstep
from buildbot.process.results import FAILURE, SUCCESS

from ..errors import ToolError
from ..service.git_source import GIT_ENV, GIT_SAFE, mirror
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


BUNDLE = "packaging.bundle"  # the master's bundle of the build's commit, on the worker


def unbundle(source: PackagingSource):
    """The worker's checkout of the build's commit (property ``packaging_commit``), from the bundle
    the master sent, on the branch the packaging follows (a service built from the packaging's
    own repository, 'git = ".."', checks that branch out)."""
    script = ('rm -rf "$1"; git clone --quiet --no-checkout "$2" "$1"; git -C "$1" checkout --quiet -B "$3" "$4"; '
              'git -C "$1" rev-parse HEAD')
    # got_revision: what the worker says it checked out, as Buildbot's Git step says it (shown, not used).
    return steps.SetPropertyFromCommand(name="packaging", description="checking out the packaging",
                                        command=["sh", "-ec", script, "unbundle", CHECKOUT, BUNDLE, source.branch,
                                                 util.Property("packaging_commit")],
                                        property="got_revision", workdir="build", haltOnFailure=True,
                                        logEnviron=False)


def _git(*args: str) -> str:
    """git reading no configuration but its own, running no hook (as the service stage's)."""
    result = subprocess.run(["git", *GIT_SAFE, *args], capture_output=True, text=True, env={**os.environ, **GIT_ENV})
    if result.returncode != 0:
        raise ToolError(f"git {' '.join(args)} failed: {result.stderr.strip()[-1000:]}")
    return result.stdout.strip()


def mirror_of(mirrors: Path, repo: str) -> Path:
    """The master's bare mirror of ``repo``, brought up to date, one build at a time (the
    service stage's mirror, in the master's own directory)."""
    Path(mirrors).mkdir(parents=True, exist_ok=True)
    with open(Path(mirrors) / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return mirror(Path(mirrors), repo)


def checkout_on_master(source: PackagingSource, revision: str | None, mirrors: Path, dest: Path,
                       bundle: Path | None = None) -> str:
    """The packaging at ``revision`` (else the head of the source's branch) in ``dest``, from the
    master's own mirror; the commit. ``bundle``: that commit, its history and the tags (pbr's
    versions), as a git bundle for the worker."""
    mirror = mirror_of(mirrors, source.repo)
    wanted = revision or f"refs/heads/{source.branch}"
    try:
        commit = _git("--git-dir", str(mirror), "rev-parse", "--verify", "--end-of-options", f"{wanted}^{{commit}}")
    except ToolError:
        raise ToolError(f"{source.repo} has no commit {wanted}") from None
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _git("clone", "--quiet", "--shared", "--no-checkout", "--", str(mirror), str(dest))
    _git("-C", str(dest), "checkout", "--quiet", "--detach", commit)
    if bundle is not None:
        bundle.unlink(missing_ok=True)
        _git("-C", str(dest), "bundle", "create", "--quiet", str(bundle), "HEAD", "--tags")
    return commit


class MasterCheckout(buildstep.BuildStep):
    """The master's own checkout of the packaging, for its steps (smoke, publish), in ``dest``;
    property ``packaging_commit`` says which commit, for the worker to check out too."""

    name = "packaging-on-master"
    description = "checking out the packaging on the master"
    haltOnFailure = True
    renderables = ("dest", "bundle")

    def __init__(self, source: PackagingSource, mirrors: Path, dest, bundle=None, **kwargs):
        self.source, self.mirrors, self.dest, self.bundle = source, Path(mirrors), dest, bundle
        super().__init__(**kwargs)

    @defer.inlineCallbacks
    def run(self):
        stamp = self.build.getSourceStamp("")
        revision = revision_to_build(self.getProperty("packaging_revision"), stamp and stamp.repository,
                                     stamp and stamp.revision, self.source.repo)
        log = yield self.addLog("stdio")
        try:
            commit = yield threads.deferToThread(checkout_on_master, self.source, revision, self.mirrors,
                                                 Path(self.dest), Path(self.bundle) if self.bundle else None)
        except ToolError as exc:
            yield log.addStderr(exc.message + "\n")
            self.descriptionDone = "packaging: checkout failed"
            return FAILURE
        yield log.addStdout(f"{self.source.repo} at {commit}, in {self.dest}\n")
        self.setProperty("packaging_commit", commit, self.name)
        self.descriptionDone = f"packaging at {commit[:12]}"
        return SUCCESS

