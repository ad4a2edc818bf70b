"""Releases of the default packaging at each of their distributions, through the whole pipeline
(wheelhouse, then each service's build, lint and smoke, then publish), from an empty cache and
then from a warm one, in one run.

usage: python bench/matrix.py [RELEASE ...]   (default: 2025.2 and 2026.1, the run recorded in
matrix.md; with releases named, the results are matrix-<releases>.md, so each run keeps its own)

The content-addressed cache is shared by every release and distribution: a wheel that two
points use (a pure-Python wheel, or the same pin's wheel in both releases) is downloaded once.
The cold runs go one after another into one empty cache (chroot images included), so each
point's "downloads" column shows what the points before it had not already fetched, and the
"saved" figures count the wheels a point took from the cache that another point had fetched.
The trixie points build and smoke in clean trixie chroots (this host is bookworm).
Warm: the same points again with a new output, state and repository, so every .deb is built again.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, record, venvdeb  # noqa: E402

DEFAULT = ("2025.2", "2026.1")
STAGES = ("wheelhouse", "build", "lint", "smoke", "publish")


def points_of(releases) -> list[tuple[str, str]]:
    from venvdeb.model import load_release

    return [(name, dist) for name in releases for dist in load_release(PROJECT / "packaging", name).distributions]


def run_all(cache: Path, work: Path, points) -> list[dict]:
    packaging = ["--packaging", str(PROJECT / "packaging")]
    repo = ["--repo-dir", str(work / "repo"), "--gnupghome", str(work / "gnupg")]
    dirs = ["--cache-dir", str(cache), "--out-dir", str(work / "out"), "--state-dir", str(work / "state")]
    venvdeb(*packaging, "repo", "init", "--make-key", *repo)
    found = []
    for release, dist in points:
        # The wheelhouse alone first, for its download figures; the pipeline then finds it built.
        wh_wall, wh, _ = venvdeb(*packaging, "wheelhouse", "build", release, "--dist", dist, "--install-build-deps", *dirs)
        wall, result, _ = venvdeb(*packaging, "pipeline", release, "--dist", dist, *dirs, *repo)
        if not result["passed"]:
            raise SystemExit(f"{release} for {dist}: the pipeline failed: {result['stages']}")
        per_stage: dict[str, float] = defaultdict(float)
        per_service: dict[str, float] = defaultdict(float)
        for s in result["stages"]:
            per_stage[s["stage"]] += s["seconds"]
            if s["package"].startswith("venv-"):
                per_service[s["package"]] += s["seconds"]
        per_stage["wheelhouse"] += wh_wall  # the pipeline's own wheelhouse stage found it built
        found.append({"release": release, "distribution": dist, "wall_s": round(wh_wall + wall, 1),
                      "wheelhouse_s": round(wh_wall, 1), "stages_s": {k: round(v, 1) for k, v in per_stage.items()},
                      "services_s": {k: round(v, 1) for k, v in sorted(per_service.items())},
                      "wheelhouse": wh, "pipeline": result})
    return found


def main(releases: list[str]) -> None:
    releases = releases or list(DEFAULT)
    points = points_of(releases)
    name = "matrix" if tuple(releases) == DEFAULT else "matrix-" + "-".join(releases)
    work = Path(tempfile.mkdtemp(prefix="venvdeb-bench-matrix-"))
    try:
        cold = run_all(work / "cache", work / "cold", points)
        report(name, releases, points, cold, [])  # the cold run's figures stand even if the warm one fails
        warm = run_all(work / "cache", work / "warm", points)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(name, releases, points, cold, warm)


def report(name: str, releases: list[str], points, cold: list[dict], warm: list[dict]) -> None:
    dists = sorted({d for _, d in points})
    table = [f"# {' and '.join(releases)} x {len(dists)} distributions ({', '.join(dists)}), whole pipeline, "
             "cold cache then warm", "",
             f"Reproduce: `make bench-matrix RELEASES=\"{' '.join(releases)}\"`. One empty cache, shared by the "
             f"{len(points)} points in turn. Stage seconds",
             "are summed over the point's packages; lint and smoke of one package run side by side, so a",
             "point's wall is less than the sum of its stages.", "",
             "| run | release | distribution | interpreter | wall (s) | " + " | ".join(f"{s} (s)" for s in STAGES)
             + " | wheels | from sdists | downloads | MB downloaded | from cache | MB from cache |",
             "|---|---|---|---|---:|" + "---:|" * len(STAGES) + "---:|---:|---:|---:|---:|---:|"]
    for label, runs in (("cold", cold), ("warm", warm)):
        for p in runs:
            wh, s = p["wheelhouse"], p["wheelhouse"].get("stats", {})
            stages = " | ".join(f"{p['stages_s'].get(name, 0):.1f}" for name in STAGES)
            table.append(f"| {label} | {p['release']} | {p['distribution']} | {wh['interpreter']} | {p['wall_s']:.1f} | "
                         f"{stages} | {wh['wheels']} | {wh['built']} | {s.get('downloads', 0)} | "
                         f"{s.get('downloaded_bytes', 0) / 1e6:.1f} | {s.get('cache_hits', 0)} | {s.get('cache_hit_bytes', 0) / 1e6:.1f} |")
    table += ["", "Per service (build + lint + smoke, seconds):", "",
              "| run | release | distribution | " + " | ".join(sorted(cold[0]["services_s"])) + " |",
              "|---|---|---|" + "---:|" * len(cold[0]["services_s"])]
    for label, runs in (("cold", cold), ("warm", warm)):
        for p in runs:
            table.append(f"| {label} | {p['release']} | {p['distribution']} | "
                         + " | ".join(f"{v:.1f}" for _, v in sorted(p["services_s"].items())) + " |")
    cold_total, warm_total = sum(p["wall_s"] for p in cold), sum(p["wall_s"] for p in warm)
    wheels = sum(p["wheelhouse"]["wheels"] for p in cold)
    downloads = sum(p["wheelhouse"].get("stats", {}).get("downloads", 0) for p in cold)
    mb = sum(p["wheelhouse"].get("stats", {}).get("downloaded_bytes", 0) for p in cold) / 1e6
    first_mb = cold[0]["wheelhouse"].get("stats", {}).get("downloaded_bytes", 0) / 1e6
    saved = sum(p["wheelhouse"].get("stats", {}).get("cache_hits", 0) for p in cold)
    saved_mb = sum(p["wheelhouse"].get("stats", {}).get("cache_hit_bytes", 0) for p in cold) / 1e6
    warm_text = (f"Warm: {warm_total:.1f} s ({100 * warm_total / cold_total:.0f}% of cold), no downloads." if warm
                 else "Warm: not run yet.")
    table += ["", f"Cold: {cold_total:.1f} s for the {len(points)} points; their wheelhouses hold {wheels} wheels, for which "
              f"{downloads} files ({mb:.1f} MB) were downloaded: the first point fetched {first_mb:.1f} MB, the others "
              f"together {mb - first_mb:.1f} MB; sharing the cache saved them {saved} downloads ({saved_mb:.1f} MB). "
              + warm_text]
    slim = [{k: v for k, v in p.items() if k not in ("pipeline", "wheelhouse")}
            | {"run": label, "wheelhouse_stats": p["wheelhouse"].get("stats", {}), "wheels": p["wheelhouse"]["wheels"],
               "from_sdists": p["wheelhouse"]["built"], "interpreter": p["wheelhouse"]["interpreter"],
               "stages": p["pipeline"]["stages"]}
            for label, runs in (("cold", cold), ("warm", warm)) for p in runs]
    record(name, {"releases": releases, "points": slim, "cold_s": round(cold_total, 1), "warm_s": round(warm_total, 1) if warm else None,
                      "wheels": wheels, "cold_downloads": downloads, "cold_mb": round(mb, 1),
                      "cold_saved_downloads": saved, "cold_saved_mb": round(saved_mb, 1)}, table)


if __name__ == "__main__":
    main(sys.argv[1:])
