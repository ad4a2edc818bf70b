"""A step that runs on the worker and the master at once: `Gates` runs a package's two gates side
by side, as `venvdeb pipeline` does: lintian on the worker, where the package was built, and smoke
on the master, which tests it against the one repository.
"""

from __future__ import annotations

from twisted.internet import defer

from buildbot import config
from buildbot.process import buildstep
from buildbot.process.results import CANCELLED, FAILURE, SUCCESS

from ...model.results import LintReport, SmokeResult
from .common import _JsonResult, _no_environment_log, _require, error_summary, parse
from .master import MasterCommand
from .worker import Lint, lint_summary


class Gates(_JsonResult, buildstep.ShellMixin, buildstep.BuildStep):
    """A package's two gates side by side, as ``venvdeb pipeline`` runs them: ``venvdeb lint`` on
    the worker (log "lint") while ``venvdeb smoke`` runs on the master (log "smoke"), where the
    repository is. The step fails if either does, and says which."""

    name = "gates"
    subcommand, result_class = ("lint",), LintReport  # on the worker; a package lintian rejected too
    master_subcommand, master_result_class = ("smoke",), SmokeResult  # on the master; failed checks too
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
        kwargs = self.setupShellMixin(_no_environment_log(self, **kwargs), prohibitArgs=["command"])
        super().__init__(**kwargs)
        self._master = MasterCommand(self)

    def lint_argv(self) -> list:
        return [*self.head(), *self.subcommand, self.deb, "--fail-on", ",".join(self.fail_on), *self.lint_args,
                "--json"]

    def smoke_argv(self) -> list:
        return [*self.head(self.master_packaging), *self.master_subcommand, self.release, self.service,
                self.master_deb, *self.smoke_args, "--json"]

    @defer.inlineCallbacks
    def run(self):
        lint = yield self.makeRemoteShellCommand(command=self.lint_argv(), collectStdout=True, stdioLogName="lint")
        smoke_log = yield self.addLog("smoke")
        (lint_ran, lint_error), (smoke_ran, smoke_out) = yield defer.DeferredList(
            [self.runCommand(lint), self._master.run(self.smoke_argv(), smoke_log)], consumeErrors=True)
        if self.stopped:
            return CANCELLED
        for ok, failure in ((lint_ran, lint_error), (smoke_ran, smoke_out)):
            if not ok:  # the worker went away, or the master could not start the command
                self._master.stop("the other gate could not run")
                failure.raiseException()
        smoke_rc, smoke_stdout = smoke_out
        linted = parse(lint.stdout, self.result_class)
        smoked = parse(smoke_stdout, self.master_result_class)
        lint_ok = not lint.didFail() and isinstance(linted, LintReport)
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
        self._master.stop(reason)
        return super().interrupt(reason)

