"""One BuildStep per venvdeb subcommand.

Each step runs ``venvdeb ... --json`` as an argv list, reads the JSON it prints on stdout (the
human messages go to stderr, so both land in the stdio log but only stdout is parsed), and turns
it into build properties and a one-line summary. A failed subcommand still prints JSON (the
error, or lintian's tags), so the summary says why it failed.

Worker steps (`VenvdebStep`) run in the build's directory on the worker; master steps
(`VenvdebMasterStep`) run on the master, for what must happen in one place: smoke tests against
and publication to the one repository. `Gates` runs a package's two gates side by side, as
`venvdeb pipeline` does: lintian on the worker, smoke on the master. A stopped build stops the
master's commands too (SIGTERM: venvdeb tears its chroot down).
"""

from __future__ import annotations

import json
import os
import shlex

from twisted.internet import defer, reactor

from buildbot import config
from buildbot.process import buildstep
from buildbot.process.results import CANCELLED, EXCEPTION, FAILURE, SKIPPED, SUCCESS
from buildbot.util import deferwaiter, runprocess

from ..model.results import BuildResult, FetchResult, WheelhouseResult


# venvdeb's exit status 3: a tool or the environment failed, not the package (errors.py). Buildbot
# shows it as an exception (purple), which a retry may clear; 1 and 2 are the package's or the
# input's failure.
TOOL_FAILED = 3


def failed_result(rc) -> int:
    return EXCEPTION if rc == TOOL_FAILED else FAILURE


def parse_json(stdout: str) -> dict | None:
    try:
        data = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def size_text(size) -> str:
    return f"{int(size) / 1e6:.1f} MB" if isinstance(size, (int, float)) else "? MB"


class _JsonResult:
    """What both kinds of step share: the argv, and JSON -> properties and summary."""

    subcommand: tuple[str, ...] = ()
    venvdeb = ("venvdeb",)     # the command; a list, so a path with spaces needs no quoting
    packaging = None           # --packaging, when the packaging root is not ./packaging
    packaging_commit = None    # --packaging-commit: the commit that root was checked out at
    extra_args: tuple = ()     # e.g. --cache-dir on every call of a factory
    property_prefix = ""
    summary_text = None

    def _check_common(self, venvdeb, packaging, extra_args, packaging_commit=None):
        if venvdeb is not None:
            if isinstance(venvdeb, str) or not venvdeb or not all(isinstance(a, str) for a in venvdeb):
                config.error(f"{type(self).__name__}: venvdeb must be a non-empty list of strings, not {venvdeb!r}")
            self.venvdeb = tuple(venvdeb)
        if packaging is not None:
            self.packaging = packaging
        self.packaging_commit = packaging_commit
        if extra_args is not None:
            if isinstance(extra_args, str):
                config.error(f"{type(self).__name__}: extra_args must be a list, not a string")
            self.extra_args = tuple(extra_args)

    def argv(self) -> list:
        """venvdeb [--packaging P] <subcommand> <arguments> <extra_args> --json; arguments() per step."""
        return self.head() + list(self.subcommand) + list(self.arguments()) + list(self.extra_args) + ["--json"]

    def head(self, packaging=None) -> list:
        """venvdeb and its global options."""
        head = list(self.venvdeb)
        if packaging or self.packaging:
            head += ["--packaging", packaging or self.packaging]
        return head + (["--packaging-commit", self.packaging_commit] if self.packaging_commit else [])

    def arguments(self) -> list:
        return []

    def record(self, data: dict) -> str:
        """Set properties from the JSON; return the step's summary."""
        raise NotImplementedError

    def failure_text(self, data: dict | None) -> str:
        said = error_text(data)
        return f"{self.name}: {said}" if said else f"{self.name} failed"

    def set_property(self, name: str, value) -> None:
        self.setProperty(self.property_prefix + name, value, self.name)

    def getResultSummary(self):
        if self.summary_text:
            summary = {"step": self.summary_text}
            if self.results not in (SUCCESS, None):
                summary["build"] = self.summary_text  # the build's summary says which stage failed
            return summary
        return super().getResultSummary()


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


