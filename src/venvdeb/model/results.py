"""What venvdeb reports: one dataclass per subcommand's ``--json`` output, the contract between
the CLI and whatever reads it (Buildbot's steps, scripts).

``as_dict`` is the JSON; ``from_dict`` reads it back, nested results included. Reading is lenient
on purpose: a worker may run another venvdeb than the master, so a key it does not send reads as
its field's default (or None) rather than failing the step that only wanted to show it, and a key
it sends that this venvdeb does not know is ignored.

A command that ran for several distributions prints a ``ByDistribution`` of its per-distribution
results; a failed one prints an ``ErrorResult`` (errors.py writes it), or the rejected artifact's
own result (a lint or smoke that failed says which tags or checks).
"""

from __future__ import annotations

import types
import typing
from collections import Counter
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path


class Result:
    """A subcommand's JSON: ``as_dict`` writes it, ``from_dict`` reads it back."""

    @classmethod
    def from_dict(cls, data: dict | None):
        data = data if isinstance(data, dict) else {}
        hints = typing.get_type_hints(cls)
        # A key not sent keeps its field's default (an empty list stays a list), else reads as None.
        return cls(**{f.name: _read(hints[f.name], data.get(f.name)) for f in fields(cls)  # type: ignore[arg-type]
                      if f.init and (f.name in data or not _has_default(f))})

    def as_dict(self) -> dict:
        return asdict(self)  # type: ignore[call-overload]


def _has_default(f) -> bool:
    return f.default is not MISSING or f.default_factory is not MISSING


def _read(hint, value):
    """``value`` from JSON as ``hint`` says: nested results become dataclasses again."""
    if value is None:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):  # X | None: the X
        hint = next((a for a in args if a is not type(None)), hint)
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if isinstance(hint, type) and issubclass(hint, Result):
        return hint.from_dict(value)
    if origin is list and args and isinstance(value, list):
        return [_read(args[0], v) for v in value]
    if origin is dict and len(args) == 2 and isinstance(value, dict):
        return {k: _read(args[1], v) for k, v in value.items()}
    return value


# -- every command ------------------------------------------------------------------------------


@dataclass
class ErrorResult(Result):
    """What a command that failed prints (errors.py), unless the artifact's own result says more."""

    error: str  # the error's kind: ModelError, ToolError, ...
    message: str | None = None
    hint: str | None = None
    file: str | None = None  # a model error: the file
    problems: list[str] = field(default_factory=list)  # ... and every problem in it
    failures: list[dict] = field(default_factory=list)  # a wheelhouse: every package that failed

    def text(self) -> str:
        """Its first line, for a one-line summary: the file and its first problem, or the message."""
        said = f"{self.file}: {self.problems[0]}" if self.problems else (self.message or self.error)
        return str(said).splitlines()[0][:200] if said else ""


@dataclass
class ByDistribution(Result):
    """A command's results at several distributions of a release, by codename. ``passed`` is set
    by commands that gate (the pipeline)."""

    distributions: dict[str, dict]
    passed: bool | None = None

    def each(self, result_class) -> dict:
        return {d: result_class.from_dict(r) for d, r in self.distributions.items()}


def per_distribution(results: dict[str, Result], passed: bool | None = None) -> Result:
    """One distribution's result as it is; several, by distribution."""
    if len(results) == 1 and passed is None:
        return next(iter(results.values()))
    return ByDistribution({d: r.as_dict() for d, r in results.items()}, passed)


# -- validate, lock -------------------------------------------------------------------------------


@dataclass
class ReleaseSummary(Result):
    services: list[str]
    constraints: str
    distributions: list[str]


@dataclass
class ValidateResult(Result):
    """`venvdeb validate`: each release that loaded, by name (one that does not is an error)."""

    releases: dict[str, ReleaseSummary]


@dataclass
class LockResult(Result):
    """`venvdeb lock`: the locks written, and the distributions they were compiled for."""

    lock: str
    distributions: list[str]
    build_lock: str = ""  # the build lock written, if the release has one


# -- the wheelhouse ---------------------------------------------------------------------------------


@dataclass
class WheelhouseResult(Result):
    """`venvdeb wheelhouse build`."""

    release: str
    package: str
    version: str
    architecture: str
    deb: str
    wheels: int  # how many
    built: int  # of which built from sdists
    size: int  # bytes of wheels
    digest: str  # of everything the package's bytes depend on
    constraints: str
    interpreter: str
    changed: bool = False  # False: the same package was there already
    deb_size: int | None = None
    stats: dict = field(default_factory=dict)  # downloads, bytes, cache hits


@dataclass
class FetchResult(Result):
    """`venvdeb wheelhouse fetch`: a published wheelhouse, verified."""

    package: str
    version: str
    deb: str
    sha256: str
    deb_size: int
    suite: str
    repo_url: str


# -- service packages ---------------------------------------------------------------------------


