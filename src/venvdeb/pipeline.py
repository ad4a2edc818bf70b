"""`venvdeb pipeline`: wheelhouse -> build -> lint -> smoke -> publish to staging.

All gates run before anything is published: one failing gate stops the pipeline and the staging
suite keeps its previous state. Lint and smoke of a package are independent, so they run side
by side (lintian is one process on one core; the chroot install uses the other).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import lint, wheelhouse
from .cache import sha256_file
from .errors import VenvdebError
from .model import Release
from .repo import Repository
from .service_build import BuildOptions, build
from .smoke import Smoke


@dataclass
class Stage:
    package: str
    stage: str
    passed: bool
    seconds: float
    detail: str = ""


@dataclass
class PipelineResult:
    release: str
    stages: list[Stage] = field(default_factory=list)
    published: list[dict] = field(default_factory=list)

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
        return "\n".join(lines) + f"\n{self.release}: {'passed' if self.passed else 'FAILED'}, {verdict}"

    def as_dict(self) -> dict:
        return {"release": self.release, "passed": self.passed, "stages": [vars(s) for s in self.stages],
                "published": self.published}


class Stopped(Exception):
    pass


def run(release: Release, services: list[str], repo: Repository, options: BuildOptions,
        wheelhouse_options: wheelhouse.Options, log=print) -> PipelineResult:
    result = PipelineResult(release.name)

    def stage(package: str, name: str, action, passed=lambda r: True, detail=lambda r: "", seconds=None):
        started = time.monotonic()
        try:
            value = action()
            ok, text = passed(value), detail(value)
        except VenvdebError as exc:
            value, ok, text = None, False, exc.message.splitlines()[0]
        took = seconds if seconds is not None else time.monotonic() - started
        result.stages.append(Stage(package, name, ok, took, text))
        log(f"pipeline: {package}: {name} {'ok' if ok else 'FAILED'} ({took:.1f} s)")
        if not ok:
            raise Stopped()
        return value

    fail_on = tuple(release.lint_fail_on)
    to_publish: list[Path] = []
    try:
        wh = stage(release.wheelhouse_package, "wheelhouse", lambda: wheelhouse.build(release, wheelhouse_options),
                   detail=lambda r: f"version {r['version']}, {r['wheels']} wheels")
        wh_deb = Path(wh["deb"])
        stage(release.wheelhouse_package, "lint", lambda: lint.run(wh_deb, fail_on),
              passed=lambda r: r.passed, detail=lambda r: r.summary())
        to_publish.append(wh_deb)
        options.wheelhouse_deb = wh_deb
        for name in services:
            service = release.service(name)
            built = stage(service.package, "build", lambda: build(release, service, options, log),
                          detail=lambda r: f"{r['version']}, {r['deb_size'] / 1e6:.1f} MB")
            deb = Path(built["deb"])
            with ThreadPoolExecutor(max_workers=2) as pool:
                lint_started, linted = time.monotonic(), pool.submit(lint.run, deb, fail_on)
                smoked = pool.submit(Smoke(release, service, repo, options.cache_dir, log=log).run, deb)
                smoke_result = smoked.result()
                smoke_seconds = time.monotonic() - lint_started
                lint_result = linted.result()
                lint_seconds = time.monotonic() - lint_started
            digest = sha256_file(deb)
            repo.record_gate(service.package, built["version"], "lint", lint_result.as_dict(), digest)
            repo.record_gate(service.package, built["version"], "smoke", smoke_result.as_dict(), digest)
            stage(service.package, "lint", lambda: lint_result, passed=lambda r: r.passed,
                  detail=lambda r: r.summary(), seconds=lint_seconds)
            stage(service.package, "smoke", lambda: smoke_result, passed=lambda r: r.passed,
                  detail=lambda r: "; ".join(c.name for c in r.checks if not c.passed) or
                  f"{len(r.checks)} checks" + (f", upgrade from {r.upgraded_from}" if r.upgraded_from else ""),
                  seconds=smoke_seconds)
            to_publish.append(deb)
        published = stage("*", "publish", lambda: [repo.publish(release.staging_suite, d) for d in to_publish],
                          detail=lambda r: f"{sum(p['published'] for p in r)} new of {len(r)} to {release.staging_suite}")
        result.published = published
    except Stopped:
        pass
    return result
