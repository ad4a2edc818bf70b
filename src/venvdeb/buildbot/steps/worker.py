"""Steps that run a venvdeb command on the worker (`VenvdebStep`), in the build's directory: the
wheelhouse, the service build and its plan, lintian. What they make stays on the worker until a
step uploads it to the master.
"""

from __future__ import annotations

import os

from twisted.internet import defer

from buildbot import config
from buildbot.process import buildstep
from buildbot.process.results import SKIPPED, SUCCESS

from ...model.results import BuildResult, FetchResult, PlanResult, WheelhouseResult
from .common import _JsonResult, _no_environment_log, _require, size_text, truthy


class VenvdebStep(_JsonResult, buildstep.ShellMixin, buildstep.BuildStep):
    """Run one venvdeb subcommand on the worker."""

    name = "venvdeb"
    haltOnFailure = True
    flunkOnFailure = True
    renderables = ("packaging",)

    def __init__(self, venvdeb=None, packaging=None, extra_args=None, packaging_commit=None, **kwargs):
        self._check_common(venvdeb, packaging, extra_args, packaging_commit)
        kwargs = self.setupShellMixin(_no_environment_log(self, **kwargs), prohibitArgs=["command"])
        super().__init__(**kwargs)

    @defer.inlineCallbacks
    def run(self):
        cmd = yield self.makeRemoteShellCommand(command=self.argv(), collectStdout=True)
        yield self.runCommand(cmd)
        return self.conclude(cmd.didFail(), cmd.rc, cmd.stdout)


class WheelhouseBuild(VenvdebStep):
    """``venvdeb wheelhouse build <release>``: properties wheelhouse_{package,version,deb,...}."""

    name = "wheelhouse"
    subcommand = ("wheelhouse", "build")
    result_class = WheelhouseResult
    description = "building wheelhouse"
    renderables = ("release", "packaging", "packaging_commit")

    def __init__(self, release=None, **kwargs):
        _require(self, release=release)
        self.release = release
        super().__init__(**kwargs)

    def arguments(self):
        return [self.release]

    def record(self, result: WheelhouseResult):
        for key in ("package", "version", "deb", "deb_size", "wheels", "built", "changed"):
            self.set_property(f"wheelhouse_{key}", getattr(result, key))
        self.set_property("deb", result.deb)
        self.set_property("deb_file", os.path.basename(result.deb or ""))
        state = "new" if result.changed else "unchanged"
        return (f"{result.package} {result.version} ({state}): {result.wheels} wheels, "
                f"{result.built} from sdists, {size_text(result.deb_size)}")


class WheelhouseFetch(VenvdebStep):
    """``venvdeb wheelhouse fetch <release> --repo-url URL``: the published wheelhouse, verified."""

    name = "fetch-wheelhouse"
    subcommand = ("wheelhouse", "fetch")
    result_class = FetchResult
    description = "fetching wheelhouse"
    keyring = "venvdeb-archive-keyring.gpg"
    renderables = ("release", "repo_url", "keyring", "packaging")

    def __init__(self, release=None, repo_url=None, keyring=None, **kwargs):
        _require(self, release=release, repo_url=repo_url)
        if isinstance(repo_url, str) and not repo_url.startswith(("http://", "https://")):
            config.error(f"WheelhouseFetch: repo_url must be an http(s) URL, not {repo_url!r}")
        self.release, self.repo_url = release, repo_url
        if keyring is not None:
            self.keyring = keyring
        super().__init__(**kwargs)

    def arguments(self):
        return [self.release, "--repo-url", self.repo_url, "--keyring", self.keyring]

    def record(self, result: FetchResult):
        self.set_property("wheelhouse_package", result.package)
        self.set_property("wheelhouse_version", result.version)
        self.set_property("wheelhouse_deb", result.deb)
        return f"{result.package} {result.version}, sha256 verified"


class ServiceBuild(VenvdebStep):
    """``venvdeb build <release> <service> --reason R [--wheelhouse-deb D]``."""

    name = "build"
    subcommand = ("build",)
    result_class = BuildResult
    description = "building"
    renderables = ("release", "service", "reason", "wheelhouse_deb", "only_if_changed", "packaging",
                   "packaging_commit", "version")

    def __init__(self, release=None, service=None, reason=None, wheelhouse_deb=None, only_if_changed=False,
                 version=None, **kwargs):
        _require(self, release=release, service=service, reason=reason)
        self.release, self.service, self.reason, self.wheelhouse_deb = release, service, reason, wheelhouse_deb
        self.only_if_changed, self.version = only_if_changed, version
        super().__init__(**kwargs)

    def arguments(self):
        args = [self.release, self.service, "--reason", self.reason]
        if self.wheelhouse_deb:
            args += ["--wheelhouse-deb", self.wheelhouse_deb]
        if truthy(self.only_if_changed):
            args.append("--only-if-changed")
        if self.version:  # the master's choice (ReserveVersion)
            args += ["--version", self.version]
        return args

    def outcome(self, result: BuildResult | PlanResult):
        if not result.skipped:
            return SUCCESS
        # Nothing changed for this service: this step is skipped, every one after it, and the
        # build. Buildbot sums a build's steps with SKIPPED below SUCCESS (the checkout before
        # this step succeeded), so the build's own result is set: the UI's lists show it skipped.
        self.build.results = SKIPPED
        return SKIPPED

    def record(self, result: BuildResult):
        if result.skipped:
            self.set_property("skipped", result.skipped)
            return f"skipped: {result.package} {result.skipped}"
        for key in ("package", "version", "deb", "deb_size", "installed_size_kib"):
            self.set_property(key, getattr(result, key))
        self.set_property("deb_file", os.path.basename(result.deb or ""))
        self.set_property("wheels", result.wheels)
        return (f"{result.package} {result.version}: {size_text(result.deb_size)}, "
                f"{result.wheels} wheels, {result.seconds} s")


class Plan(ServiceBuild):
    """``venvdeb build ... --plan``: the upstream version the package will be of (property
    ``upstream``, for the master to choose the version), or skipped when nothing changed."""

    name = "plan"
    description = "planning"
    variant = ("--plan",)
    result_class = PlanResult

    def record(self, result: PlanResult):
        if result.skipped:
            self.set_property("skipped", result.skipped)
            return f"skipped: {result.package} {result.skipped}"
        self.set_property("upstream", result.upstream)
        return f"{result.package}: upstream {result.upstream}"
