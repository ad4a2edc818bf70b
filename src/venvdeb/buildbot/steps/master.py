"""Steps that run a venvdeb command on the master (`VenvdebMasterStep`), for what must happen in
one place, or out of a worker's reach: the gates (gates.py), publication to the one repository,
and what that repository keeps (the versions taken, promotion, rollback, the suites' signatures). A stopped build stops the master's commands too (SIGTERM:
venvdeb tears its chroot down).
"""

from __future__ import annotations

import os
import shlex
from email.utils import parsedate_to_datetime

from twisted.internet import defer, reactor

from buildbot import config
from buildbot.process import buildstep
from buildbot.process.results import CANCELLED
from buildbot.util import deferwaiter, runprocess

from ...model.results import (PromoteResult, PublishResult, RefreshResult, RollbackResult, UploadAccepted,
                               VersionResult)
from .common import _JsonResult, _require, size_text


class VenvdebMasterStep(_JsonResult, buildstep.BuildStep):
    """Run one venvdeb subcommand on the master (stdout parsed, stderr to the stdio log)."""

    name = "venvdeb-master"
    haltOnFailure = True
    flunkOnFailure = True
    env = None  # extra environment for the master's command
    # The step's own arguments, by keyword, each required and each renderable: the command's
    # arguments in this order unless arguments() says otherwise.
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()  # renderable arguments too, which a step may do without (None)
    renderables = ("packaging",)  # Buildbot adds up the renderables of a step's classes

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.renderables = cls.required + cls.optional

    def __init__(self, venvdeb=None, packaging=None, extra_args=None, env=None, **kwargs):
        own = {name: kwargs.pop(name, None) for name in self.required}
        _require(self, **own)
        for name, value in {**own, **{name: kwargs.pop(name, None) for name in self.optional}}.items():
            setattr(self, name, value)
        self._check_common(venvdeb, packaging, extra_args)
        if env is not None:
            if not isinstance(env, dict):
                config.error(f"{type(self).__name__}: env must be a dict")
            self.env = env
        super().__init__(**kwargs)
        self._master = MasterCommand(self)

    def arguments(self) -> list:
        return [getattr(self, name) for name in self.required]

    @defer.inlineCallbacks
    def run(self):
        log = yield self.addLog("stdio")
        rc, stdout = yield self._master.run(self.argv(), log, self.env)
        if self.stopped:
            return CANCELLED
        yield self.more_logs(stdout)
        return self.conclude(rc != 0, rc, stdout)

    def more_logs(self, stdout: str):
        """Logs besides stdio, from what the command printed (a Deferred, or None: none)."""
        return None

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


def _text(data) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _bytes(data) -> bytes:
    return data.encode() if isinstance(data, str) else data


class Publish(VenvdebMasterStep):
    """``venvdeb repo publish <suite> <deb> --package P [--version V] --max-size N`` on the master:
    one writer for the repository, which publishes a worker's upload only if it is the package
    (and the version) the master asked for."""

    name = "publish"
    subcommand = ("repo", "publish")
    result_class = PublishResult
    required = ("suite", "deb", "package", "max_size")
    # The version the master reserved (none for a wheelhouse: its content's); the gates required,
    # when not the package's own (a farm that runs no smoke).
    optional = ("version", "gates")

    def arguments(self):
        return [self.suite, self.deb, "--package", self.package, "--max-size", self.max_size,
                *(["--version", self.version] if self.version else []),
                *(["--gates", ",".join(self.gates)] if self.gates else [])]

    def record(self, result: PublishResult):
        self.set_property("published", [p.text() for p in result.new()])
        return f"{self.suite}: {'; '.join(p.text() for p in result.published) or 'nothing'}"


class AcceptUpload(VenvdebMasterStep):
    """``venvdeb repo check-upload <deb> --package P [--version V] --max-size N`` on the master: the
    worker's upload is the package (at the version) the master asked for, whole, before any gate
    runs on it or records anything for it."""

    name = "accept-upload"
    subcommand = ("repo", "check-upload")
    result_class = UploadAccepted
    required = ("deb", "package", "max_size")
    optional = ("version",)  # the version the master reserved; none for a wheelhouse (its content's)

    def arguments(self):
        return [self.deb, "--package", self.package, "--max-size", self.max_size,
                *(["--version", self.version] if self.version else [])]

    def record(self, result: UploadAccepted):
        self.set_property("upload_sha256", result.sha256)
        # The version the master read in the package (a wheelhouse's is its content's): the entry
        # of the worker's ledger that the master records, whatever a worker's step sets later.
        self.set_property("accepted_version", result.version)
        return f"{result.package} {result.version}: as asked, {size_text(result.size)}"


class ReserveVersion(VenvdebMasterStep):
    """``venvdeb repo reserve-version <release> <package> --upstream U`` on the master: the build's
    version, above what is published and in flight (property ``version``)."""

    name = "version"
    subcommand = ("repo", "reserve-version")
    result_class = VersionResult
    required = ("release", "package", "upstream")

    def arguments(self):
        return [self.release, self.package, "--upstream", self.upstream]

    def record(self, result: VersionResult):
        self.set_property("version", result.version)
        # The master's own: what the worker's upload must be, whatever a worker's step sets later.
        self.set_property("reserved_version", result.version)
        return f"{result.package} {result.version}: taken"


class RecordBuild(VenvdebMasterStep):
    """``venvdeb repo record-build <release> <package> <version> --ledger L`` on the master: the
    worker's changelog entry joins the master's ledger."""

    name = "record-build"
    subcommand = ("repo", "record-build")
    result_class = VersionResult
    required = ("release", "package", "version", "ledger")

    def arguments(self):
        return [self.release, self.package, self.version, "--ledger", self.ledger]

    def record(self, result: VersionResult):
        return f"{result.package} {result.version}: in the master's ledger"


class Promote(VenvdebMasterStep):
    """``venvdeb repo promote <release> <package> <version>``: staging to production, if the gates
    passed for the very file in staging."""

    name = "promote"
    subcommand = ("repo", "promote")
    result_class = PromoteResult
    required = ("release", "package", "version")

    def record(self, result: PromoteResult):
        done = "promoted" if result.promoted else (result.reason or "not promoted")
        return f"{result.suite}: {result.package} {result.version} {done}"


class Rollback(VenvdebMasterStep):
    """``venvdeb repo rollback <suite> <package> <version> --restore``: an earlier version of the
    suite's is its version again."""

    name = "rollback"
    subcommand = ("repo", "rollback")
    result_class = RollbackResult
    required = ("suite", "package", "version")

    def arguments(self):
        return super().arguments() + ["--restore"]

    def record(self, result: RollbackResult):
        if not result.restored:
            return f"{self.suite}: {self.package} {self.version} ({result.reason})"
        return f"{self.suite}: {self.package} back to {self.version} (was {', '.join(result.replaced or [])})"


class RepoRefresh(VenvdebMasterStep):
    """``venvdeb repo refresh``: every suite signed again, valid for another week."""

    name = "refresh"
    subcommand = ("repo", "refresh")
    result_class = RefreshResult

    def record(self, result: RefreshResult):
        valid_until = result.valid_until or {}
        until = sorted(set(valid_until.values()), key=parsedate_to_datetime)
        return f"{len(valid_until)} suites valid until {until[0] if until else '?'}"
