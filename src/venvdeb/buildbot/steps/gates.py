"""The gates, on the master: out of reach of the worker that built the package.

A worker's upload is data. The master runs every gate that decides what is signed on that upload
itself, from its own checkout of the packaging, and each gate records its own result for the
upload's bytes (``--record``): publish then requires them (repository/gates.py). Nothing a worker
says about its package counts.

- `Lint`: ``venvdeb lint <deb> --record``;
- `Verify`: ``venvdeb wheelhouse verify <release> <deb> --record``, a wheelhouse's wheels against
  their manifest and the index;
- `Gates`: lint and smoke side by side, as ``venvdeb pipeline`` runs them (lintian is one process
  on one core; smoke waits on apt, migrations and servers as much as it computes);
- `Rebuild`: ``venvdeb rebuild <release> <service> <deb> --record``, the worker's package built
  again by the master and compared byte for byte, which promotion requires; `WheelhouseRebuild`,
  the same for a wheelhouse (``venvdeb wheelhouse rebuild``: every sdist built afresh).
"""

from __future__ import annotations

from twisted.internet import defer

from buildbot import config
from buildbot.process import buildstep
from buildbot.process.results import CANCELLED, FAILURE, SUCCESS

from pathlib import Path

from ...model.results import CloudResult, LintReport, RebuildResult, SmokeResult, WheelhouseVerified
from .common import _JsonResult, _require, error_summary, parse
from .master import MasterCommand, VenvdebMasterStep

SEVERITIES = ("error", "warning", "info", "pedantic", "experimental", "overridden")
FAIL_ON = ("error", "warning")


def check_fail_on(step, fail_on) -> tuple[str, ...]:
    if fail_on is None:
        return FAIL_ON
    if isinstance(fail_on, str) or not fail_on or not set(fail_on) <= set(SEVERITIES):
        config.error(f"{type(step).__name__}: fail_on must be a list of lintian severities, not {fail_on!r}")
    return tuple(fail_on)


def record_lint_counts(step, report: LintReport) -> dict:
    """lintian's counts by severity from ``venvdeb lint --json``, as properties of ``step``."""
    counts = report.counts()  # error, warning and info even at zero: a missing property reads as unknown
    for severity, n in counts.items():
        step.setProperty(f"lintian_{severity}", n, step.name)
    step.setProperty("lintian_counts", counts, step.name)
    return counts


def lint_summary(step, report: LintReport, passed: bool) -> str:
    """lintian's counts recorded on ``step``, and its one line."""
    counts = record_lint_counts(step, report)
    shown = ", ".join(f"{counts[s]} {s}" for s in ("error", "warning", "info"))
    return f"lintian {'passed' if passed else 'failed'}: {shown}"


class Lint(VenvdebMasterStep):
    """``venvdeb lint <deb> --fail-on ... --record`` on the master: properties lintian_{error,...}."""

    name = "lintian"
    subcommand = ("lint",)
    result_class = LintReport  # a package lintian rejected too: its tags
    description = "lintian"
    required = ("deb",)

    def __init__(self, fail_on=None, **kwargs):
        self.fail_on = check_fail_on(self, fail_on)
        super().__init__(**kwargs)

    def arguments(self):
        return [self.deb, "--fail-on", ",".join(self.fail_on), "--record"]

    def record(self, result: LintReport):
        return lint_summary(self, result, passed=True)

    def record_failure(self, result):
        if isinstance(result, LintReport):  # lintian rejected the package: its counts are worth having
            return lint_summary(self, result, passed=False)
        return super().record_failure(result)


class Verify(VenvdebMasterStep):
    """``venvdeb wheelhouse verify <release> <deb> --record`` on the master."""

    name = "verify"
    subcommand = ("wheelhouse", "verify")
    result_class = WheelhouseVerified
    description = "verify the wheels"
    required = ("release", "deb")

    def arguments(self):
        return [self.release, self.deb, "--record"]

    def record(self, result: WheelhouseVerified):
        return f"{result.wheels} wheels: the manifest's, and the index's"

    def record_failure(self, result):
        if isinstance(result, WheelhouseVerified) and result.failures:
            return f"{len(result.failures)} wheel(s) not as published: {result.failures[0]}"
        return super().record_failure(result)


class Cloud(VenvdebMasterStep):
    """``venvdeb cloud <release> --dist <distribution> --record`` on the master: the point's staged
    packages together on one controller, and a user's scenario; recorded for each package's file,
    with the versions it ran beside (promotion's gate)."""

    name = "cloud"
    subcommand = ("cloud",)
    result_class = CloudResult
    description = "the cloud gate"
    required = ("release",)

    def arguments(self):
        return [self.release, "--record"]

    def record(self, result: CloudResult):
        return f"{len(result.versions)} packages together, {result.scenario_steps} scenario steps passed"

    def record_failure(self, result):
        if isinstance(result, CloudResult):
            failed = next((c.name for c in result.checks if not c.passed), "no check ran")
            return f"failed: {failed}"
        return super().record_failure(result)


