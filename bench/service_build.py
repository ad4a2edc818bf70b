"""venv-nova from a warm wheelhouse: venvdeb's build vs the plain dh-virtualenv recipe, in one run.

Targets (issue 3): <= 20 s wall on this 2-core machine, >= 10x faster than the plain recipe,
still reproducible and lintian-clean; operators' installs (dpkg -i) must not get slower.

The plain recipe is dh_virtualenv with pip from the same local wheel directory (bytecode
compiled by pip), then the default dh sequence: dh_strip_nondeterminism, dh_strip, dh_dwz, and
dh_builddeb with xz. It only differs where it must to build at all: dh_shlibdeps is told that the
libraries bundled in manylinux wheels have no shlibs information. Both build in a clean build
chroot of the point's distribution (issue 24: every build does), with the wheelhouse in it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, record, venvdeb  # noqa: E402

RELEASE, SERVICE = "2025.2", "nova"

PLAIN_RULES = """#!/usr/bin/make -f
%:
\tdh $@ --with python-virtualenv

override_dh_virtualenv:
\tdh_virtualenv --python /usr/bin/python3 --builtin-venv --skip-install \\
\t\t--extra-pip-arg=--no-index --extra-pip-arg=--find-links={wheelhouse}

override_dh_shlibdeps:
\tdh_shlibdeps -- --ignore-missing-info
"""


def plain_tree(rendered: Path, dest: Path) -> Path:
    """The same package, as the plain recipe builds it: same control, changelog, requirements."""
    dest.mkdir(parents=True)
    (dest / "debian" / "source").mkdir(parents=True)
    for name in ("control", "changelog", "copyright"):
        shutil.copy(rendered / "debian" / name, dest / "debian" / name)
    (dest / "debian" / "source" / "format").write_text("1.0\n")
    wheelhouse = next(line.split("=", 1)[1].strip() for line in (rendered / "debian" / "rules").read_text().splitlines()
                      if line.startswith("WHEELHOUSE ="))
    (dest / "debian" / "rules").write_text(PLAIN_RULES.format(wheelhouse=wheelhouse))
    (dest / "debian" / "rules").chmod(0o755)
    shutil.copy(rendered / "requirements.txt", dest / "requirements.txt")
    return dest


def deb_facts(deb: Path) -> dict:
    info = subprocess.run(["dpkg-deb", "-f", str(deb), "Installed-Size"], capture_output=True, text=True, check=True)
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    files = sum(1 for line in listing.splitlines() if not line.startswith("d"))
    return {"deb_mb": round(deb.stat().st_size / 1e6, 1), "installed_mb": round(int(info.stdout) / 1024, 1),
            "files": files}


def dpkg_install_seconds(deb: Path, cache_dir: Path) -> float:
    """dpkg -i in a clean chroot (python3 and adduser already there), maintainer scripts included;
    its other dependencies (sudo, for a service with privileged helpers) are not what is timed:
    --force-depends, for both packages alike."""
    from venvdeb.environment import images

    with images.smoke("bookworm", cache_dir).fresh() as ch:
        ch.write(f"/tmp/{deb.name}", deb.read_bytes())
        start = time.monotonic()
        proc = ch.run(["dpkg", "-i", "--force-depends", f"/tmp/{deb.name}"])
        took = time.monotonic() - start
        if proc.returncode != 0:
            raise SystemExit(f"dpkg -i {deb.name} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        return took


def main() -> None:
    from venvdeb.environment import for_build
    from venvdeb.environment.python import PIP_UNSET
    from venvdeb.model import load_release
    from venvdeb.service.build import BuildOptions, build_variables, ensure_wheelhouse

    cache_dir = Path.home() / ".cache" / "venvdeb"
    work = Path(tempfile.mkdtemp(prefix="venvdeb-bench-svc-"))
    try:
        dirs = ["--cache-dir", str(cache_dir), "--out-dir", str(work / "out"), "--state-dir", str(work / "state"),
                "--dist", "bookworm"]
        packaging = ["--packaging", str(PROJECT / "packaging")]
        venvdeb(*packaging, "wheelhouse", "build", RELEASE, *dirs)
        first, r_first, _ = venvdeb(*packaging, "build", RELEASE, SERVICE, "--reason", "bench: first", *dirs)
        # Three more: one build varies by a second on this machine; the median is compared.
        again = [venvdeb(*packaging, "build", RELEASE, SERVICE, "--reason", f"bench: again {n}", *dirs)
                 for n in range(3)]
        warm = statistics.median(wall for wall, _, _ in again)
        r_warm = again[-1][1]
        ours = Path(r_warm["deb"])

        rendered = work / "rendered"
        venvdeb(*packaging, "render", RELEASE, SERVICE, "-o", str(rendered), *dirs)
        # The plain recipe where venvdeb's build runs: a clean build chroot of the point's
        # distribution, the wheelhouse in it as venvdeb's build has it (its Build-Depends taken as
        # held, -d), pip instead of uv, the default date. Only dpkg-buildpackage is timed (venvdeb's
        # figure is the whole command: chroot, plan, render, build, copy out).
        point = load_release(PROJECT / "packaging", RELEASE).at("bookworm")
        options = BuildOptions(cache_dir=cache_dir, out_dir=work / "out" / RELEASE, state_dir=work / "state")
        with for_build(point.distribution, "bench", cache_dir) as chroot:
            ensure_wheelhouse(point, options, chroot, log=lambda message: None)
            tree = plain_tree(rendered, chroot.scratch / "plain" / f"venv-{SERVICE}-plain")
            variables = {**build_variables(chroot, cache_dir), "SOURCE_DATE_EPOCH": str(int(time.time())),
                         "LC_ALL": "C.UTF-8", "TZ": "UTC"}
            variables.pop("VENVDEB_UV")
            start = time.monotonic()
            proc = chroot.run(["dpkg-buildpackage", "-b", "-us", "-uc", "-d"], cwd=tree, setenv=variables,
                              unset=(*PIP_UNSET, "MAKEFLAGS"), offline=True)
            plain_wall = time.monotonic() - start
            if proc.returncode != 0:
                raise SystemExit(f"plain recipe failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
            built = next(p for p in tree.parent.glob("*.deb") if "dbgsym" not in p.name)
            plain = work / built.name
            shutil.copyfile(built, plain)  # out of the chroot's scratch, which goes with it

        lint = subprocess.run(["lintian", "--fail-on", "error,warning", str(ours)], capture_output=True, text=True)
        facts = {"venvdeb": deb_facts(ours), "plain": deb_facts(plain)}
        facts["venvdeb"]["dpkg_i_s"] = round(dpkg_install_seconds(ours, cache_dir), 1)
        facts["plain"]["dpkg_i_s"] = round(dpkg_install_seconds(plain, cache_dir), 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    speedup = plain_wall / warm
    v, p = facts["venvdeb"], facts["plain"]
    table = [
        f"# venv-{SERVICE}: venvdeb build vs the plain dh-virtualenv recipe (warm wheelhouse)",
        "",
        "Reproduce: `make bench-service`.",
        "",
        "| build | wall (s) | .deb (MB) | installed (MB) | files | dpkg -i (s) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| venvdeb build (again: the median of {', '.join(f'{w:.1f}' for w, _, _ in again)}) | {warm:.1f} | {v['deb_mb']} | {v['installed_mb']} | "
        f"{v['files']} | {v['dpkg_i_s']} |",
        f"| venvdeb build (first: unpacks the wheelhouse into the cache) | {first:.1f} | | | | |",
        f"| plain recipe (pip, strip-nondeterminism, xz; its dpkg-buildpackage alone) | {plain_wall:.1f} | {p['deb_mb']} | {p['installed_mb']} | "
        f"{p['files']} | {p['dpkg_i_s']} |",
        "",
        f"Speed-up: {speedup:.1f}x (target >= 10x: {'met' if speedup >= 10 else 'NOT met'}); "
        f"<= 20 s: {'met' if warm <= 20 else 'NOT met'}; lintian --fail-on error,warning: "
        f"{'clean' if lint.returncode == 0 else 'NOT clean'}; dpkg -i {'not slower' if v['dpkg_i_s'] <= p['dpkg_i_s'] else 'SLOWER'} "
        "(venvdeb's postinst compiles the bytecode the plain package ships).",
    ]
    record("service_build", {"service": SERVICE, "venvdeb_s": round(warm, 1), "venvdeb_first_s": round(first, 1),
                             "venvdeb_again_s": [round(w, 1) for w, _, _ in again],
                             "plain_s": round(plain_wall, 1), "speedup": round(speedup, 1), "facts": facts,
                             "lintian_clean": lint.returncode == 0}, table)


if __name__ == "__main__":
    main()
