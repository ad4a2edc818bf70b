"""The error hierarchy. Every error says what is wrong, where, and what to do."""

from __future__ import annotations

from dataclasses import dataclass


class VenvdebError(Exception):
    """Base of every error venvdeb reports to a user (exit status 2)."""

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


class NetworkError(VenvdebError):
    """A download failed even after retries."""


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

    def as_dict(self) -> dict:
        return {"error": "WheelhouseFailed", "failures": [vars(f) for f in self.failures]}
