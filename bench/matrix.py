"""The wheelhouses of the whole matrix, both default releases at both distributions, from an
empty cache and then from a warm one, in one run.

The content-addressed cache is shared by every release and distribution: a wheel that two
points use (a pure-Python wheel, or the same pin's wheel in both releases) is downloaded once.
The cold runs go one after another into one empty cache, so each point's "downloads" column
shows what the points before it had not already fetched. The trixie points run in a clean
trixie chroot (this host is bookworm); their cold run includes making that chroot's image.
Warm: the same four again with a new output and state directory, so every .deb is built again.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, record, venvdeb  # noqa: E402

POINTS = [(release, dist) for release in ("2025.2", "2026.1") for dist in ("bookworm", "trixie")]


def run_all(cache: Path, out: Path) -> list[tuple[str, str, float, dict]]:
    found = []
    for release, dist in POINTS:
        wall, result, _ = venvdeb("--packaging", str(PROJECT / "packaging"), "wheelhouse", "build", release,
                                  "--dist", dist, "--install-build-deps", "--cache-dir", str(cache),
                                  "--out-dir", str(out / "out"), "--state-dir", str(out / "state"))
        found.append((release, dist, wall, result))
    return found


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="venvdeb-bench-matrix-"))
    try:
        cold = run_all(work / "cache", work / "cold")
        warm = run_all(work / "cache", work / "warm")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    table = ["# The wheelhouse matrix: 2 releases x 2 distributions, cold cache then warm", "",
             "Reproduce: `make bench-matrix`. One empty cache, shared by the four points in turn.", "",
             "| run | release | distribution | interpreter | wall (s) | wheels | from sdists | downloads | MB downloaded | version |",
             "|---|---|---|---|---:|---:|---:|---:|---:|---|"]
    rows = []
    for label, runs in (("cold", cold), ("warm", warm)):
        for release, dist, wall, r in runs:
            s = r.get("stats", {})
            table.append(f"| {label} | {release} | {dist} | {r['interpreter']} | {wall:.1f} | {r['wheels']} | {r['built']} | "
                         f"{s.get('downloads', 0)} | {s.get('downloaded_bytes', 0) / 1e6:.1f} | {r['version']} |")
            rows.append({"run": label, "release": release, "distribution": dist, "wall_s": round(wall, 1), "result": r})
    cold_total, warm_total = sum(w for *_, w, _ in cold), sum(w for *_, w, _ in warm)
    wheels = sum(r["wheels"] for *_, r in cold)
    downloads = sum(r.get("stats", {}).get("downloads", 0) for *_, r in cold)
    table += ["", f"Cold: {cold_total:.1f} s for {wheels} wheels over the four points, {downloads} downloads "
              f"(each file once). Warm: {warm_total:.1f} s ({100 * warm_total / cold_total:.0f}% of cold)."]
    record("matrix", {"points": rows, "cold_s": round(cold_total, 1), "warm_s": round(warm_total, 1),
                      "wheels": wheels, "cold_downloads": downloads}, table)


if __name__ == "__main__":
    main()
