"""The error hierarchy. Every error says what is wrong, where, and what to do, and which of the
command line's exit statuses it is:

    0  ok
    1  the artifact failed a gate or a check (Rejected): the package is bad
    2  bad usage or bad input (VenvdebError, ModelError): what was given must change
    3  a tool or the environment failed (ToolError, NetworkError): the machine, not the input

so that Buildbot and scripts can tell "your package is bad" from "the tool is broken"."""

from __future__ import annotations

from dataclasses import dataclass

# The command line's exit statuses: (what it prints before the message, what it means).
EXIT_STATUSES = {
    0: ("", "ok"),
    1: ("rejected", "the artifact failed a gate or a check: the package is bad (lint, smoke, its build, a "
                    "promotion whose gates did not pass)"),
    2: ("error", "bad usage or bad input: what was given (a file, a key, an argument, a pin) must change"),
    3: ("tool failed", "a tool or the environment failed (the network, gpg, reprepro, apt, mmdebstrap, git): "
                       "the machine, not the input; running it again may succeed"),
}


class VenvdebError(Exception):
    """Base of every error venvdeb reports to a user: bad usage or bad input (exit status 2)."""

    exit_status = 2

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message

    def as_dict(self) -> dict:
        return {"error": type(self).__name__, "message": self.message, "hint": self.hint}


class ModelError(VenvdebError):
    """A release or service file is malformed or inconsistent."""

    def __init__(self, path, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{self.path}: invalid:\n{lines}")

    def as_dict(self) -> dict:
        return {"error": "ModelError", "file": self.path, "problems": self.problems}


class ToolError(VenvdebError):
    """A tool or the environment failed (gpg, reprepro, apt, mmdebstrap, git, a command in a
    chroot): exit status 3."""

    exit_status = 3


class NetworkError(ToolError):
    """A download failed even after retries."""


class Rejected(VenvdebError):
    """The artifact failed a gate or a check (lint, smoke, a build of its content, a promotion
    whose gates did not pass): exit status 1. ``result`` is the check's result (a dataclass of
    model/results.py), printed with --json as a success's would be."""

    exit_status = 1

    def __init__(self, message: str, result=None, hint: str | None = None):
        super().__init__(message, hint)
        self.result = result

    def as_dict(self) -> dict:
        return self.result.as_dict() if self.result is not None else super().as_dict()


class ProviderFailure(Exception):
    """A provider (the index, the sdist builder, a wheelhouse manifest) could not answer for one
    package. Not a VenvdebError: it is collected, and becomes a PackageFailure in the report."""

    def __init__(self, phase: str, reason: str, hint: str | None = None):
        super().__init__(reason)
        self.phase, self.reason, self.hint = phase, reason, hint


@dataclass
class PackageFailure:
    """One distribution that could not be resolved, fetched or built."""

    package: str
    phase: str
    reason: str
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.package}: [{self.phase}] {self.reason}"
        return text + (f"\n      hint: {self.hint}" if self.hint else "")


class WheelhouseFailed(VenvdebError):
    """Some packages failed; all of them are listed, none hides another."""

    def __init__(self, failures: list[PackageFailure]):
        self.failures = sorted(failures, key=lambda f: (f.package.lower(), f.phase))
        lines = "\n".join(f"  - {f}" for f in self.failures)
        super().__init__(
            f"wheelhouse failed: {len(self.failures)} package(s) could not be provided:\n{lines}"
        )

    @property
    def exit_status(self) -> int:
        """3 when only downloads failed (the network), else 2: the pins or build_depends must change."""
        return 3 if all(f.phase == "fetch" for f in self.failures) else 2

    def as_dict(self) -> dict:
        return {"error": "WheelhouseFailed", "failures": [vars(f) for f in self.failures]}
