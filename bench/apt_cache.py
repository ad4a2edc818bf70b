"""Smoke's Debian packages: fetched from the mirror by every chroot (the code before the egress
proxy kept them: BASELINE, checked out in a worktree) against served from the machine's cache
(this checkout), side by side in one run (issue 28).

    python bench/apt_cache.py BASELINE_COMMIT [RELEASE] [SERVICE] [DIST]   (default 2026.1 neutron trixie)

Each side smokes the same package (the newest build in out/, piuparts included: its chroot
fetches the same packages again), one after the other, with the same chroot images, current. This
checkout's side runs twice: with the cache emptied first (cold: a fresh machine), then again
(warm: every later smoke of the machine). Recorded: each run's wall time, and the seconds of the
checks that download (apt install, piuparts), from the gate's own result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, cache_dir, record  # noqa: E402

DOWNLOADING = ("install ", "piuparts: ")  # the checks whose time includes apt's downloads


def smoke(source: Path, release: str, service: str, dist: str) -> tuple[float, dict]:
    argv = [sys.executable, "-m", "venvdeb", "--packaging", str(PROJECT / "packaging"), "smoke", release, service,
            "--dist", dist, "--out-dir", str(PROJECT / "out"), "--repo-dir", str(PROJECT / "var" / "repo"), "--json"]
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=PROJECT,
                          env={**os.environ, "PYTHONPATH": str(source)})
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout)  # one distribution: its result as it is
    downloading = {c["name"]: c["seconds"] for c in result["checks"] if c["name"].startswith(DOWNLOADING)}
    return wall, {"checks": len(result["checks"]), "downloading": downloading}


def main(baseline: str, release: str = "2026.1", service: str = "neutron", dist: str = "trixie") -> None:
    debs = cache_dir() / "chroots" / "debs"
    with tempfile.TemporaryDirectory() as work:
        tree = Path(work) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), baseline], cwd=PROJECT, check=True)
        try:
            runs = {"before: every chroot fetches from the mirror": smoke(tree / "src", release, service, dist)}
            shutil.rmtree(debs, ignore_errors=True)
            runs["the cache, cold (a fresh machine)"] = smoke(PROJECT / "src", release, service, dist)
            runs["the cache, warm"] = smoke(PROJECT / "src", release, service, dist)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=PROJECT, check=False)
    kept = [p for p in debs.rglob("*.deb") if p.is_file()]
    data = {"release": release, "service": service, "dist": dist, "baseline": baseline,
            "cached": {"packages": len(kept), "bytes": sum(p.stat().st_size for p in kept)},
            "runs": {name: {"seconds": round(wall, 1), **found} for name, (wall, found) in runs.items()}}
    table = [f"# Smoke of venv-{service} ({release}, {dist}): Debian's packages from the mirror, or from the machine's "
             "cache", "", f"Before: {baseline}. The cache after: {len(kept)} packages, "
             f"{data['cached']['bytes'] / 1e6:.1f} MB.", "",
             "| run | wall | apt install and piuparts (their checks) |", "|---|---|---|"]
    for name, (wall, found) in runs.items():
        table.append(f"| {name} | {wall:.1f} s | {sum(found['downloading'].values()):.1f} s |")
    record("apt_cache", data, table + [""])


if __name__ == "__main__":
    main(*sys.argv[1:])