@dataclass
class BuildResult(Result):
    """`venvdeb build`: one service package."""

    package: str
    version: str
    deb: str
    deb_size: int
    installed_size_kib: int
    architecture: str
    depends: str
    wheelhouse: str  # "<package> <version>" it was built from
    wheels: int  # how many wheels (Python distributions) the venv holds; "distributions" are Debian's
    seconds: float
    reason: str  # the changelog entry's first line
    skipped: str = ""  # why nothing was built (--only-if-changed): the last build's package stands


@dataclass
class PlanResult(Result):
    """`venvdeb build --plan`: what a build would be of, before a version is chosen."""

    package: str
    upstream: str  # the upstream part of the version
    digest: str  # of the closure and the packaging
    last: str | None = None  # the last build's version
    skipped: str | None = None  # why a build --only-if-changed would build nothing


@dataclass
class RebuildResult(Result):
    """`venvdeb rebuild`: a package built again from its recorded build, compared byte for byte."""

    package: str
    version: str
    deb: str
    sha256: str  # the package's
    rebuilt_sha256: str  # the rebuild's
    matched: bool
    rebuilt: str = ""  # the rebuilt .deb, kept when it differs
    report: str = ""  # diffoscope's report, when it differs
    differences: str = ""  # its first lines
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.matched

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


@dataclass
class RenderResult(Result):
    """`venvdeb render`: the source tree rendered."""

    package: str
    version: str
    tree: str


# -- the gates ------------------------------------------------------------------------------------

DEFAULT_FAIL_ON = ("error", "warning")


@dataclass
class LintResult(Result):
    """lintian on one package. ``tags``: severity, tag, package, context, as lintian printed them."""

    deb: str
    tags: list[dict] = field(default_factory=list)
    fail_on: list[str] = field(default_factory=lambda: list(DEFAULT_FAIL_ON))
    exit_code: int | None = 0  # lintian's own

    @property
    def counts(self) -> dict:
        return dict(Counter(t["severity"] for t in self.tags))

    @property
    def passed(self) -> bool:
        return not self.exit_code and not any(t["severity"] in self.fail_on for t in self.tags)

    def summary(self) -> str:
        counts = self.counts
        shown = ", ".join(f"{counts.get(s, 0)} {s}s" for s in ("error", "warning", "info"))
        return f"{Path(self.deb).name}: {'passed' if self.passed else 'FAILED'} ({shown}; fail on {','.join(self.fail_on)})"

    def failing(self) -> list[str]:
        """The tags that fail the gate, one line each, as lintian shows them."""
        return [f"{t['severity']}: {t['package']}: {t['tag']} {t['context']}".rstrip()
                for t in self.tags if t["severity"] in self.fail_on or t["tag"] == "lintian-failed"]

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed, "counts": self.counts, "summary": self.summary()}


@dataclass
class LintReport(Result):
    """`venvdeb lint`: every package's lintian result."""

    packages: list[LintResult]

    @property
    def passed(self) -> bool:
        return all(p.passed for p in self.packages)

    def counts(self) -> dict:
        """Tags by severity over every package; error, warning and info are there even at zero."""
        counts = {"error": 0, "warning": 0, "info": 0}
        for package in self.packages:
            for severity, n in package.counts.items():
                counts[severity] = counts.get(severity, 0) + n
        return counts

    def as_dict(self) -> dict:
        return {"passed": self.passed, "packages": [p.as_dict() for p in self.packages]}


@dataclass
class Check(Result):
    """One smoke check."""

    name: str
    passed: bool
    detail: str = ""
    seconds: float = 0.0


class _Checked:
    """A result made of checks: passed when there are some, and each passed."""

    checks: list[Check]

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed]

    def failures(self) -> list[str]:
        """Each failed check with what it said, for a person to read."""
        return [f"{c.name} failed:\n{c.detail}" for c in self.checks if not c.passed]

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


@dataclass
class SmokeResult(_Checked, Result):
    """`venvdeb smoke`: one package's checks, in a clean chroot and then piuparts."""

    package: str
    version: str
    checks: list[Check] = field(default_factory=list)
    upgraded_from: str | None = None


@dataclass
class CloudResult(_Checked, Result):
    """`venvdeb cloud`: a point's packages together on one controller, and the scenario's steps."""

    release: str
    distribution: str
    suite: str
    versions: dict[str, str]  # package: the version installed
    checks: list[Check] = field(default_factory=list)
    finished: str = ""  # when (UTC, ISO 8601): the release page shows each point's last
    upgraded_to: dict[str, str] = field(default_factory=dict)  # the upgrade walk's: package: its next version
    inputs: str = ""  # what the gate put in the controller, its secrets aside (gates/cloud.py: inputs)
    kept: str = ""  # --only-if-changed: why the gate did not run again (its checks are the recorded run's)

    @property
    def scenario_steps(self) -> int:
        """How many of the scenario's steps ran (and passed, if the gate did)."""
        return sum(1 for c in self.checks if c.name.startswith("scenario") and "(not run:" not in c.name)


@dataclass
class CloudConfig(Result):
    """`venvdeb cloud --show-config`: the files the gate writes, path: text."""

    files: dict[str, str]


