"""What every venvdeb step shares, wherever it runs: the argv, and the JSON the command prints
turned into properties and a summary.

Each step runs ``venvdeb ... --json`` as an argv list, reads the JSON it prints on stdout (the
human messages go to stderr, so both land in the stdio log but only stdout is parsed), and turns
it into build properties and a one-line summary. A failed subcommand still prints JSON (the
error, or lintian's tags), so the summary says why it failed.
"""

from __future__ import annotations

import json

from buildbot import config
from buildbot.process.results import EXCEPTION, FAILURE, SUCCESS


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

