"""evil-build: the service's project. Its commands: ``evil-build`` (the service works) and
``evil-marks``, which smoke runs to read, inside the smoke chroot, what evil-pth's .pth left
there (smoke keeps nothing of a command that passes, so this one fails when something is wrong,
and its output, the marks, is then the check's detail)."""

import json
import os
import sys

from . import attacks


def main():
    print("evil-build 1.0")


def marks_here():
    t = attacks.targets()
    found = {}
    try:
        names = sorted(os.listdir(t["marks_dir"]))
    except OSError:
        names = []
    for name in names:
        try:
            with open(os.path.join(t["marks_dir"], name)) as f:
                found[name[:-len(".json")]] = json.load(f)
        except (OSError, ValueError):
            continue
    return found


def report():
    """Exit 0 only if the .pth ran in this command's own interpreter (it ran at its start, as
    'run', before this function) and tried every attack, none of which got the key or the
    repository's server; and if it ran in no maintainer script (postinst runs python -I -S, as
    root)."""
    found = marks_here()
    print(json.dumps(found, indent=1, sort_keys=True))
    problems = []
    run = found.get("run@" + attacks.codename())
    if run is None:
        problems.append("evil-pth's .pth did not run in this interpreter")
    else:
        problems += ["the .pth did not try %s" % a for a in attacks.ATTACKS if a not in run]
        if run.get("read_key", "").startswith("read"):
            problems.append("the .pth read the signing key: " + run["read_key"])
        if "reached" in run.get("reach_repository", ""):
            problems.append("the .pth reached the repository's server: " + run["reach_repository"])
    problems += ["the .pth ran in a maintainer script, as root: " + who
                 for who in found if who.startswith("maintscript-")]
    for problem in problems:
        print(problem)
    sys.exit(1 if problems else 0)
