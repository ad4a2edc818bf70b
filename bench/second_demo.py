"""A warm machine's second `make demo` (issue 28's fourth measure): the demo run again with nothing
changed since the last, with this checkout and with the code before (BASELINE), one after the
other in one run, on this checkout's repository, state, output and caches: the warm machine.

    python bench/second_demo.py BASELINE

Each side runs its own Makefile's demo recipe (`make -f <its Makefile> -o setup demo`: the recipe
as that code wrote it, the host's packages and the venv left as they are), the baseline's
through a `venvdeb` that imports its src/. This checkout's demo runs first, twice: the first run
makes the machine warm for this code (it records what the cloud gate ran with, which the code
before did not), the second is measured. Then the baseline's. Recorded: each side's wall time,
and the seconds to the cloud gate's end of each of its stages, from its output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, record  # noqa: E402

# The demo's parts, by the line that starts each in its output (the Makefile's headings).
PARTS = (("pipelines", "venvdeb repo init"), ("apt install from staging", "== apt install venv-nova"),
         ("cloud gate", "== The cloud gate"))


def demo(makefile: Path, bin_dir: Path) -> dict:
    """``make demo`` from ``makefile``, with ``bin_dir``'s venvdeb; its wall time and its parts'."""
    argv = ["make", "--no-print-directory", "-f", str(makefile), "-o", "setup", "demo", f"BIN={bin_dir}"]
    started = time.monotonic()
    marks: dict[str, float] = {}
    said = []
    with subprocess.Popen(argv, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        for line in proc.stdout:
            said.append(line)
            for part, start in PARTS:
                if part not in marks and start in line:
                    marks[part] = time.monotonic() - started
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{''.join(said[-60:])}")
    ends = [marks[p] for p, _ in PARTS[1:]] + [wall]
    cloud = [line.strip() for line in said if re.match(r"cloud \S+ on \S+: (passed|kept)", line)]
    return {"wall": round(wall, 1), "parts": {p: round(end - marks[p], 1) for (p, _), end in zip(PARTS, ends)},
            "cloud": list(dict.fromkeys(cloud))}


def main(baseline: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        tree, wrapper = Path(scratch) / "baseline", Path(scratch) / "bin"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), baseline], cwd=PROJECT, check=True)
        wrapper.mkdir()
        (wrapper / "venvdeb").write_text(f"#!/bin/sh\nPYTHONPATH={tree / 'src'} exec {sys.executable} -m venvdeb "
                                         f"--packaging {tree / 'packaging'} \"$@\"\n")
        (wrapper / "venvdeb").chmod(0o755)
        try:
            this = PROJECT / "Makefile", Path(sys.executable).parent
            demo(*this)  # warm, for this code
            sides = {"after": demo(*this), "before": demo(tree / "Makefile", wrapper)}
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=PROJECT, check=False)
    record("second_demo", {"baseline": baseline, **sides}, table(baseline, sides))


def table(baseline: str, sides: dict) -> list[str]:
    before, after = sides["before"], sides["after"]
    lines = ["# A warm machine's second `make demo` (two cores)", "",
             f"Before: {baseline}; after: this checkout. One run, one after the other, on the same warm "
             "repository, state and caches; nothing changed since the run before.", "",
             "| | before | after |", "|---|---:|---:|",
             f"| **wall** | {before['wall']:.0f} s | {after['wall']:.0f} s |"]
    lines += [f"| {part} | {before['parts'][part]:.0f} s | {after['parts'][part]:.0f} s |" for part, _ in PARTS]
    lines += ["", "What each side's cloud gate said:", ""]
    for side in ("before", "after"):
        lines += [f"- {side}: " + "; ".join(sides[side]["cloud"])]
    return lines + [""]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
