"""`venvdeb wheelhouse build --all` on the real OpenStack 2025.2 upper-constraints, cold cache,
side by side with `pip wheel -r` on the same file in the same run.

The issue's reference on this machine: `pip wheel -r` stopped at its first failure after 83 s
with nothing produced; 8 pip processes downloading one pin each took 4.5 minutes.
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
from common import PROJECT, UPPER_CONSTRAINTS, record  # noqa: E402

RELEASE = """\
name = "uc"
distribution = "bookworm"
services = ["nova"]
wheelhouse_package = "bench-wheelhouse-uc"
build_depends = ["build-essential", "python3-dev", "pkg-config"]

[constraints]
kind = "upper-constraints"
path = "upper-constraints.txt"

[suites]
staging = "bench-staging"
production = "bench"
"""


def run_venvdeb(root: Path, work: Path) -> tuple[float, int, dict | None, str]:
    argv = [sys.executable, "-m", "venvdeb", "--packaging", str(root), "wheelhouse", "build", "uc", "--all",
            "--cache-dir", str(work / "cache"), "--out-dir", str(work / "out"),
            "--state-dir", str(work / "state"), "--json"]
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True)
    return time.monotonic() - start, proc.returncode, json.loads(proc.stdout or "null"), proc.stderr


def run_pip_wheel(work: Path) -> tuple[float, int, int, str]:
    """The plain recipe, in the same kind of build environment venvdeb uses."""
    env_dir = work / "pip-env"
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(env_dir)], check=True)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")} | {"PIP_CONFIG_FILE": os.devnull}
    subprocess.run([str(env_dir / "bin/pip"), "install", "-q", "-U", "pip", "wheel"], check=True, env=clean)
    out = work / "pip-wheels"
    start = time.monotonic()
    proc = subprocess.run([str(env_dir / "bin/pip"), "wheel", "--no-deps", "--no-cache-dir", "-w", str(out),
                           "-r", str(UPPER_CONSTRAINTS)], capture_output=True, text=True, env=clean, timeout=3600)
    wall = time.monotonic() - start
    produced = len(list(out.glob("*.whl"))) if out.exists() else 0
    error = [l for l in (proc.stdout + proc.stderr).splitlines() if "rror" in l][:3]
    return wall, proc.returncode, produced, " | ".join(error)[:300]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="venvdeb-bench-all-"))
    try:
        root = work / "packaging"
        (root / "releases").mkdir(parents=True)
        (root / "services").mkdir()
        shutil.copyfile(UPPER_CONSTRAINTS, root / "upper-constraints.txt")
        (root / "releases" / "uc.toml").write_text(RELEASE)
        shutil.copyfile(PROJECT / "packaging" / "services" / "nova.toml", root / "services" / "nova.toml")

        wall, code, result, stderr = run_venvdeb(root, work)
        pip_wall, pip_code, pip_produced, pip_error = run_pip_wheel(work)
        cache = work / "cache"
        wheels = list((cache / "wheels").rglob("*.whl"))
        built = list((cache / "builds").rglob("*.json"))
        size = sum(w.stat().st_size for w in wheels)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    failures = (result or {}).get("failures", [])
    table = [
        "# `--all` on the real OpenStack 2025.2 upper-constraints (cold cache)",
        "",
        "Reproduce: `make bench-all`. build_depends: build-essential python3-dev pkg-config only, so",
        "distributions that need other -dev libraries fail, and are all reported.",
        "",
        "| run | wall (s) | exit | wheels produced | failures reported |",
        "|---|---:|---:|---:|---:|",
        f"| venvdeb wheelhouse build --all | {wall:.1f} | {code} | {len(wheels)} ({len(built)} built from sdists, "
        f"{size / 1e6:.0f} MB) | {len(failures)} |",
        f"| pip wheel --no-deps -r upper-constraints.txt | {pip_wall:.1f} | {pip_code} | {pip_produced} | "
        f"stops at the first: {pip_error or '-'} |",
        "",
        "Failures reported by venvdeb (package, phase, hint):",
        "",
    ]
    table += [f"- {f['package']} [{f['phase']}]: {f['hint'] or f['reason'][:200]}" for f in failures]
    if code == 0:
        table.append("- none: " + json.dumps({k: result[k] for k in ("deb", "wheels", "built")}))
    record("wheelhouse_all", {
        "venvdeb": {"wall_s": round(wall, 1), "exit": code, "wheels_in_cache": len(wheels), "built": len(built),
                    "bytes": size, "failures": failures, "stderr_tail": stderr[-2000:]},
        "pip_wheel": {"wall_s": round(pip_wall, 1), "exit": pip_code, "wheels": pip_produced, "error": pip_error},
    }, table)


if __name__ == "__main__":
    main()
