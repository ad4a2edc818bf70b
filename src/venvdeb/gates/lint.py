"""`venvdeb lint`: lintian as a gate, its output parsed into a machine-readable result.

Lintian prints one line per tag: ``E: package: tag-name context [pointer]``. Only the package's
own overrides file may silence a tag: no profile, no --suppress-tags, no overrides from here.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from ..environment import unprivileged
from ..model.results import DEFAULT_FAIL_ON, LintResult
from ..progress import activity

SEVERITIES = {"E": "error", "W": "warning", "I": "info", "P": "pedantic", "X": "experimental",
              "O": "overridden", "C": "classification", "M": "masked"}
LINE = re.compile(r"^(?P<code>[EWIPXOCM]): (?P<package>[^\s:]+)(?: [a-z]+)?: (?P<tag>[\w.+-]+)(?: (?P<context>.*))?$")
FAIL_ON_SEVERITIES = ("error", "warning", "info", "pedantic", "experimental")  # what lintian --fail-on takes


def argv(deb: Path, fail_on: tuple[str, ...]) -> list[str]:
    # --no-cfg: the host's lintianrc (a profile, suppressed tags) must not change the gate.
    # lintian only emits pedantic and experimental tags when asked to display them, so a gate
    # failing on those severities has to ask; info tags are always shown, for the JSON.
    display = ["--display-info"]
    if "pedantic" in fail_on:
        display.append("--pedantic")
    if "experimental" in fail_on:
        display.append("--display-experimental")
    return ["lintian", "--no-cfg", "--fail-on", ",".join(fail_on), *display, "--no-tag-display-limit", str(deb)]


def parse(output: str) -> list[dict]:
    tags = []
    for line in output.splitlines():
        m = LINE.match(line)
        if m:
            tags.append({"severity": SEVERITIES[m["code"]], "tag": m["tag"], "package": m["package"],
                         "context": m["context"] or ""})
    return tags


def run(deb: Path, fail_on: tuple[str, ...] = DEFAULT_FAIL_ON) -> LintResult:
    """lintian on ``deb``, which a builder made: as nobody, offline, from a copy of its own
    (environment/unprivileged.py). Its output is captured and parsed: there is no log file whose
    end a failure could show."""
    with activity(f"lintian {Path(deb).name}"), unprivileged.readable(Path(deb)) as (copy,):
        proc = subprocess.run(unprivileged.argv(argv(copy, fail_on)), capture_output=True, text=True,
                              env=unprivileged.variables(), cwd=unprivileged.CWD)
    tags = parse(proc.stdout)
    # 2 is lintian's "tags at --fail-on level"; anything else non-zero means lintian itself failed.
    if proc.returncode not in (0, 2):
        tags.append({"severity": "error", "tag": "lintian-failed", "package": Path(deb).name,
                     "context": proc.stderr.strip()[-500:]})
    return LintResult(deb=str(deb), tags=tags, fail_on=list(fail_on), exit_code=proc.returncode)
