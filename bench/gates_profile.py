"""Where the seconds of one point's gates go, and what issue 28's changes took off them: every
package of a release at one distribution through `venvdeb pipeline`, warm (the wheelhouse built
once before, the chroot images current), with the code before (BASELINE, in a worktree of its
own) and with this checkout, one after the other in one run, each into a repository, state and
output of its own.

    python bench/gates_profile.py BASELINE [RELEASE] [DIST]   (default 2026.2 bookworm)

Recorded, for each side: the pipeline's wall time and the CPU time of everything it ran (user and
system, from the kernel's accounting of its children); each package's build, lint and smoke; and
smoke's seconds by kind of check, from each package's own gate record (its install with apt, the
service's functional checks, its units under systemd, piuparts). Lint and smoke of one package
run side by side, and beside the next package's build: the stages' sum exceeds the wall.

With Debian's acct installed (``apt-get install acct``: the kernel's process accounting, turned on
by ``accton`` for the pipeline's run alone), each side's CPU is also given by program and by who
ran it: the host (venvdeb, and its copies of trees), the chroots (everything upstream code and
apt and dpkg do, as a user of their namespace) and nobody (lintian, reading what a build made).
Accounting is the whole machine's: run it on a quiet one.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, cache_dir, record  # noqa: E402
from venvdeb.environment.idmap import subordinate_range  # noqa: E402

KINDS = (("piuparts", ("piuparts",)),
         ("apt install (the package, and what its smoke brings beside it)", ("install ", "apt-get update")),
         ("units under systemd (booted)", ("started by systemd", "the kernel shows", "under ", "systemd-analyze")),
         ("the service run from its units and asked over HTTP", ("started from its unit", "GET ", "POST ")),
         ("commands, set-up and helpers", ("run: ", "setup: ", "as ", "pip check", "console scripts", "/etc/sudoers")))
STAGES = ("build", "lint", "smoke")


def kind(name: str) -> str:
    for what, prefixes in KINDS:
        if any(name.startswith(p) or f": {p}" in name for p in prefixes):
            return what
    return "other checks"


def venvdeb(source: Path, *args: str) -> tuple[float, dict]:
    """``venvdeb ... --json`` from the code at ``source`` (its src/, templates and packaging)."""
    argv = [sys.executable, "-m", "venvdeb", "--packaging", str(source / "packaging"), *args, "--json"]
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(source / "src")})
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return wall, json.loads(proc.stdout) if proc.stdout.strip() else {}


def point(source: Path, release: str, dist: str, *services: str) -> dict:
    """One warm point through the pipeline (its ``services``, default all), with the code at ``source``."""
    work = Path(tempfile.mkdtemp(prefix="venvdeb-bench-gates-"))
    try:
        repo = ["--repo-dir", str(work / "repo"), "--gnupghome", str(work / "gnupg")]
        dirs = ["--cache-dir", str(cache_dir()), "--out-dir", str(work / "out"), "--state-dir", str(work / "state")]
        venvdeb(source, "repo", "init", "--make-key", *repo)
        venvdeb(source, "wheelhouse", "build", release, "--dist", dist, *dirs)  # warm, as a build host is
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with accounting(work / "pacct") as cpu:
            wall, result = venvdeb(source, "pipeline", release, *services, "--dist", dist, *dirs, *repo)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        records = {p.stem: json.loads(p.read_text()) for p in (work / "repo" / "gates").glob("*.json")}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    stages: dict[str, dict[str, float]] = defaultdict(dict)
    for stage in result["stages"]:
        if stage["package"] != "*":
            stages[stage["package"]][stage["stage"]] = round(stage["seconds"], 1)
    smoke: dict[str, float] = defaultdict(float)
    for gates in records.values():
        for check in gates.get("smoke", {}).get("checks", []):
            smoke[kind(check["name"])] += check["seconds"]
    return {"wall": round(wall, 1),
            "cpu": {"user": round(after.ru_utime - before.ru_utime, 1),
                    "system": round(after.ru_stime - before.ru_stime, 1)},
            "stages": stages, "smoke_by_kind": {k: round(v, 1) for k, v in smoke.items()}, **cpu}


@contextlib.contextmanager
def accounting(file: Path, kept: int = 40):
    """The kernel's process accounting into ``file`` while the block runs (when acct is
    installed); then the dict given holds the CPU seconds by who ran them, and the ``kept``
    programs that took most, by who ran them."""
    cpu: dict = {}
    if shutil.which("accton") is None:
        yield cpu
        return
    file.touch()
    subprocess.run(["accton", str(file)], check=True, capture_output=True)
    try:
        yield cpu
    finally:
        subprocess.run(["accton", "off"], check=True, capture_output=True)
    # `sa --print-users`: one line per process: user, CPU seconds, memory, I/O, command name.
    start, count = subordinate_range()  # the chroots' users
    sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0])
    for line in subprocess.run(["sa", "--print-users", "--other-acct-file", str(file)], check=True,
                               capture_output=True, text=True).stdout.splitlines():
        fields = line.split(maxsplit=7)
        if len(fields) < 8:
            continue
        command = fields[7].rstrip(" *") + ("*" if fields[7].endswith("*") else "")  # *: forked, no exec
        entry = sums[(who(fields[0], range(start, start + count)), command)]
        entry[0] += float(fields[1])
        entry[1] += 1
    by_who: dict[str, float] = defaultdict(float)
    for (w, _), (t, _) in sums.items():
        by_who[w] += t
    cpu["cpu_by_who"] = {w: round(t, 1) for w, t in sorted(by_who.items())}
    cpu["programs"] = sorted(({"who": w, "program": c, "cpu": round(t, 1), "processes": n}
                              for (w, c), (t, n) in sums.items()), key=lambda p: -p["cpu"])[:kept]


def who(user: str, chroots: range) -> str:
    """The host's root, a chroot's users (their namespace maps them to root's subordinate ids), nobody."""
    if user.isdigit() and int(user) in chroots:
        return "chroot"
    return {"root": "host", "nobody": "nobody (lintian)"}.get(user, user)


def main(baseline: str, release: str = "2026.2", dist: str = "bookworm") -> None:
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), baseline], cwd=PROJECT, check=True)
        try:
            sides = {"before": point(tree, release, dist), "after": point(PROJECT, release, dist)}
            # The second measure: one service (nova) through `venvdeb pipeline`, warm.
            for side, source in (("before", tree), ("after", PROJECT)):
                sides[side]["nova alone"] = point(source, release, dist, "nova")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=PROJECT, check=False)
    record(f"gates_profile-{release}-{dist}", {"release": release, "dist": dist, "baseline": baseline, **sides},
           table(release, dist, baseline, sides))


