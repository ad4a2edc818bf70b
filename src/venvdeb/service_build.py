"""`venvdeb build`: a service's dh-virtualenv package, from its wheelhouse alone.

1. the wheelhouse .deb of the release is installed on the build host (it is a Build-Depends,
   at its exact version), and the service's closure is walked over its manifest;
2. the next version and changelog entry come from the service's ledger;
3. the source tree is rendered from templates/ into a temporary directory and built with
   dpkg-buildpackage; dh_virtualenv installs with --no-index from the wheelhouse, every
   requirement pinned with its hash;
4. only a complete .deb is moved into the output directory, and only then is the ledger updated.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from debian.changelog import Changelog
from debian.debfile import DebFile
from packaging.requirements import Requirement
from packaging.utils import parse_wheel_filename

from . import builddeps, git_source, wheelmeta
from .cache import Cache, sha256_file
from .errors import VenvdebError
from .installed_wheelhouse import Wheelhouse, closure
from .ledger import Ledger
from .model import Release, Service
from .resolve import Root
from .sbuild import build_in_sbuild
from .service_render import RenderInputs, render
from .target import prepare
from .versions import debian_upstream, next_version
from .wheelhouse_deb import clamp_mtimes, epoch_of_date, wheel_dir

# What building any service package needs on the host, besides the wheelhouse.
HOST_BUILD_DEPENDS = ["debhelper", "dh-virtualenv", "dpkg-dev", "python3-venv", "fakeroot"]


@dataclass
class BuildOptions:
    cache_dir: Path
    out_dir: Path  # out/<release>
    state_dir: Path
    reason: str = "Rebuild."
    install_build_deps: bool = False
    wheelhouse_deb: Path | None = None
    isolation: str = "host"  # or "sbuild": a clean chroot, see sbuild.py


def installed_version(package: str) -> str | None:
    result = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Status} ${Version}", package],
                            capture_output=True, text=True)
    status = result.stdout.split()
    return status[1] if result.returncode == 0 and status[:1] == ["installed"] and len(status) > 1 else None


def latest_wheelhouse_deb(release: Release, options: BuildOptions) -> Path:
    if options.wheelhouse_deb:
        return options.wheelhouse_deb
    last = Ledger(options.state_dir / f"{release.wheelhouse_package}.ledger.json").last()
    found = sorted(options.out_dir.glob(f"{release.wheelhouse_package}_{last.version}_*.deb")) if last else []
    if not found:
        raise VenvdebError(
            f"no wheelhouse package for release {release.name} in {options.out_dir}",
            hint=f"build it first: venvdeb wheelhouse build {release.name}",
        )
    return found[0]


def wheelhouse_from_deb(release: Release, options: BuildOptions, work: Path) -> Wheelhouse:
    """The wheelhouse as the chroot will see it, read from the .deb without installing it here."""
    deb = latest_wheelhouse_deb(release, options)
    install_dir = "/" + wheel_dir(release.name)
    (work / "manifest.json").write_bytes(DebFile(str(deb)).data.get_content(f".{install_dir}/manifest.json"))
    return Wheelhouse.load(work, install_dir)


def ensure_wheelhouse(release: Release, options: BuildOptions, log) -> Wheelhouse:
    """Install the wheelhouse .deb on this host if it is not there at that version."""
    deb = latest_wheelhouse_deb(release, options)
    install_dir = "/" + wheel_dir(release.name)
    package = DebFile(str(deb))
    control = package.debcontrol()
    manifest = Path(install_dir) / "manifest.json"
    # Builds of several services may run at once on one host (two Buildbot workers): one installs.
    options.cache_dir.mkdir(parents=True, exist_ok=True)
    with open(options.cache_dir / "dpkg-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # The version alone is not enough: the manifest says what is inside.
        if not (installed_version(control["Package"]) == control["Version"] and manifest.is_file()
                and manifest.read_bytes() == manifest_of(deb, package, install_dir)):
            log(f"installing {deb.name} (the service's Build-Depends)")
            result = subprocess.run(install_argv(deb), capture_output=True, text=True,
                                    env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
            if result.returncode != 0:
                raise VenvdebError(f"installing {deb} failed:\n{result.stderr[-1500:]}", hint="run as root")
    return Wheelhouse.load(Path(install_dir), install_dir)


def install_argv(deb: Path) -> list[str]:
    # apt, not dpkg -i: it waits for the dpkg lock (another build or an apt run on this host)
    # instead of failing; --reinstall and --allow-downgrades because the content decides.
    return ["apt-get", "install", "--yes", "--reinstall", "--allow-downgrades", "--no-install-recommends",
            "-o", "DPkg::Lock::Timeout=600", str(deb.resolve())]


def manifest_of(deb: Path, package: DebFile, install_dir: str) -> bytes:
    """The wheelhouse build leaves a copy of the manifest beside the .deb; reading it from the
    .deb itself means decompressing all of it."""
    control = package.debcontrol()
    beside = deb.with_name(f"{control['Package']}_{control['Version']}.manifest.json")
    if beside.is_file():
        return beside.read_bytes()
    return package.data.get_content(f".{install_dir}/manifest.json")


@dataclass
class Prepared:
    inputs: RenderInputs
    ledger: Ledger
    cache: Cache

    @property
    def entry(self):
        return self.inputs.history[-1]


def prepare_build(release: Release, service: Service, options: BuildOptions, log=print) -> Prepared:
    """Everything a build needs before anything is built: validated, resolved, versioned."""
    cache = Cache(options.cache_dir, log=log)
    target = prepare(release.python, options.cache_dir, log=log)
    if options.isolation == "sbuild":
        wheelhouse = wheelhouse_from_deb(release, options, Path(tempfile.mkdtemp(prefix="venvdeb-wheelhouse-")))
    else:
        wheelhouse = ensure_wheelhouse(release, options, log)

    roots = [Root(r, f"service {service.name} ({service.path.name})") for r in service.root_requirements()]
    extra, own_wheel, reason = {}, None, options.reason
    if service.source.git:
        co = git_source.checkout(cache, target, service.source.git, service.source.branch, str(service.path))
        own_wheel = co.wheel
        name, version = wheel_name_version(co.wheel)
        extra[name] = {"name": name, "version": version, "file": co.wheel.name, "sha256": sha256_file(co.wheel),
                       "size": co.wheel.stat().st_size, "origin": "built", **wheelmeta.describe(co.wheel)}
        roots.insert(0, Root(Requirement(f"{name}=={version}"), f"service {service.name} (git {co.commit[:12]})"))
        upstream_name, upstream_version, homepage = name, version, service.source.git
        if options.reason == BuildOptions.reason:
            reason = f"Build {service.source.branch} at {co.commit[:12]}: {co.subject}"
    else:
        upstream_name, upstream_version = service.source.pypi, service.source.version
        homepage = f"https://pypi.org/project/{service.source.pypi}/"
    items = closure(wheelhouse, roots, target.markers, list(target.tags), extra)

    ledger = Ledger(options.state_dir / f"{service.package}.ledger.json")
    previous = ledger.last()
    version = next_version(debian_upstream(upstream_version), previous.version if previous else None,
                           str(service.path))
    digest = hashlib.sha256("".join(f"{w['name']} {w['sha256']}\n" for w in items).encode()).hexdigest()
    entry = ledger.rebuild_entry(version, digest, {w["name"]: w["version"] for w in items},
                                 reason if reason.endswith(".") else reason + ".",
                                 (wheelhouse.package, wheelhouse.version))
    inputs = RenderInputs(release=release, service=service, wheelhouse=wheelhouse, closure=items,
                          history=ledger.history(entry), python_version=target.version,
                          upstream_name=upstream_name, upstream_version=upstream_version,
                          homepage=homepage, own_wheel=own_wheel)
    return Prepared(inputs, ledger, cache)


def render_only(release: Release, service: Service, output: Path, reason: str, cache_dir: Path,
                state_dir: Path, out_dir: Path) -> dict:
    if output.exists():
        raise VenvdebError(f"{output}: already exists; render into a new directory")
    output.parent.mkdir(parents=True, exist_ok=True)
    prepared = prepare_build(release, service, BuildOptions(cache_dir=cache_dir, out_dir=out_dir,
                                                             state_dir=state_dir, reason=reason))
    tmp = Path(tempfile.mkdtemp(dir=output.parent, prefix=".render-"))
    try:
        render(prepared.inputs, tmp / "tree")
        (tmp / "tree").rename(output)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"package": service.package, "version": prepared.entry.version, "tree": str(output)}


def build(release: Release, service: Service, options: BuildOptions, log=print) -> dict:
    started = time.monotonic()
    if options.isolation == "host":
        builddeps.ensure(HOST_BUILD_DEPENDS, options.install_build_deps, "building service packages", log)
    prepared = prepare_build(release, service, options, log)
    inputs, entry = prepared.inputs, prepared.entry
    options.out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"venvdeb-{service.package}-"))
    try:
        tree = render(inputs, work / f"{service.package}-{debian_upstream(inputs.upstream_version)}")
        log_file = options.out_dir / "logs" / f"{service.package}_{entry.version}.build.log"
        log(f"building {service.package} {entry.version} from {inputs.wheelhouse.describe()} ({options.isolation})")
        if options.isolation == "sbuild":
            deb = build_in_sbuild(tree, latest_wheelhouse_deb(release, options), release.distribution,
                                  options.cache_dir, log_file)
        else:
            deb = build_tree(tree, prepared.cache, log_file)
        final = options.out_dir / deb.name
        tmp = final.with_name(f".{final.name}.part")
        shutil.copyfile(deb, tmp)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    prepared.ledger.add(entry)
    control = DebFile(str(final)).debcontrol()
    return {
        "package": service.package, "version": entry.version, "deb": str(final), "deb_size": final.stat().st_size,
        "installed_size_kib": int(control["Installed-Size"]), "architecture": control["Architecture"],
        "depends": control["Depends"], "wheelhouse": inputs.wheelhouse.describe(),
        "distributions": len(inputs.closure), "seconds": round(time.monotonic() - started, 1),
        "reason": entry.changes[0],
    }


def wheel_name_version(wheel: Path) -> tuple[str, str]:
    name, version, _, _ = parse_wheel_filename(wheel.name)
    return str(name), str(version)


def buildpackage_env(cache: Cache, epoch: int) -> dict:
    import uv

    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch), "LC_ALL": "C.UTF-8", "TZ": "UTC",
           "VENVDEB_UV": uv.find_uv_bin(), "UV_CACHE_DIR": str(cache.root / "uv"), "UV_NO_CONFIG": "1"}
    env.pop("MAKEFLAGS", None)
    for key in [k for k in env if k.startswith("PIP_")]:
        del env[key]
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def build_tree(tree: Path, cache: Cache, log_file: Path) -> Path:
    """dpkg-buildpackage in a rendered tree; the .deb it wrote beside the tree."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    epoch = epoch_of_date(Changelog((tree / "debian" / "changelog").read_text()).date)
    clamp_mtimes(tree, epoch)
    missing = subprocess.run(["dpkg-checkbuilddeps"], cwd=tree, capture_output=True, text=True)
    if missing.returncode != 0:
        raise VenvdebError(f"{tree.name}: {missing.stderr.strip()}",
                           hint="install them, or pass --install-build-deps")
    # -d: the Build-Depends were just checked, with a clearer message than dpkg-buildpackage's.
    result = subprocess.run(["dpkg-buildpackage", "-b", "-us", "-uc", "--no-pre-clean", "-d"], cwd=tree,
                            env=buildpackage_env(cache, epoch), capture_output=True, text=True)
    log_file.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
        raise VenvdebError(f"dpkg-buildpackage failed for {tree.name} (log: {log_file}):\n{tail}")
    debs = sorted(p for p in tree.parent.glob("*.deb") if not p.name.startswith(tree.name.split("-")[0] + "-dbgsym"))
    if len(debs) != 1:
        raise VenvdebError(f"dpkg-buildpackage produced {[d.name for d in debs]}, expected one .deb (log: {log_file})")
    return debs[0]
