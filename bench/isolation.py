"""The wheelhouse and venv-nova for this host's own distribution: built on the host (the
baseline: a commit from before every build moved into a chroot, checked out in a worktree with
a venv of its own) against built in a clean chroot (this checkout), in one run, side by side.

    python bench/isolation.py BASELINE_COMMIT

Both from a warm cache (the same cache: wheels and sdists are shared, as on a build host).
Each side builds the wheelhouse once to warm up, then again into an empty output directory (the
package made again from the cached wheels: the one compared), then venv-nova twice (the second
compared: the median of three, as a build host builds it: its chroot image made, its cache warm).
Each side reads its own commit's packaging. Target: in a chroot,
at most 1.2x the host build, for each.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, cache_dir, record  # noqa: E402

RELEASE, SERVICE, TARGET = "2026.2", "nova", 1.2
AGAIN = 3  # venv-nova built again this many times: the median is compared (one build varies by a second)


def git(*args: str, cwd: Path = PROJECT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def baseline_checkout(commit: str, work: Path) -> Path:
    """``commit`` in a worktree of its own, with its own venv from its own lock."""
    tree = work / "baseline"
    git("worktree", "add", "--detach", "--quiet", str(tree), commit)
    pip = ["env", "PIP_CONFIG_FILE=/dev/null", "PIP_FIND_LINKS=", str(tree / ".venv" / "bin" / "pip"), "install", "-q"]
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(tree / ".venv")], check=True)
    subprocess.run([*pip, "--require-hashes", "--no-deps", "-r", str(tree / "requirements.txt")], check=True)
    subprocess.run([*pip, "-qq", "--no-deps", "--no-build-isolation", "-e", str(tree)], check=True)
    return tree


def timed(venvdeb: Path, *args: str) -> float:
    """One command of ``venvdeb``'s checkout, on that checkout's own packaging (the model of each
    commit reads its own files)."""
    packaging = venvdeb.parents[2] / "packaging"
    started = time.monotonic()
    proc = subprocess.run([str(venvdeb), "--packaging", str(packaging), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{venvdeb} {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return time.monotonic() - started


def side(venvdeb: Path, work: Path, distribution: str) -> dict:
    def dirs(name: str) -> list[str]:
        return ["--dist", distribution, "--cache-dir", str(cache_dir()), "--out-dir", str(work / name / "out"),
                "--state-dir", str(work / name / "state")]

    timed(venvdeb, "wheelhouse", "build", RELEASE, *dirs("warm-up"))
    wheelhouse = timed(venvdeb, "wheelhouse", "build", RELEASE, *dirs("run"))
    first = timed(venvdeb, "build", RELEASE, SERVICE, "--reason", "bench: first", *dirs("run"))
    again = [timed(venvdeb, "build", RELEASE, SERVICE, "--reason", f"bench: again {n}", *dirs("run"))
             for n in range(AGAIN)]
    return {"wheelhouse_s": round(wheelhouse, 1), "first_build_s": round(first, 1),
            "build_s": round(statistics.median(again), 1), "builds_s": [round(t, 1) for t in again]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", help="a commit whose builds for the host's distribution ran on the host")
    args = parser.parse_args()
    distribution = subprocess.run(["sh", "-c", ". /etc/os-release; echo $VERSION_CODENAME"], capture_output=True,
                                  text=True, check=True).stdout.strip()
    commit = git("rev-parse", args.baseline)
    work = Path(tempfile.mkdtemp(prefix="venvdeb-bench-isolation-"))
    try:
        baseline = baseline_checkout(commit, work)
        host = side(baseline / ".venv" / "bin" / "venvdeb", work / "host", distribution)
        chroot = side(Path(sys.executable).with_name("venvdeb"), work / "chroot", distribution)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(work / "baseline")], cwd=PROJECT, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    ratios = {k: round(chroot[k] / host[k], 2) for k in ("wheelhouse_s", "build_s")}
    verdict = "met" if all(r <= TARGET for r in ratios.values()) else "NOT met"
    table = [f"# {RELEASE} for {distribution} (this host's own distribution): on the host vs in a clean chroot",
             "", f"Reproduce: `make bench-isolation` (baseline: {commit[:12]}, builds on the host).", "",
             "| where | commit | wheelhouse, made again from a warm cache (s) | venv-nova, first (s) | venv-nova, median "
             f"of {AGAIN} more (s) |",
             "|---|---|---:|---:|---:|",
             f"| this host | {commit[:12]} | {host['wheelhouse_s']} | {host['first_build_s']} | {host['build_s']} "
             f"({', '.join(map(str, host['builds_s']))}) |",
             f"| a clean {distribution} chroot | {git('rev-parse', '--short=12', 'HEAD')} | {chroot['wheelhouse_s']} | "
             f"{chroot['first_build_s']} | {chroot['build_s']} ({', '.join(map(str, chroot['builds_s']))}) |", "",
             f"Chroot / host: wheelhouse {ratios['wheelhouse_s']}x, venv-nova {ratios['build_s']}x "
             f"(target <= {TARGET}x each: {verdict})."]
    record("isolation", {"release": RELEASE, "service": SERVICE, "distribution": distribution, "baseline": commit,
                         "host": host, "chroot": chroot, "ratios": ratios}, table)


if __name__ == "__main__":
    main()
