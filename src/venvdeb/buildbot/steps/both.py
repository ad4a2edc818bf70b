"""A step that runs on the worker and the master at once: `Gates` runs a package's two gates side
by side, as `venvdeb pipeline` does: lintian on the worker, where the package was built, and smoke
on the master, which tests it against the one repository.
"""

from __future__ import annotations

from twisted.internet import defer

from buildbot import config
from buildbot.process import buildstep
from buildbot.process.results import CANCELLED, FAILURE, SUCCESS

from .common import _JsonResult, _no_environment_log, _require, error_text, parse_json
from .master import MasterCommand
from .worker import Lint, _counts_text, record_lint_counts


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

