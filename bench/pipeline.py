"""The whole pipeline for venv-nova with a warm wheelhouse and a warm chroot cache: build, lint,
smoke, publish. Target (issue 4): <= 90 s wall. Each stage's share is recorded.

Lint and smoke run side by side (their seconds overlap), so the shares are of the wall time of
build, the lint-and-smoke pair, and publish.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, record, venvdeb  # noqa: E402

RELEASE, SERVICE = "2025.2", "nova"


def main() -> None:
    from venvdeb.environment import images

    cache_dir = Path.home() / ".cache" / "venvdeb"
    images.smoke("bookworm", cache_dir).ensure()  # warm: made once, as a build host keeps it
    work = Path(tempfile.mkdtemp(prefix="venvdeb-bench-pipeline-"))
    try:
        repo = ["--repo-dir", str(work / "repo"), "--gnupghome", str(work / "gnupg")]
        dirs = ["--cache-dir", str(cache_dir), "--out-dir", str(work / "out"), "--state-dir", str(work / "state")]
        packaging = ["--packaging", str(PROJECT / "packaging")]
        venvdeb(*packaging, "repo", "init", "--make-key", *repo)
        venvdeb(*packaging, "wheelhouse", "build", RELEASE, *dirs)  # warm wheelhouse
        wall, result, _ = venvdeb(*packaging, "pipeline", RELEASE, SERVICE, *dirs, *repo)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    stages = {(s["package"], s["stage"]): s["seconds"] for s in result["stages"]}
    pkg = f"venv-{SERVICE}"
    build, lint, smoke = stages[(pkg, "build")], stages[(pkg, "lint")], stages[(pkg, "smoke")]
    gates = max(lint, smoke)
    publish = stages[("*", "publish")]
    wheelhouse = stages[("openstack-wheelhouse-2025.2", "wheelhouse")] + stages[("openstack-wheelhouse-2025.2", "lint")]
    table = [
        f"# Pipeline for venv-{SERVICE}: warm wheelhouse, warm chroot cache",
        "",
        "Reproduce: `make bench-pipeline`.",
        "",
        "| stage | seconds | share of wall |",
        "|---|---:|---:|",
        f"| wheelhouse (unchanged) and its lint | {wheelhouse:.1f} | {100 * wheelhouse / wall:.0f}% |",
        f"| build | {build:.1f} | {100 * build / wall:.0f}% |",
        f"| lint (lintian) | {lint:.1f} | (side by side with smoke) |",
        f"| smoke (clean chroot, apt install, checks, purge) | {smoke:.1f} | (side by side with lint) |",
        f"| lint and smoke together | {gates:.1f} | {100 * gates / wall:.0f}% |",
        f"| publish (reprepro, signed) | {publish:.1f} | {100 * publish / wall:.0f}% |",
        f"| **whole pipeline (wall)** | **{wall:.1f}** | 100% |",
        "",
        f"Target <= 90 s: {'met' if wall <= 90 else 'NOT met'}. For reference: the seed system's Buildbot run "
        "for one smaller service took 5 min 15 s; lintian alone took 120 s on a plain dh-virtualenv nova.",
    ]
    record("pipeline", {"service": SERVICE, "wall_s": round(wall, 1), "stages": result["stages"]}, table)


if __name__ == "__main__":
    main()