class VenvdebMasterStep(_JsonResult, buildstep.BuildStep):
    """Run one venvdeb subcommand on the master (stdout parsed, stderr to the stdio log)."""

    name = "venvdeb-master"
    haltOnFailure = True
    flunkOnFailure = True
    env = None  # extra environment for the master's command

    def __init__(self, venvdeb=None, packaging=None, extra_args=None, env=None, **kwargs):
        self._check_common(venvdeb, packaging, extra_args)
        if env is not None:
            if not isinstance(env, dict):
                config.error(f"{type(self).__name__}: env must be a dict")
            self.env = env
        super().__init__(**kwargs)
        self._master = MasterCommand(self)

    @defer.inlineCallbacks
    def run(self):
        log = yield self.addLog("stdio")
        rc, stdout = yield self._master.run(self.argv(), log, self.env)
        if self.stopped:
            return CANCELLED
        data = parse_json(stdout)
        if rc != 0 or data is None:
            self.summary_text = self.failure_text(data)
            return failed_result(rc)
        self.summary_text = self.record(data)
        return SUCCESS

    def interrupt(self, reason):
        self._master.stop(reason)
        return super().interrupt(reason)


class MasterCommand:
    """A venvdeb command a step runs on the master: its output to the step's log, its stdout
    kept, and stopped (SIGTERM) when the step is."""

    def __init__(self, step):
        self.step, self.process = step, None
        self._waiter = deferwaiter.DeferWaiter()

    @defer.inlineCallbacks
    def run(self, argv, log, env=None):
        """(exit status, stdout text)."""
        argv = [str(a) for a in argv]
        yield log.addHeader(shlex.join(argv) + "\n** on the master **\n")
        stdout = []
        self.process = runprocess.create_process(
            reactor, argv, workdir=None, env=dict(os.environ, **(env or {})),
            collect_stdout=lambda data: (stdout.append(data), self._waiter.add(log.addStdout(_text(data)))),
            collect_stderr=lambda data: self._waiter.add(log.addStderr(_text(data))),
            # smoke brings services up and may be quiet for minutes; the build's own timeouts rule
            io_timeout=3600, runtime_timeout=4 * 3600,
        )
        yield self.process.start()
        yield self._waiter.wait()
        return self.process.result_rc, b"".join(_bytes(d) for d in stdout).decode(errors="replace")

    def stop(self, reason) -> None:
        if getattr(self.process, "process", None) is not None and self.process.result_rc is None:
            self.process.kill(f"the step was stopped: {reason}")


def error_text(data: dict | None) -> str:
    """What a failed venvdeb command's JSON says went wrong: its message (a model error: the file
    and its first problem), not the error's class."""
    if not data or not data.get("error"):
        return ""
    if data.get("problems"):
        said = f"{data.get('file', '')}: {data['problems'][0]}"
    else:
        said = data.get("message") or data["error"]
    return str(said).splitlines()[0][:200]


def truthy(value) -> bool:
    """A build property's yes: properties from forms and triggers come as bools or strings."""
    return value not in (None, False, "", "false", "False", 0)


def _text(data) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _bytes(data) -> bytes:
    return data.encode() if isinstance(data, str) else data


def _no_environment_log(step, kwargs: dict) -> dict:
    """Buildbot writes a worker command's whole environment at the top of its log unless told
    not to, and anyone may read logs in the web UI: tokens and passwords in a worker's
    environment would be on show. Off, and not to be turned on."""
    if kwargs.get("logEnviron", False):
        config.error(f"{type(step).__name__}: logEnviron=True would show the worker's environment "
                     "(its secrets too) to every reader of the web UI")
    return dict(kwargs, logEnviron=False)


def _require(step, **values):
    for key, value in values.items():
        # Not `value == ""`: a renderable compared with == is itself a (truthy) renderable.
        if value is None or (isinstance(value, str) and not value):
            config.error(f"{type(step).__name__}: {key} is required")


# -- worker steps -----------------------------------------------------------------------------


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


# -- master steps -----------------------------------------------------------------------------


class Publish(VenvdebMasterStep):
    """``venvdeb repo publish <suite> <deb>`` on the master: one writer for the repository."""

    name = "publish"
    subcommand = ("repo", "publish")
    renderables = ("suite", "deb", "packaging")

    def __init__(self, suite=None, deb=None, **kwargs):
        _require(self, suite=suite, deb=deb)
        self.suite, self.deb = suite, deb
        super().__init__(**kwargs)

    def arguments(self):
        return [self.suite, self.deb]

    def record(self, data):
        done = data.get("published") or []
        new = [p for p in done if p.get("published")]
        self.setProperty("published", [f"{p['package']} {p['version']}" for p in new], self.name)
        parts = [f"{p.get('package')} {p.get('version')}" + ("" if p.get("published") else f" ({p.get('reason')})")
                 for p in done]
        return f"{self.suite}: {'; '.join(parts) or 'nothing'}"


