"""Where the seconds of one point's gates go (issue 28: profile first): every package of a release
at one distribution through `venvdeb pipeline`, warm (the wheelhouse built once before, the chroot
images current), into a repository, state and output of its own.

    python bench/gates_profile.py [RELEASE] [DIST]   (default 2026.2 bookworm)

Recorded: the pipeline's wall time and the CPU time of everything it ran (user and system, from
the kernel's accounting of its children); each package's build, lint and smoke; and smoke's
seconds by kind of check, from each package's own gate record (its install with apt, the
service's functional checks, its units under systemd, piuparts). Lint and smoke of one package
run side by side, and beside the next package's build: the stages' sum exceeds the wall.
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, cache_dir, record, venvdeb  # noqa: E402

KINDS = (("piuparts", ("piuparts",)),
         ("apt install (the package, and what its smoke brings beside it)", ("install ", "apt-get update")),
         ("units under systemd (booted)", ("started by systemd", "the kernel shows", "under ", "systemd-analyze")),
         ("the service run from its units and asked over HTTP", ("started from its unit", "GET ", "POST ")),
         ("commands, set-up and helpers", ("run: ", "setup: ", "as ", "pip check", "console scripts", "/etc/sudoers")))


def kind(name: str) -> str:
    for what, prefixes in KINDS:
        if any(name.startswith(p) or f": {p}" in name for p in prefixes):
            return what
    return "other checks"


def main(release: str = "2026.2", dist: str = "bookworm") -> None:
    work = Path(tempfile.mkdtemp(prefix="venvdeb-bench-gates-"))
    try:
        repo = ["--repo-dir", str(work / "repo"), "--gnupghome", str(work / "gnupg")]
        dirs = ["--cache-dir", str(cache_dir()), "--out-dir", str(work / "out"), "--state-dir", str(work / "state")]
        packaging = ["--packaging", str(PROJECT / "packaging")]
        venvdeb(*packaging, "repo", "init", "--make-key", *repo)
        venvdeb(*packaging, "wheelhouse", "build", release, "--dist", dist, *dirs)  # warm, as a build host is
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, result, _ = venvdeb(*packaging, "pipeline", release, "--dist", dist, *dirs, *repo)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        records = {p.stem: json.loads(p.read_text()) for p in (work / "repo" / "gates").glob("*.json")}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    stages: dict[str, dict[str, float]] = defaultdict(dict)
    for stage in result["stages"]:
        stages[stage["package"]][stage["stage"]] = stage["seconds"]
    smoke: dict[str, float] = defaultdict(float)
    for gates in records.values():
        for check in gates.get("smoke", {}).get("checks", []):
            smoke[kind(check["name"])] += check["seconds"]
    cpu = {"user": round(after.ru_utime - before.ru_utime, 1), "system": round(after.ru_stime - before.ru_stime, 1)}
    data = {"release": release, "dist": dist, "wall": round(wall, 1), "cpu": cpu, "stages": stages,
            "smoke_by_kind": {k: round(v, 1) for k, v in smoke.items()}}
    totals = {name: sum(s.get(name, 0.0) for s in stages.values()) for name in ("build", "lint", "smoke")}
    table = [f"# One point's gates: {release} on {dist}, every package, warm (two cores)", "",
             f"Wall {wall:.0f} s; CPU {cpu['user']:.0f} s user, {cpu['system']:.0f} s system "
             f"({100 * cpu['system'] / max(cpu['user'] + cpu['system'], 1):.0f}% system).", "",
             "| package | build | lint | smoke |", "|---|---:|---:|---:|"]
    table += [f"| {package} | {s.get('build', s.get('wheelhouse', 0)):.1f} | {s.get('lint', 0):.1f} | "
              f"{s.get('smoke', 0):.1f} |" for package, s in stages.items()]
    table += [f"| **sum** | {totals['build']:.1f} | {totals['lint']:.1f} | {totals['smoke']:.1f} |", "",
              "Smoke's seconds by kind of check (the sum over the point's packages; the rest of a smoke's time is "
              "its chroot made and removed):", "", "| kind | seconds |", "|---|---:|"]
    table += [f"| {k} | {v:.1f} |" for k, v in sorted(smoke.items(), key=lambda kv: -kv[1])] + [""]
    record(f"gates_profile-{release}-{dist}", data, table)


if __name__ == "__main__":
    main(*sys.argv[1:])
