"""Services built from a git branch: a cached mirror, a checkout, and the service's own wheel.

The wheel is built from the checkout with PEP 517 by the target interpreter, so pbr (or
setuptools-scm) gives it its real version from git; it is cached by commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

from ..environment import Target, stale
from ..environment.python import BUILD_EPOCH, build_wheel
from ..errors import Rejected, ToolError, VenvdebError
from ..files import sha256_file, take, write_atomic
from ..model import Point, build_lock
from ..model.wheelmeta import metadata, requires_dist


@dataclass(frozen=True)
class Checkout:
    url: str
    branch: str
    commit: str
    subject: str
    epoch: int
    wheel: Path


# git on the host reads no configuration but its own, and runs no hook: the mirrors are the host's
# (build chroots see the cache read-only), and this keeps them so should one ever be written.
GIT_SAFE = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0"}


def _git(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(["git", *GIT_SAFE, *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **GIT_ENV})
    if result.returncode != 0:
        raise ToolError(f"git {' '.join(args)} failed: {result.stderr.strip()[-1000:]}")
    return result.stdout.strip()


def mirror(cache_dir: Path, url: str) -> Path:
    path = Path(cache_dir) / "git" / (hashlib.sha256(url.encode()).hexdigest()[:16] + ".git")
    if path.is_dir():
        # The mirror follows upstream as it is, a tag moved upstream included (pbr versions come
        # from tags): git refuses to move a fetched tag without the '+'.
        _git("--git-dir", str(path), "fetch", "--prune", "origin", "+refs/heads/*:refs/heads/*",
             "+refs/tags/*:refs/tags/*")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=stale.owned(stale.CLONE)))
        try:
            # "--": a URL is never an option (--upload-pack=... would run a command).
            _git("clone", "--mirror", "--quiet", "--", url, str(tmp / "m.git"))
            (tmp / "m.git").rename(path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return path


RECORD = "wheel.json"  # the built wheel's name and sha256, as the host took it


def _verified_wheels(built: Path, lock: build_lock.BuildLock) -> list[Path]:
    """The wheel built before for this commit, if its bytes are still those the host recorded,
    and the toolchain that built it the one in force."""
    try:
        record = json.loads((built / RECORD).read_text())
        wheel = built / Path(record["filename"]).name
        same = record.get("toolchain") == lock.sha256  # built by the release's build lock, as recorded
        return [wheel] if same and wheel.is_file() and not wheel.is_symlink() and sha256_file(wheel) == record["sha256"] else []
    except (OSError, ValueError, KeyError, TypeError):
        return []


def checkout(cache_dir: Path, target: Target, point: Point, url: str, branch: str, where: str,
             at: str | None = None) -> Checkout:
    """The branch's head, or (a rebuild) the commit ``at`` that an earlier build recorded."""
    repo = mirror(cache_dir, url)
    if at:
        try:
            commit = _git("--git-dir", str(repo), "rev-parse", "--verify", f"{at}^{{commit}}")
        except VenvdebError:
            raise VenvdebError(f"{where}: {url} has no commit {at}, which the build to repeat was made from",
                               hint="the branch was rewritten upstream: that build cannot be repeated") from None
    else:
        try:
            commit = _git("--git-dir", str(repo), "rev-parse", "--verify", f"refs/heads/{branch}^{{commit}}")
        except VenvdebError:
            raise VenvdebError(f"{where}: key 'source.branch': {url} has no branch {branch!r}") from None
    subject = _git("--git-dir", str(repo), "log", "-1", "--format=%s", commit)
    epoch = int(_git("--git-dir", str(repo), "log", "-1", "--format=%ct", commit))
    built = Path(cache_dir) / "gitwheels" / target.interpreter / commit
    lock = build_lock.of(point)
    wheels = _verified_wheels(built, lock)
    if not wheels:
        # In the build chroot's scratch directory: the wheel is taken from there, by copy and digest.
        work = Path(tempfile.mkdtemp(dir=target.environment.scratch, prefix="git-"))
        try:
            src = work / "src"
            # A full local clone: pbr reads the history and tags for the version.
            _git("clone", "--quiet", "--branch", branch, "--", str(repo), str(src))
            if at:
                _git("checkout", "--quiet", "--detach", commit, cwd=src)
            code, log, out = build_wheel(target, lock.text, lock.label, src, work,
                                         {"SOURCE_DATE_EPOCH": str(max(epoch, int(BUILD_EPOCH)))})
            found = sorted(out.glob("*.whl")) if out.is_dir() else []
            if code != 0 or len(found) != 1:
                lacking = build_lock.missing(point, log, f"{url} {branch} ({commit[:12]})")
                if lacking:
                    raise VenvdebError(f"{where}: {lacking[0]}",
                                       hint=lacking[1])
                raise Rejected(f"{where}: building a wheel from {url} {branch} ({commit[:12]}) failed:\n{log[-2000:]}")
            if built.exists():
                shutil.rmtree(built)  # a wheel whose digest no longer matched: built again
            built.mkdir(parents=True)
            digest = take(found[0], built / found[0].name, target.environment.scratch)
            write_atomic(built / RECORD, json.dumps({"filename": found[0].name, "sha256": digest,
                                                     "toolchain": lock.sha256}).encode())
            wheels = [built / found[0].name]
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return Checkout(url=url, branch=branch, commit=commit, subject=subject, epoch=epoch, wheel=wheels[0])


def declared_build_requires(point: Point, cache_dir: Path) -> dict[str, list[str]]:
    """Per git-sourced service (as who asks, with its commit), the build requirements its
    checkout's pyproject.toml declares, read from the mirror: what the build lock needs for it."""
    found = {}
    for service in point.services:
        if service.source.git:
            repo = mirror(cache_dir, service.source.git)
            commit = _git("--git-dir", str(repo), "rev-parse", "--verify",
                          f"refs/heads/{service.source.branch}^{{commit}}")
            names = _git("--git-dir", str(repo), "ls-tree", "--name-only", commit).splitlines()
            data = (subprocess.run(["git", *GIT_SAFE, "--git-dir", str(repo), "show", f"{commit}:pyproject.toml"],
                                   capture_output=True, env={**os.environ, **GIT_ENV}, check=True).stdout
                    if "pyproject.toml" in names else None)
            found[f"{service.name} (git {service.source.branch})"] = build_lock.from_pyproject(
                data, f"{service.source.git} {commit[:12]}")
    return found


def checkouts(point: Point, target: Target, cache_dir: Path) -> dict[str, tuple[str, list[Requirement]]]:
    """For the wheelhouse build: per git-sourced service, who asks (its commit) and what the
    checkout's own wheel requires."""
    found = {}
    for service in point.services:
        if service.source.git:
            co = checkout(cache_dir, target, point, service.source.git, service.source.branch, str(service.path))
            found[service.name] = (f"service {service.name} (git {co.commit[:12]})", requires_dist(metadata(co.wheel)))
    return found
