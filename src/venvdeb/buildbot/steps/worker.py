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

from ...model.results import BuildResult, FetchResult, WheelhouseResult
from .common import _JsonResult, _no_environment_log, _require, failed_result, parse_json, size_text, truthy


class VenvdebStep(_JsonResult, buildstep.ShellMixin, buildstep.BuildStep):
    """Run one venvdeb subcommand on the worker."""

    name = "venvdeb"
    haltOnFailure = True
    flunkOnFailure = True
    renderables = ("packaging",)

    def __init__(self, venvdeb=None, packaging=None, extra_args=None, packaging_commit=None, **kwargs):
        self._check_common(venvdeb, packaging, extra_args, packaging_commit)
        kwargs = self.setupShellMixin(_no_environment_log(self, kwargs), prohibitArgs=["command"])
        super().__init__(**kwargs)

    @defer.inlineCallbacks
    def run(self):
        cmd = yield self.makeRemoteShellCommand(command=self.argv(), collectStdout=True)
        yield self.runCommand(cmd)
        data = parse_json(cmd.stdout)
        if cmd.didFail() or data is None:
            if data is not None:
                yield self._record_failure(data)
            self.summary_text = self.failure_text(data)
            return failed_result(cmd.rc)
        self.summary_text = self.record(data)
        return self.outcome(data)

    def outcome(self, data) -> int:
        """The step's result when the command succeeded."""
        return SUCCESS

    def _record_failure(self, data):
        # lint prints its tags on failure too: the counts are worth having on a failed build.
        return defer.succeed(None)


class WheelhouseBuild(VenvdebStep):
    """``venvdeb wheelhouse build <release>``: properties wheelhouse_{package,version,deb,...}."""

    name = "wheelhouse"
    subcommand = ("wheelhouse", "build")
    description = "building wheelhouse"
    renderables = ("release", "packaging", "packaging_commit")

    def __init__(self, release=None, **kwargs):
        _require(self, release=release)
        self.release = release
        super().__init__(**kwargs)

    def arguments(self):
        return [self.release]

    def record(self, data):
        result = WheelhouseResult.from_dict(data)
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

    def record(self, data):
        result = FetchResult.from_dict(data)
        self.set_property("wheelhouse_package", result.package)
        self.set_property("wheelhouse_version", result.version)
        self.set_property("wheelhouse_deb", result.deb)
        return f"{result.package} {result.version}, sha256 verified"


class ServiceBuild(VenvdebStep):
    """``venvdeb build <release> <service> --reason R [--wheelhouse-deb D]``."""

    name = "build"
    subcommand = ("build",)
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

    def outcome(self, data):
        if not data.get("skipped"):
            return SUCCESS
        # Nothing changed for this service: this step is skipped, every one after it, and the
        # build. Buildbot sums a build's steps with SKIPPED below SUCCESS (the checkout before
        # this step succeeded), so the build's own result is set: the UI's lists show it skipped.
        self.build.results = SKIPPED
        return SKIPPED

    def record(self, data):
        result = BuildResult.from_dict(data)
        if result.skipped:
            self.setProperty("skipped", result.skipped, self.name)
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

    def arguments(self):
        return super().arguments() + ["--plan"]

    def record(self, data):
        if data.get("skipped"):
            self.setProperty("skipped", data["skipped"], self.name)
            return f"skipped: {data.get('package')} {data['skipped']}"
        self.set_property("upstream", data.get("upstream"))
        return f"{data.get('package')}: upstream {data.get('upstream')}"


class Lint(VenvdebStep):
    """``venvdeb lint <deb> --fail-on ...``: properties lintian_{error,warning,info,...}."""

    name = "lintian"
    subcommand = ("lint",)
    description = "lintian"
    fail_on = ("error", "warning")
    renderables = ("deb", "packaging")
    SEVERITIES = ("error", "warning", "info", "pedantic", "experimental", "overridden")

    def __init__(self, deb=None, fail_on=None, **kwargs):
        _require(self, deb=deb)
        self.deb = deb
        if fail_on is not None:
            if isinstance(fail_on, str) or not fail_on or not set(fail_on) <= set(self.SEVERITIES):
                config.error(f"Lint: fail_on must be a list of lintian severities, not {fail_on!r}")
            self.fail_on = tuple(fail_on)
        super().__init__(**kwargs)

    def arguments(self):
        return [self.deb, "--fail-on", ",".join(self.fail_on)]

    def _counts(self, data) -> dict:
        return record_lint_counts(self, data)

    def _record_failure(self, data):
        counts = self._counts(data)
        self._failed_counts = counts
        return defer.succeed(None)

    def failure_text(self, data):
        counts = getattr(self, "_failed_counts", None)
        if counts is not None:
            return f"lintian failed: {_counts_text(counts)}"
        return super().failure_text(data)

    def record(self, data):
        return f"lintian passed: {_counts_text(self._counts(data))}"


def record_lint_counts(step, data: dict) -> dict:
    """lintian's counts by severity from ``venvdeb lint --json``, as properties of ``step``."""
    # Severities lintian did not report are zero: a property that is missing reads as unknown.
    counts: dict = {"error": 0, "warning": 0, "info": 0}
    for package in data.get("packages") or ():
        for severity, n in (package.get("counts") or {}).items():
            counts[severity] = counts.get(severity, 0) + n
    for severity, n in counts.items():
        step.setProperty(f"lintian_{severity}", n, step.name)
    step.setProperty("lintian_counts", counts, step.name)
    return counts


def _counts_text(counts: dict) -> str:
    shown = [f"{counts.get(s, 0)} {s}" for s in ("error", "warning", "info")]
    return ", ".join(shown)
