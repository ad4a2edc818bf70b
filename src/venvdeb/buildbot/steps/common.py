"""What every venvdeb step shares, wherever it runs: the argv, the one reading of what the command
prints into its typed result, and the summary of a failure.

Each step runs ``venvdeb ... --json`` as an argv list, reads the JSON it prints on stdout (the
human messages go to stderr, so both land in the stdio log but only stdout is parsed), and turns
it into build properties and a one-line summary. A failed subcommand still prints JSON (the
error, or lintian's tags), so the summary says why it failed.

Each step names the class of what its command prints (``result_class``, as ``results.COMMANDS``
has it). ``parse`` reads stdout once, into that class or, when the command says what went wrong,
an ``ErrorResult``; ``record`` and ``record_failure`` get the dataclass, never the JSON.
"""

from __future__ import annotations

import json

from buildbot import config
from buildbot.process.results import EXCEPTION, FAILURE, SUCCESS

from ...model.results import ErrorResult, Result


# venvdeb's exit status 3: a tool or the environment failed, not the package (errors.py). Buildbot
# shows it as an exception (purple), which a retry may clear; 1 and 2 are the package's or the
# input's failure.
TOOL_FAILED = 3


def failed_result(rc) -> int:
    return EXCEPTION if rc == TOOL_FAILED else FAILURE


def parse(stdout: str, result_class: type[Result]) -> Result | None:
    """What a venvdeb command printed: an ``ErrorResult`` when it says what went wrong, else
    ``result_class`` (a rejected package's own result too: lint's tags, smoke's checks); None
    when it printed no JSON object (a traceback, nothing)."""
    try:
        data = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    return (ErrorResult if "error" in data else result_class).from_dict(data)


def size_text(size) -> str:
    return f"{int(size) / 1e6:.1f} MB" if isinstance(size, (int, float)) else "? MB"


def error_summary(name: str, result: Result | None) -> str:
    """A failed command's one line: what its ``ErrorResult`` says went wrong (a model error: the
    file and its first problem), not the error's class."""
    said = result.text() if isinstance(result, ErrorResult) else ""
    return f"{name}: {said}" if said else f"{name} failed"


class _JsonResult:
    """What both kinds of step share: the argv, and the command's result -> properties and summary."""

    subcommand: tuple[str, ...] = ()
    # Options that change what the command prints (Plan's --plan), after the step's arguments: the
    # command's key in results.COMMANDS is subcommand + variant.
    variant: tuple[str, ...] = ()
    result_class: type[Result] | None = None  # what the command prints when it succeeds
    venvdeb = ("venvdeb",)     # the command; a list, so a path with spaces needs no quoting
    packaging = None           # --packaging, when the packaging root is not ./packaging
    packaging_commit = None    # --packaging-commit: the commit that root was checked out at
    extra_args: tuple = ()     # e.g. --cache-dir on every call of a factory
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
        """venvdeb [--packaging P] <subcommand> <arguments> <variant> <extra_args> --json; arguments() per step."""
        return (self.head() + list(self.subcommand) + list(self.arguments()) + list(self.variant)
                + list(self.extra_args) + ["--json"])

    def head(self, packaging=None) -> list:
        """venvdeb and its global options."""
        head = list(self.venvdeb)
        if packaging or self.packaging:
            head += ["--packaging", packaging or self.packaging]
        return head + (["--packaging-commit", self.packaging_commit] if self.packaging_commit else [])

    def arguments(self) -> list:
        return []

    def conclude(self, failed: bool, rc, stdout: str) -> int:
        """The step's result, from whether the command failed, its exit status and its stdout: what
        it printed recorded (properties, summary), or why it failed."""
        result = parse(stdout, self.result_class)
        if failed or not isinstance(result, self.result_class):
            self.summary_text = self.record_failure(result)
            return failed_result(rc)
        self.summary_text = self.record(result)
        return self.outcome(result)

    def record(self, result) -> str:
        """Set properties from the command's result (``result_class``); return the step's summary."""
        raise NotImplementedError

    def record_failure(self, result: Result | None) -> str:
        """The summary of a failed command. A step whose command prints the rejected package's own
        result (lint) records what it says too."""
        return error_summary(self.name, result)

    def outcome(self, result) -> int:
        """The step's result when the command succeeded."""
        return SUCCESS

    def set_property(self, name: str, value) -> None:
        self.setProperty(name, value, self.name)

    def getResultSummary(self):
        if not self.summary_text:
            return super().getResultSummary()
        if self.results in (SUCCESS, None):
            return {"step": self.summary_text}
        return {"step": self.summary_text, "build": self.summary_text}  # the build's says which stage failed


def truthy(value) -> bool:
    """A build property's yes: properties from forms and triggers come as bools or strings."""
    return value not in (None, False, "", "false", "False", 0)


def _no_environment_log(step, logEnviron=False, **kwargs) -> dict:
    """A worker step's keyword arguments, with ``logEnviron`` off. Buildbot writes a worker
    command's whole environment at the top of its log unless told not to, and anyone may read logs
    in the web UI: tokens and passwords in a worker's environment would be on show. Off, and not
    to be turned on."""
    if logEnviron:
        config.error(f"{type(step).__name__}: logEnviron=True would show the worker's environment "
                     "(its secrets too) to every reader of the web UI")
    return dict(kwargs, logEnviron=False)


def _require(step, **values):
    for key, value in values.items():
        # Not `value == ""`: a renderable compared with == is itself a (truthy) renderable.
        if value is None or (isinstance(value, str) and not value):
            config.error(f"{type(step).__name__}: {key} is required")
