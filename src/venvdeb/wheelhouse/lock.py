"""`venvdeb lock`: compile a release's pip-tools lock for each of its distributions' interpreters.

pip-compile resolves for the interpreter it runs on. A release for bookworm (3.11) and trixie
(3.13) needs one lock for both: it is compiled for the first distribution, then again for each
other one starting from it. pip-compile keeps the pins it is given where they still fit, so the
second run adds what only the newer interpreter needs (webob needs legacy-cgi on 3.13, which has
no cgi module), and the lock is the union. A pin that would have to differ is an error.

The release's build lock (model/build_lock.py) is compiled the same way, after the lock, from
what the sdists of its pins declare (``build_requirements``), from wheels only."""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..environment import Target
from ..errors import ProviderFailure, VenvdebError
from ..files import write_atomic, take
from ..http import Client
from ..model import Point, Release, overrides
from ..model.constraints import parse
from ..model import build_lock
from .cache import Cache
from .index import IndexProvider
from .roots import requirements_in


# Old setup.py files import pkg_resources, which setuptools 81 removed (horizon's XStatic sdists
# do): pip-compile only asks sdists for their metadata, which a capped setuptools gives as well.
BUILD_CONSTRAINTS = "build-constraints.txt"
LEGACY_SETUPTOOLS = "setuptools<81"


def compile_argv(target: Target, req_in: Path, output: Path, constraint: str | None,
                 pip_args: str = f"--build-constraint {BUILD_CONSTRAINTS}") -> list[str]:
    argv = [str(target.bin / "pip-compile"), "--quiet", "--generate-hashes", "--allow-unsafe",
            "--strip-extras", "--no-header", "--annotation-style=line", "--resolver=backtracking",
            f"--pip-args={pip_args}", "--output-file", str(output)]
    if constraint:
        argv += ["--constraint", constraint]
    return argv + [str(req_in)]


# A build environment is installed from wheels only (nothing of it runs as it is installed): the
# build lock is compiled from wheels only, so that a requirement with none is named now.
BUILD_LOCK_PIP_ARGS = "--only-binary :all:"


def entries(text: str) -> dict[str, str]:
    """A pip-compile lock's entries by canonical name, each as its lines (pin, hashes, annotation).
    Blank lines and pip-compile's own section comments (at the start of a line) belong to none."""
    found: dict[str, str] = {}
    name = None
    for line in text.splitlines(keepends=True):
        if not line.strip() or line.startswith("#"):
            continue
        if not line[0].isspace():
            name = parse(line.rstrip().rstrip("\\"), "lock").pins[0].name
            found[name] = line
        elif name is not None:
            found[name] += line
    return found


def union(base: str, other: str, base_for: str, other_for: str) -> str:
    """``base`` with the entries only ``other`` has; the same name at two versions is refused."""
    ours, theirs = entries(base), entries(other)
    versions = {p.name: p.version for p in parse(base, "lock").pins}
    differ = [f"{p.name}: {versions[p.name]} for {base_for}, {p.version} for {other_for}"
              for p in parse(other, "lock").pins if p.name in versions and versions[p.name] != p.version]
    if differ:
        raise VenvdebError("the lock cannot hold one version of each package for every distribution:\n"
                           + "\n".join(f"  - {d}" for d in differ),
                           hint="pin, in the constraints, a version that installs on both interpreters")
    merged = ours | {name: entry for name, entry in theirs.items() if name not in ours}
    return "".join(merged[name] for name in sorted(merged))


def read_constraint(constraint: str, client: Client | None = None) -> str:
    """The upstream constraints file's text, from a path or a URL."""
    if "://" in constraint:
        return (client or Client()).get_bytes(constraint).decode()
    try:
        return Path(constraint).read_text()
    except OSError as exc:
        raise VenvdebError(f"--constraint {constraint}: cannot read it ({exc.strerror})") from None