# -- the repository ---------------------------------------------------------------------------------


@dataclass
class InitResult(Result):
    """`venvdeb repo init`."""

    repository: str
    suites: list[str]
    keyring: str
    fingerprint: str


@dataclass
class Published(Result):
    """One package given to a suite: published, or why not (the same bytes are there already)."""

    suite: str
    package: str
    version: str
    published: bool
    reason: str | None = None
    snapshot: str | None = None

    def text(self) -> str:
        return f"{self.package} {self.version}" + ("" if self.published else f" ({self.reason})")


@dataclass
class PublishResult(Result):
    """`venvdeb repo publish`."""

    published: list[Published]

    def new(self) -> list[Published]:
        return [p for p in self.published if p.published]


@dataclass
class UploadAccepted(Result):
    """`venvdeb repo check-upload`: a builder's upload is the package that was asked for."""

    package: str
    version: str
    architecture: str
    size: int
    sha256: str


@dataclass
class PromoteResult(Result):
    """`venvdeb repo promote`: the version copied to the production suite, or why not."""

    suite: str
    package: str
    version: str
    promoted: bool
    reason: str | None = None
    snapshot: str | None = None


@dataclass
class KeysResult(Result):
    """`venvdeb repo rotate-key`: the keys every suite is signed by now, when each expires, and the
    keyring package's version that carries them."""

    repository: str
    signing_keys: list[str]
    expires: dict[str, str]
    keyring_version: str | None


@dataclass
class RefreshResult(Result):
    """`venvdeb repo refresh`: every suite's new Valid-Until, by suite."""

    repository: str
    valid_until: dict[str, str]


@dataclass
class Listed(Result):
    package: str
    version: str
    architecture: str


@dataclass
class ListResult(Result):
    """`venvdeb repo list`."""

    suite: str
    packages: list[Listed]


@dataclass
class WheelhouseVerified(Result):
    """`venvdeb wheelhouse verify`: a wheelhouse .deb against its manifest and its index."""

    package: str
    version: str
    wheels: int
    downloaded: int
    built: int
    index: str
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


@dataclass
class VersionResult(Result):
    """`venvdeb repo reserve-version` (the version taken) and `repo record-build` (the version recorded)."""

    package: str
    version: str


@dataclass
class SourcesResult(Result):
    """`venvdeb repo sources`: the deb822 entry of each distribution's suite, and the keyring."""

    sources: str
    keyring: str
    by_distribution: dict[str, str]


@dataclass
class RollbackResult(Result):
    """`venvdeb repo rollback`: the snapshot's sources entry; with --restore, what was replaced."""

    suite: str
    package: str
    version: str
    sources: str = ""
    restored: bool | None = None  # None: not asked to restore
    reason: str | None = None
    replaced: list[str] = field(default_factory=list)


# -- the pipeline -----------------------------------------------------------------------------------


@dataclass
class Stage(Result):
    """One stage of one package in a pipeline."""

    package: str
    stage: str
    passed: bool
    seconds: float
    detail: str = ""


@dataclass
class PipelineResult(Result):
    """`venvdeb pipeline` at one distribution: each stage, and what was published."""

    release: str
    distribution: str = ""
    stages: list[Stage] = field(default_factory=list)
    published: list[Published] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.stages)

    def table(self) -> str:
        rows = [("package", "stage", "result", "seconds", "detail")]
        rows += [(s.package, s.stage, "ok" if s.passed else "FAILED", f"{s.seconds:.1f}", s.detail[:70])
                 for s in self.stages]
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        verdict = "published to staging" if self.published else "NOTHING PUBLISHED"
        where = f"{self.release} for {self.distribution}" if self.distribution else self.release
        return "\n".join(lines) + f"\n{where}: {'passed' if self.passed else 'FAILED'}, {verdict}"

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


#: Every subcommand's result class, by the words that name the command: what a reader expects.
COMMANDS: dict[tuple[str, ...], type[Result]] = {
    ("validate",): ValidateResult,
    ("lock",): LockResult,
    ("wheelhouse", "build"): WheelhouseResult,
    ("wheelhouse", "fetch"): FetchResult,
    ("wheelhouse", "verify"): WheelhouseVerified,
    ("wheelhouse", "rebuild"): RebuildResult,
    ("render",): RenderResult,
    ("build",): BuildResult,
    ("build", "--plan"): PlanResult,
    ("rebuild",): RebuildResult,
    ("lint",): LintReport,
    ("smoke",): SmokeResult,
    ("cloud",): CloudResult,
    ("pipeline",): PipelineResult,
    ("repo", "init"): InitResult,
    ("repo", "publish"): PublishResult,
    ("repo", "check-upload"): UploadAccepted,
    ("repo", "promote"): PromoteResult,
    ("repo", "refresh"): RefreshResult,
    ("repo", "list"): ListResult,
    ("repo", "reserve-version"): VersionResult,
    ("repo", "record-build"): VersionResult,
    ("repo", "sources"): SourcesResult,
    ("repo", "rollback"): RollbackResult,
}
