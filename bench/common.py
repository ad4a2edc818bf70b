"""Helpers shared by the benchmarks: run the real CLI, time it, record results."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "bench" / "results"
UPPER_CONSTRAINTS = PROJECT.parent / "shared" / "fixtures" / "openstack-requirements" / "stable-2025.2" / "upper-constraints.txt"


def cache_dir() -> Path:
    """The cache the CLI uses by default: $VENVDEB_CACHE, else ~/.cache/venvdeb."""
    return Path(os.environ.get("VENVDEB_CACHE", Path.home() / ".cache" / "venvdeb"))


def venvdeb(*args: str, check: bool = True) -> tuple[float, dict | None, str]:
    """Run ``venvdeb ... --json``; return (wall seconds, result, stderr)."""
    argv = [sys.executable, "-m", "venvdeb", *args, "--json"]
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True)
    wall = time.monotonic() - start
    result = json.loads(proc.stdout) if proc.stdout.strip() else None
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return wall, result, proc.stderr


def machine() -> dict:
    import os

    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%MZ")}


def scrub(text: str) -> str:
    """Results are committed: no path of this machine in them (the project, temp dirs, home)."""
    text = text.replace(str(PROJECT) + "/", "").replace(str(Path.home()), "~")
    return re.sub(r"/tmp/[^\s\"']*", "<tmp>", text)


def record(name: str, data: dict, table: list[str]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data | {"machine": machine()}, indent=1, sort_keys=True) + "\n"
    (RESULTS / f"{name}.json").write_text(scrub(text))
    (RESULTS / f"{name}.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))
