"""Issue 10's target: the whole default release (its seven services) through every gate from a
warm wheelhouse, on one distribution, in at most 8 minutes on these 2 cores.

The wheelhouse is built first and is not timed; the chroot image is warm (made once, as a build
host keeps it). Then one `venvdeb pipeline` builds each service, lints and smokes it (smoke
brings up its APIs, on MariaDB for neutron) while the next one builds, and publishes the lot to
a staging suite of its own. Recorded: the wall time, and each service's build, lint and smoke.

usage: python bench/fleet.py [DISTRIBUTION]   (default bookworm)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, record, venvdeb  # noqa: E402

RELEASE = "2026.1"
TARGET_S = 8 * 60


def main(distribution: str = "bookworm") -> None:
    from venvdeb.environment import images
    from venvdeb.model import load_release

    release = load_release(PROJECT / "packaging", RELEASE).at(distribution)
    services = [s.name for s in release.services]
    cache_dir = Path.home() / ".cache" / "venvdeb"
    images.smoke(distribution, cache_dir).ensure()
    work = Path(tempfile.mkdtemp(prefix="venvdeb-bench-fleet-"))
    try:
        repo = ["--repo-dir", str(work / "repo"), "--gnupghome", str(work / "gnupg")]
        dirs = ["--cache-dir", str(cache_dir), "--out-dir", str(work / "out"), "--state-dir", str(work / "state")]
        packaging = ["--packaging", str(PROJECT / "packaging")]
        venvdeb(*packaging, "repo", "init", "--make-key", *repo)
        venvdeb(*packaging, "wheelhouse", "build", RELEASE, "--dist", distribution, *dirs)  # warm, not timed
        wall, result, _ = venvdeb(*packaging, "pipeline", RELEASE, *services, "--dist", distribution,
                                  "--reason", "bench", *dirs, *repo)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    stages = {(s["package"], s["stage"]): s["seconds"] for s in result["stages"]}
    rows, totals = [], {"build": 0.0, "lint": 0.0, "smoke": 0.0}
    for name in services:
        pkg = f"venv-{name}"
        build, lint, smoke = (stages[(pkg, stage)] for stage in ("build", "lint", "smoke"))
        totals = {"build": totals["build"] + build, "lint": totals["lint"] + lint, "smoke": totals["smoke"] + smoke}
        rows.append(f"| {pkg} | {build:.1f} | {lint:.1f} | {smoke:.1f} |")
    wheelhouse = sum(stages[(release.wheelhouse_package, s)] for s in ("wheelhouse", "lint"))
    publish = stages[("*", "publish")]
    table = [
        f"# The whole release {RELEASE} on {distribution}: {len(services)} services through every gate, warm wheelhouse",
        "",
        f"Reproduce: `make bench-fleet` (or `python bench/fleet.py trixie`). Target: at most {TARGET_S // 60} min.",
        "Each service's lint and smoke run side by side; two services' gates run while the next one builds.",
        "",
        "| package | build s | lint s | smoke s |",
        "|---|---:|---:|---:|",
        *rows,
        f"| **sum over services** | {totals['build']:.1f} | {totals['lint']:.1f} | {totals['smoke']:.1f} |",
        "",
        f"Wheelhouse (unchanged) and its lint: {wheelhouse:.1f} s; publish (reprepro, signed): {publish:.1f} s.",
        "",
        f"**Wall time: {wall:.1f} s ({wall / 60:.1f} min)**, target {TARGET_S} s: "
        f"{'met' if wall <= TARGET_S else 'NOT met'}. Stages overlap and share the two cores (two packages' "
        "gates beside the next build), so each took longer than it would alone and they add up to more than the wall.",
    ]
    record(f"fleet-{distribution}", {"release": RELEASE, "distribution": distribution, "wall_s": round(wall, 1),
                                     "target_s": TARGET_S, "stages": result["stages"]}, table)


if __name__ == "__main__":
    main(*sys.argv[1:])