class ReserveVersion(VenvdebMasterStep):
    """``venvdeb repo reserve-version <release> <package> --upstream U`` on the master: the build's
    version, above what is published and in flight (property ``version``)."""

    name = "version"
    subcommand = ("repo", "reserve-version")
    renderables = ("release", "package", "upstream", "packaging")

    def __init__(self, release=None, package=None, upstream=None, **kwargs):
        _require(self, release=release, package=package, upstream=upstream)
        self.release, self.package, self.upstream = release, package, upstream
        super().__init__(**kwargs)

    def arguments(self):
        return [self.release, self.package, "--upstream", self.upstream]

    def record(self, data):
        self.set_property("version", data.get("version"))
        return f"{data.get('package')} {data.get('version')}: taken"


class RecordBuild(VenvdebMasterStep):
    """``venvdeb repo record-build <release> <package> <version> --ledger L`` on the master: the
    worker's changelog entry joins the master's ledger."""

    name = "record-build"
    subcommand = ("repo", "record-build")
    renderables = ("release", "package", "version", "ledger", "packaging")

    def __init__(self, release=None, package=None, version=None, ledger=None, **kwargs):
        _require(self, release=release, package=package, version=version, ledger=ledger)
        self.release, self.package, self.version, self.ledger = release, package, version, ledger
        super().__init__(**kwargs)

    def arguments(self):
        return [self.release, self.package, self.version, "--ledger", self.ledger]

    def record(self, data):
        return f"{data.get('package')} {data.get('version')}: in the master's ledger"


class RecordGate(VenvdebMasterStep):
    """``venvdeb repo record-gate <deb> <gate> <result>`` on the master: a gate that ran on a worker
    is recorded where ``repo promote`` looks for it."""

    name = "record-gate"
    subcommand = ("repo", "record-gate")
    renderables = ("deb", "gate", "result", "packaging")

    def __init__(self, deb=None, gate=None, result=None, **kwargs):
        _require(self, deb=deb, gate=gate, result=result)
        if gate not in ("lint", "smoke"):
            config.error(f"RecordGate: gate must be 'lint' or 'smoke', not {gate!r}")
        self.deb, self.gate, self.result = deb, gate, result
        super().__init__(**kwargs)

    def arguments(self):
        return [self.deb, self.gate, self.result]

    def record(self, data):
        return f"{data.get('package')} {data.get('version')}: {self.gate} {'passed' if data.get('passed') else 'FAILED'}"


