"""`venvdeb lock`: compile a release's pip-tools lock for the target interpreter."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..environment import Target
from ..errors import VenvdebError
from ..files import write_atomic
from ..model import Release
from .roots import requirements_in


def compile_argv(target: Target, req_in: Path, output: Path, constraint: str | None) -> list[str]:
    argv = [str(target.bin / "pip-compile"), "--quiet", "--generate-hashes", "--allow-unsafe",
            "--strip-extras", "--no-header", "--annotation-style=line", "--resolver=backtracking",
            "--output-file", str(output)]
    if constraint:
        argv += ["--constraint", constraint]
    return argv + [str(req_in)]


def ensure_pip_tools(target: Target) -> None:
    if not (target.bin / "pip-compile").exists():
        target.pip_run([target.env_python, "-m", "pip", "install", "--quiet", "pip-tools"], check=True)


def compile_lock(release: Release, target: Target, constraint: str | None, work_root: Path) -> Path:
    c = release.constraints
    if c.kind != "lock":
        raise VenvdebError(f"{release.path}: key 'constraints.kind': is {c.kind!r}; only a 'lock' is compiled")
    ensure_pip_tools(target)
    write_atomic(c.requirements_in, requirements_in(release).encode())
    # pip-compile records the paths it was given in the lock's annotations: compile in a scratch
    # directory with stable relative names, so no path of this machine ends up in the lock.
    # The scratch directory is under work_root (the cache), which a chroot target sees too.
    work_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lock-", dir=work_root) as scratch:
        work = Path(scratch)
        req_in = work / c.requirements_in.name
        shutil.copyfile(c.requirements_in, req_in)
        if constraint and "://" not in constraint:
            shutil.copyfile(constraint, work / "upper-constraints.txt")
            constraint = "upper-constraints.txt"
        output = work / c.path.name
        if c.path.is_file():  # pip-compile keeps the current pins where they still fit
            shutil.copyfile(c.path, output)
        argv = compile_argv(target, Path(req_in.name), Path(output.name), constraint)
        result = target.pip_run(argv, cwd=work)
        if result.returncode != 0:
            raise VenvdebError(f"pip-compile failed for release {release.name}:\n{result.stderr[-3000:]}")
        write_atomic(c.path, output.read_bytes())
    return c.path