def compile_lock(point: Point, target: Target, constraint: str | None, work_root: Path,
                 extend: tuple[str, str] | None = None, log=lambda message: None) -> tuple[str, str]:
    """Compile the release's lock for ``target``: (its requirements.in, the lock), written by the
    caller once every distribution's compile succeeded. With ``extend`` (the distribution the lock
    was just compiled for, and that lock), it is kept and what ``target`` needs besides is added."""
    c = point.constraints
    if c.kind != "lock":
        raise VenvdebError(f"{point.path}: key 'constraints.kind': is {c.kind!r}; only a 'lock' is compiled")
    if c.overrides and not constraint:
        raise VenvdebError(f"{point.path}: key 'constraints.overrides': overrides apply to the upstream "
                           "constraints the lock is compiled under", hint="give them with --constraint")
    target.build_environment()  # pip-tools is in the pinned toolchain
    # pip-compile records the paths it was given in the lock's annotations: compile in a scratch
    # directory with stable relative names, so no path of this machine ends up in the lock.
    # The scratch directory is under work_root (the build chroot's scratch, which it may write).
    work_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lock-", dir=work_root) as scratch:
        work = Path(scratch)
        roots = requirements_in(point)
        (work / c.requirements_in.name).write_text(roots)
        (work / BUILD_CONSTRAINTS).write_text(LEGACY_SETUPTOOLS + "\n")
        if constraint:
            text = read_constraint(constraint)
            upstream = parse(text, constraint)
            for o in overrides.redundant(upstream, c.overrides, target.markers):
                log(f"note: {constraint} pins {o.name} {o.version} itself: the override in {point.path} "
                    "is no longer needed")
            # What pip-compile is given: the upstream file with the release's overrides applied.
            (work / "upper-constraints.txt").write_text(overrides.rewrite(text, upstream, c.overrides, point.path))
            constraint = "upper-constraints.txt"
        output = work / c.path.name
        if extend:  # pip-compile keeps the pins it is given where they still fit
            output.write_text(extend[1])
        elif c.path.is_file():
            shutil.copyfile(c.path, output)
        compiled = _run(point, target, work, compile_argv(target, Path(c.requirements_in.name), Path(output.name),
                                                          constraint), output, "pip-compile")
        if extend:
            compiled = union(extend[1], compiled, extend[0], point.distribution)
    return roots, compiled


def write_lock(release: Release, roots: str, compiled: str) -> Path:
    c = release.constraints
    write_atomic(c.requirements_in, roots.encode())
    write_atomic(c.path, compiled.encode())
    return c.path


def _run(point: Point, target: Target, work: Path, argv: list[str], output: Path, what: str) -> str:
    """Run pip-compile in ``work`` (the build chroot's scratch); the lock it wrote, taken."""
    result = target.pip_run(argv, cwd=work)
    if result.returncode != 0:
        raise VenvdebError(f"{what} failed for release {point.name} on {point.distribution}:\n"
                           f"{result.stderr[-3000:]}", hint="nothing was written; see what pip-compile said above")
    with tempfile.TemporaryDirectory() as host_only:  # a regular file the chroot wrote, never a link to one of the host's
        taken = Path(host_only) / output.name
        take(output, taken, target.environment.scratch)
        return taken.read_text()


# -- the build lock --------------------------------------------------------------------------------

def build_requirements(point: Point, target: Target, cons, moves, cache_dir: Path,
                       checkouts: dict[str, list[str]], jobs: int = 16, log=lambda message: None
                       ) -> dict[str, set[str]]:
    """Per build requirement, who declares it: every pin of the point's constraints that has no
    wheel for its interpreter (an sdist the wheelhouse would build), and each git checkout. A pin
    the index cannot give at all is left to the wheelhouse build, which names it."""
    provider = IndexProvider(point.index_url, target, Cache(cache_dir, log=log), Client(), None, None)
    pins = sorted(overrides.apply(cons, moves, point.path, target.markers).values(), key=lambda p: p.name)

    def one(pin):
        try:
            artifact = provider.artifact(pin.name, pin.version)
        except ProviderFailure:
            return None
        return artifact if artifact.kind == "sdist" else None

    wanted: dict[str, set[str]] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        sdists = [a for a in pool.map(one, pins) if a is not None]
    for artifact in sdists:
        for req in build_lock.declared(provider.sdist(artifact)):
            wanted.setdefault(req, set()).add(artifact.filename)
    for who, reqs in checkouts.items():
        for req in reqs:
            wanted.setdefault(req, set()).add(who)
    log(f"{point.distribution}: {len(sdists)} sdists to build ({', '.join(a.filename for a in sdists) or 'none'})"
        f"{f' and {len(checkouts)} git checkouts' if checkouts else ''}")
    return wanted


def compile_build_lock(point: Point, target: Target, roots: str, work_root: Path,
                       extend: tuple[str, str] | None = None) -> str:
    """Compile the build lock from its input ``roots`` for ``target``; with ``extend``, as
    compile_lock does: the lock just compiled for another distribution, kept and added to."""
    c = point.constraints
    target.build_environment()  # pip-tools is in the pinned toolchain
    work_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="build-lock-", dir=work_root) as scratch:
        work = Path(scratch)
        req_in, output = work / c.build_requirements_in.name, work / c.build_lock.name
        req_in.write_text(roots)
        if extend:
            output.write_text(extend[1])
        elif c.build_lock.is_file():
            shutil.copyfile(c.build_lock, output)
        argv = compile_argv(target, Path(req_in.name), Path(output.name), None, pip_args=BUILD_LOCK_PIP_ARGS)
        argv.insert(1, "--no-emit-options")  # the lock is installed with --only-binary all the same
        compiled = _run(point, target, work, argv, output, "pip-compile of the build lock")
    return union(extend[1], compiled, extend[0], point.distribution) if extend else compiled


def write_build_lock(release: Release, roots: str, compiled: str) -> Path:
    c = release.constraints
    write_atomic(c.build_requirements_in, roots.encode())
    write_atomic(c.build_lock, compiled.encode())
    return c.build_lock