class Gates(_JsonResult, buildstep.BuildStep):
    """A service package's two gates side by side on the master, each recorded for the upload:
    ``venvdeb lint`` (log "lint") and ``venvdeb smoke`` (log "smoke"). The step fails if either
    does, and says which."""

    name = "gates"
    subcommand, result_class = ("lint",), LintReport  # a package lintian rejected too
    smoke_subcommand, smoke_result_class = ("smoke",), SmokeResult  # failed checks too
    description = "lint and smoke"
    haltOnFailure = True
    flunkOnFailure = True
    renderables = ("release", "service", "deb", "packaging")

    def __init__(self, release=None, service=None, deb=None, fail_on=None, lint_args=(), smoke_args=(),
                 venvdeb=None, packaging=None, **kwargs):
        _require(self, release=release, service=service, deb=deb)
        self._check_common(venvdeb, packaging, None)
        self.release, self.service, self.deb = release, service, deb
        self.fail_on = check_fail_on(self, fail_on)
        self.lint_args, self.smoke_args = tuple(lint_args), tuple(smoke_args)
        super().__init__(**kwargs)
        self._lint, self._smoke = MasterCommand(self), MasterCommand(self)

    def lint_argv(self) -> list:
        return [*self.head(), *self.subcommand, self.deb, "--fail-on", ",".join(self.fail_on), "--record",
                *self.lint_args, "--json"]

    def smoke_argv(self) -> list:
        return [*self.head(), *self.smoke_subcommand, self.release, self.service, self.deb, "--record",
                *self.smoke_args, "--json"]

    @defer.inlineCallbacks
    def run(self):
        lint_log = yield self.addLog("lint")
        smoke_log = yield self.addLog("smoke")
        (lint_ran, lint_out), (smoke_ran, smoke_out) = yield defer.DeferredList(
            [self._lint.run(self.lint_argv(), lint_log), self._smoke.run(self.smoke_argv(), smoke_log)],
            consumeErrors=True)
        if self.stopped:
            return CANCELLED
        for ok, out, other in ((lint_ran, lint_out, self._smoke), (smoke_ran, smoke_out, self._lint)):
            if not ok:  # the master could not start the command
                other.stop("the other gate could not run")
                out.raiseException()
        (lint_rc, lint_stdout), (smoke_rc, smoke_stdout) = lint_out, smoke_out
        linted = parse(lint_stdout, self.result_class)
        smoked = parse(smoke_stdout, self.smoke_result_class)
        lint_ok = lint_rc == 0 and isinstance(linted, LintReport)
        smoke_ok = smoke_rc == 0 and isinstance(smoked, SmokeResult)
        self.summary_text = f"{self.lint_text(linted, lint_ok)}; {self.smoke_text(smoked, smoke_ok)}"
        return SUCCESS if lint_ok and smoke_ok else FAILURE

    def lint_text(self, linted, passed: bool) -> str:
        if isinstance(linted, LintReport):  # passed, or the package rejected: the counts either way
            return lint_summary(self, linted, passed)
        return error_summary("lintian", linted)

    def smoke_text(self, smoked, passed: bool) -> str:
        if passed:
            self.set_property("smoke_checks", len(smoked.checks or []))
            return f"smoke passed: {len(smoked.checks or [])} checks"
        if isinstance(smoked, SmokeResult) and smoked.checks and smoked.failed():
            return f"smoke failed: {', '.join(smoked.failed())}"
        return error_summary("smoke", smoked)

    def interrupt(self, reason):
        self._lint.stop(reason)
        self._smoke.stop(reason)
        return super().interrupt(reason)


class _Rebuilds(VenvdebMasterStep):
    """A rebuild on the master, recorded for the upload's bytes: when it gave other bytes, the log
    "diffoscope" says where the two files differ."""

    name = "rebuild"
    result_class = RebuildResult
    description = "rebuild and compare"

    def more_logs(self, stdout: str):
        result = parse(stdout, RebuildResult)
        if not isinstance(result, RebuildResult) or result.matched:
            return None
        report = Path(result.report) if result.report else None
        text = report.read_text(errors="replace") if report and report.is_file() else result.differences
        return self.addCompleteLog("diffoscope", text)

    def record(self, result: RebuildResult):
        return f"rebuilt in {result.seconds:.0f} s: the same bytes"

    def record_failure(self, result):
        if isinstance(result, RebuildResult):
            return (f"rebuild gave other bytes (sha256 {result.rebuilt_sha256[:12]}..., not {result.sha256[:12]}...): "
                    "see the log diffoscope")
        return super().record_failure(result)


class Rebuild(_Rebuilds):
    """``venvdeb rebuild <release> <service> <deb> --record --out-dir D`` on the master: what a worker
    built, built again by the master from its own checkout, cache and chroot, and compared byte
    for byte; promotion requires that they matched."""

    subcommand = ("rebuild",)
    required = ("release", "service", "deb", "out_dir")

    def arguments(self):
        return [self.release, self.service, self.deb, "--record", "--out-dir", self.out_dir]


class WheelhouseRebuild(_Rebuilds):
    """``venvdeb wheelhouse rebuild <release> <deb> --record --out-dir D`` on the master: a
    wheelhouse built again by the master, every sdist afresh, and compared byte for byte."""

    subcommand = ("wheelhouse", "rebuild")
    required = ("release", "deb", "out_dir")

    def arguments(self):
        return [self.release, self.deb, "--record", "--out-dir", self.out_dir]
