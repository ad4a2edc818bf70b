"""venv-nova of release 2026.1 built for trixie in a clean trixie chroot, against the same
service built for bookworm on this (bookworm) host.

Both from a warm cache: the wheelhouse of each distribution is built first, and each service
package is built twice, the second build being the one compared (a build host keeps its
chroot image and cache). The chroot build includes unpacking the image and installing the
wheelhouse .deb in it, which a host build does once. Target: the chroot build costs at most
1.5x the host build.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, record, venvdeb  # noqa: E402

RELEASE, SERVICE = "2026.1", "nova"


def main() -> None:
    cache_dir = Path.home() / ".cache" / "venvdeb"
    work = Path(tempfile.mkdtemp(prefix="venvdeb-bench-chroot-"))
    rows, data = [], {}
    try:
        for distribution in ("bookworm", "trixie"):
            packaging = PROJECT / "packaging"
            dirs = ["--dist", distribution, "--cache-dir", str(cache_dir), "--out-dir", str(work / distribution / "out"),
                    "--state-dir", str(work / distribution / "state")]
            wh_wall, wh, _ = venvdeb("--packaging", str(packaging), "wheelhouse", "build", RELEASE, *dirs)
            first, _, _ = venvdeb("--packaging", str(packaging), "build", RELEASE, SERVICE, "--reason", "bench: first", *dirs)
            warm, built, _ = venvdeb("--packaging", str(packaging), "build", RELEASE, SERVICE, "--reason", "bench: warm", *dirs)
            where = "this host" if distribution == "bookworm" else "a clean trixie chroot"
            data[distribution] = {"where": where, "wheelhouse_s": round(wh_wall, 1), "interpreter": wh["interpreter"],
                                  "first_build_s": round(first, 1), "build_s": round(warm, 1),
                                  "deb_mb": round(built["deb_size"] / 1e6, 1), "depends": built["depends"]}
            rows.append(f"| {distribution} | {where} | {wh['interpreter']} | {wh_wall:.1f} | {first:.1f} | {warm:.1f} | "
                        f"{built['deb_size'] / 1e6:.1f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratio = data["trixie"]["build_s"] / data["bookworm"]["build_s"]
    table = [f"# venv-nova {RELEASE}: built in a trixie chroot vs on this bookworm host (warm cache)", "",
             "Reproduce: `make bench-chroot`.", "",
             "| distribution | where | interpreter | wheelhouse (s) | first build (s) | build (s) | .deb (MB) |",
             "|---|---|---|---:|---:|---:|---:|", *rows, "",
             f"Chroot build / host build: {ratio:.2f}x (target <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'})."]
    record("chroot_build", {"release": RELEASE, "service": SERVICE, "ratio": round(ratio, 2), **data}, table)


if __name__ == "__main__":
    main()
