"""The default release's wheelhouse: cold cache vs warm cache vs one pin bumped, in one run.

Targets (issue 2): warm <= 10% of cold, one-bump <= 20% of cold.

- cold: empty cache (the build environment included), empty state;
- warm, no-op: the same command again: the content is unchanged, nothing is rebuilt;
- warm, repackaged: warm cache, but a new output directory, so the .deb is built again;
- one pin bumped: a copy of packaging/ whose lock has one pin changed.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, record, venvdeb  # noqa: E402

RELEASE = "2025.2"
BUMP = ("six", "1.17.0", "1.16.0")


def bump_lock(lock: Path, name: str, old: str, new: str) -> None:
    text = lock.read_text()
    # The bumped pin carries no hash: a lock line without hashes is a plain pin.
    pattern = re.compile(rf"^{re.escape(name)}=={re.escape(old)}( \\\n\s+--hash=sha256:[0-9a-f]+)+", re.M)
    text, count = pattern.subn(f"{name}=={new}", text)
    if count != 1:
        raise SystemExit(f"{lock}: no hashed pin {name}=={old} to bump")
    lock.write_text(text)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="venvdeb-bench-"))
    try:
        cache, state = work / "cache", work / "state"
        dirs = ["--cache-dir", str(cache), "--state-dir", str(state)]
        packaging = PROJECT / "packaging"
        common = ["--packaging", str(packaging), "wheelhouse", "build", RELEASE, *dirs]

        cold, r_cold, _ = venvdeb(*common, "--out-dir", str(work / "out1"))
        noop, r_noop, _ = venvdeb(*common, "--out-dir", str(work / "out1"))
        warm, r_warm, _ = venvdeb(*common, "--out-dir", str(work / "out2"))

        bumped_root = work / "packaging"
        shutil.copytree(packaging, bumped_root)
        bump_lock(bumped_root / "locks" / f"{RELEASE}.txt", *BUMP)
        bump, r_bump, _ = venvdeb("--packaging", str(bumped_root), "wheelhouse", "build", RELEASE, *dirs,
                                  "--out-dir", str(work / "out3"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = [
        ("cold cache", cold, r_cold), ("warm, no-op rebuild", noop, r_noop),
        ("warm, repackaged", warm, r_warm), (f"one pin bumped ({BUMP[0]} {BUMP[1]} -> {BUMP[2]})", bump, r_bump),
    ]
    table = [
        f"# Wheelhouse of release {RELEASE}: cold vs warm vs one pin bumped",
        "",
        f"{r_cold['wheels']} wheels ({r_cold['built']} built from sdists), {r_cold['size'] / 1e6:.1f} MB of wheels, "
        f".deb {r_cold['deb_size'] / 1e6:.1f} MB. Reproduce: `make bench`.",
        "",
        "| run | wall (s) | % of cold | version | downloads | MB downloaded | sdist builds |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, wall, r in rows:
        s = r.get("stats", {})
        table.append(f"| {label} | {wall:.1f} | {100 * wall / cold:.1f}% | {r['version']} | {s.get('downloads', 0)} | "
                     f"{s.get('downloaded_bytes', 0) / 1e6:.1f} | {s.get('builds', 0)} |")
    table += ["", f"Targets: warm <= 10% of cold: {'met' if warm <= 0.1 * cold else 'NOT met'} "
              f"(repackaged {100 * warm / cold:.1f}%, no-op {100 * noop / cold:.1f}%); "
              f"one-bump <= 20% of cold: {'met' if bump <= 0.2 * cold else 'NOT met'} ({100 * bump / cold:.1f}%)."]
    record("wheelhouse_cache", {
        "release": RELEASE, "runs": [{"run": label, "wall_s": round(wall, 2), "result": r} for label, wall, r in rows],
    }, table)


if __name__ == "__main__":
    main()