def table(release: str, dist: str, baseline: str, sides: dict) -> list[str]:
    before, after = sides["before"], sides["after"]
    lines = [f"# One point's gates: {release} on {dist}, every package, warm (two cores)", "",
             f"Before: {baseline}; after: this checkout. One run, one after the other.", "",
             "| | before | after |", "|---|---:|---:|",
             f"| **wall** | {before['wall']:.0f} s | {after['wall']:.0f} s |"]
    for which in ("user", "system"):
        lines.append(f"| CPU, {which} | {before['cpu'][which]:.0f} s | {after['cpu'][which]:.0f} s |")
    nova = [side["nova alone"] for side in (before, after)]
    lines.append(f"| **venv-nova alone** through `venvdeb pipeline` (wall) | {nova[0]['wall']:.0f} s | "
                 f"{nova[1]['wall']:.0f} s |")
    lines.append("| its CPU, user + system | " + " | ".join(f"{n['cpu']['user']:.0f} + {n['cpu']['system']:.0f} s"
                                                        for n in nova) + " |")
    lines += ["", "Each package's stages, before → after (s):", "",
              "| package | build | lint | smoke |", "|---|---:|---:|---:|"]
    for package, stages in after["stages"].items():
        was = before["stages"].get(package, {})
        cells = [f"{was.get(s, was.get('wheelhouse', 0.0) if s == 'build' else 0.0):.1f} → "
                 f"{stages.get(s, stages.get('wheelhouse', 0.0) if s == 'build' else 0.0):.1f}" for s in STAGES]
        lines.append(f"| {package} | {' | '.join(cells)} |")
    sums = [f"{sum(p.get(s, 0.0) for p in before['stages'].values()):.1f} → "
            f"{sum(p.get(s, 0.0) for p in after['stages'].values()):.1f}" for s in STAGES]
    lines += [f"| **sum** | {' | '.join(sums)} |", "",
              "Smoke's seconds by kind of check (the sum over the point's packages; the rest of a smoke's time is "
              "its chroots made and removed; piuparts now runs beside the other checks):", "",
              "| kind | before | after |", "|---|---:|---:|"]
    was, now = before["smoke_by_kind"], after["smoke_by_kind"]
    kinds = sorted(set(was) | set(now), key=lambda k: -was.get(k, 0))
    lines += [f"| {k} | {was.get(k, 0):.1f} | {now.get(k, 0):.1f} |" for k in kinds]
    return lines + [""] + programs_table(before, after)


def programs_table(before: dict, after: dict, top: int = 15) -> list[str]:
    """Each side's CPU by who ran it, and the programs that took most of it after (acct)."""
    if "programs" not in after:
        return []
    lines = ["CPU by who ran it and by program (the kernel's process accounting, the whole machine during "
             "the pipeline; `*`: a process forked and not exec'd, such as a worker of a pool), s:", "",
             "| who | before | after |", "|---|---:|---:|"]
    was_by, now_by = before.get("cpu_by_who", {}), after["cpu_by_who"]
    for group in sorted(set(was_by) | set(now_by)):
        lines.append(f"| {group} | {was_by.get(group, 0):.0f} | {now_by.get(group, 0):.0f} |")
    lines += ["", "| who | program | processes | CPU after | CPU before |", "|---|---|---:|---:|---:|"]
    for p in after["programs"][:top]:
        was = next((b["cpu"] for b in before.get("programs", [])
                    if (b["who"], b["program"]) == (p["who"], p["program"])), 0.0)
        lines.append(f"| {p['who']} | `{p['program']}` | {p['processes']} | {p['cpu']:.1f} | {was:.1f} |")
    return lines + [""]


if __name__ == "__main__":
    main(*sys.argv[1:])