class Gates(_JsonResult, buildstep.ShellMixin, buildstep.BuildStep):
    """A package's two gates side by side, as ``venvdeb pipeline`` runs them: ``venvdeb lint`` on
    the worker (log "lint") while ``venvdeb smoke`` runs on the master (log "smoke"), where the
    repository is. The step fails if either does, and says which."""

    name = "gates"
    description = "lint and smoke"
    haltOnFailure = True
    flunkOnFailure = True
    renderables = ("release", "service", "deb", "master_deb", "packaging", "master_packaging")

    def __init__(self, release=None, service=None, deb=None, master_deb=None, fail_on=None, lint_args=(),
                 smoke_args=(), venvdeb=None, packaging=None, master_packaging=None, **kwargs):
        _require(self, release=release, service=service, deb=deb, master_deb=master_deb)
        self._check_common(venvdeb, packaging, None)
        # The master's copy of the build's packaging checkout (the worker's path means nothing there).
        self.master_packaging = master_packaging
        self.release, self.service, self.deb, self.master_deb = release, service, deb, master_deb
        self.fail_on = tuple(fail_on) if fail_on is not None else Lint.fail_on
        if not self.fail_on or not set(self.fail_on) <= set(Lint.SEVERITIES):
            config.error(f"Gates: fail_on must be a list of lintian severities, not {fail_on!r}")
        self.lint_args, self.smoke_args = tuple(lint_args), tuple(smoke_args)
        kwargs = self.setupShellMixin(_no_environment_log(self, kwargs), prohibitArgs=["command"])
        super().__init__(**kwargs)
        self._master = MasterCommand(self)

    def lint_argv(self) -> list:
        return self.head() + ["lint", self.deb, "--fail-on", ",".join(self.fail_on), *self.lint_args, "--json"]

    def smoke_argv(self) -> list:
        return self.head(self.master_packaging) + ["smoke", self.release, self.service, self.master_deb, *self.smoke_args,
                                                   "--json"]

    @defer.inlineCallbacks
    def run(self):
        lint = yield self.makeRemoteShellCommand(command=self.lint_argv(), collectStdout=True, stdioLogName="lint")
        smoke_log = yield self.addLog("smoke")
        (linted, lint_error), (smoked, smoke_out) = yield defer.DeferredList(
            [self.runCommand(lint), self._master.run(self.smoke_argv(), smoke_log)], consumeErrors=True)
        if self.stopped:
            return CANCELLED
        for ok, failure in ((linted, lint_error), (smoked, smoke_out)):
            if not ok:  # the worker went away, or the master could not start the command
                self._master.stop("the other gate could not run")
                failure.raiseException()
        lint_data, smoke_data = parse_json(lint.stdout), parse_json(smoke_out[1])
        said = []
        if lint_data is not None:
            counts = record_lint_counts(self, lint_data)
            said.append(f"lintian {'passed' if not lint.didFail() else 'failed'}: {_counts_text(counts)}")
        else:
            said.append("lintian failed")
        smoke_ok = smoke_out[0] == 0 and smoke_data is not None
        checks = (smoke_data or {}).get("checks") or []
        failed = [c.get("name") for c in checks if not c.get("passed")]
        if smoke_ok:
            self.setProperty("smoke_checks", len(checks), self.name)
            said.append(f"smoke passed: {len(checks)} checks")
        elif failed:
            said.append(f"smoke failed: {', '.join(failed)}")
        elif error_text(smoke_data):
            said.append(f"smoke: {error_text(smoke_data)}")
        else:
            said.append("smoke failed")
        self.summary_text = "; ".join(said)
        return SUCCESS if smoke_ok and lint_data is not None and not lint.didFail() else FAILURE

    def interrupt(self, reason):
        self._master.stop(reason)
        return super().interrupt(reason)


class Promote(VenvdebMasterStep):
    """``venvdeb repo promote <release> <package> <version>``: staging to production, if the gates
    passed for the very file in staging."""

    name = "promote"
    subcommand = ("repo", "promote")
    renderables = ("release", "package", "version", "packaging")

    def __init__(self, release=None, package=None, version=None, **kwargs):
        _require(self, release=release, package=package, version=version)
        self.release, self.package, self.version = release, package, version
        super().__init__(**kwargs)

    def arguments(self):
        return [self.release, self.package, self.version]

    def record(self, data):
        done = "promoted" if data.get("promoted") else data.get("reason", "not promoted")
        return f"{data.get('suite')}: {data.get('package')} {data.get('version')} {done}"


class Rollback(VenvdebMasterStep):
    """``venvdeb repo rollback <suite> <package> <version> --restore``: an earlier version of the
    suite's is its version again."""

    name = "rollback"
    subcommand = ("repo", "rollback")
    renderables = ("suite", "package", "version", "packaging")

    def __init__(self, suite=None, package=None, version=None, **kwargs):
        _require(self, suite=suite, package=package, version=version)
        self.suite, self.package, self.version = suite, package, version
        super().__init__(**kwargs)

    def arguments(self):
        return [self.suite, self.package, self.version, "--restore"]

    def record(self, data):
        if not data.get("restored"):
            return f"{self.suite}: {self.package} {self.version} ({data.get('reason')})"
        return f"{self.suite}: {self.package} back to {self.version} (was {', '.join(data.get('replaced') or [])})"


class RepoRefresh(VenvdebMasterStep):
    """``venvdeb repo refresh``: every suite signed again, valid for another week."""

    name = "refresh"
    subcommand = ("repo", "refresh")

    def record(self, data):
        from email.utils import parsedate_to_datetime

        until = sorted(set((data.get("valid_until") or {}).values()), key=parsedate_to_datetime)
        return f"{len(data.get('valid_until') or {})} suites valid until {until[0] if until else '?'}"
