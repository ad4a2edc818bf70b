"""A release for another distribution than the host's: its builds run in a clean chroot of that
distribution, with its own interpreter, and smoke runs in one too. The host is bookworm; the
target here is trixie (Python 3.13)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from debian.debfile import DebFile

from venvdeb.environment import Chroot, Host, for_build
from venvdeb.repository.signing import stop_agent

from .conftest import TINY_UC
from .test_service_build import SERVICE_EXTRA

pytestmark = [pytest.mark.integration, pytest.mark.network]

TARGET = "trixie"


@pytest.fixture(autouse=True)
def other_than_the_host():
    if Host().distribution == TARGET:
        pytest.skip(f"this host is {TARGET}: the target must be another distribution")
    if Host().distribution not in ("bookworm", "trixie"):
        pytest.skip("the host's own distribution must be one venvdeb builds for")


WRITE = "import sys; open(sys.argv[1], 'w').write('inside')"


@pytest.mark.parametrize("distribution", [TARGET, Host().distribution])
def test_a_build_chroot_reads_the_cache_and_writes_only_its_scratch(cache_dir, distribution):
    """Every build runs in a chroot, for the host's own distribution too: it reads the cache,
    cannot write it, and writes its scratch directory, which goes with it."""
    seen = cache_dir / "seen-inside"
    seen.parent.mkdir(parents=True, exist_ok=True)
    seen.write_text("the host's")
    with for_build(distribution, "test", cache_dir) as env:
        assert isinstance(env, Chroot) and env.distribution == distribution
        version = env.run(["/usr/bin/python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], check=True)
        assert version.stdout.strip() == {"bookworm": "3.11", "trixie": "3.13"}[distribution]
        assert env.run(["cat", str(seen)], check=True).stdout == "the host's"
        planted = env.run(["/usr/bin/python3", "-c", WRITE, str(cache_dir / "planted")])
        assert planted.returncode != 0 and "Read-only file system" in planted.stderr
        # The mount's own flag, locked: the chroot's root cannot make it writable again.
        remount = env.run(["mount", "-o", "remount,bind,rw", str(cache_dir)])
        assert remount.returncode != 0 and env.run(["/usr/bin/python3", "-c", WRITE, str(cache_dir / "planted")]).returncode
        env.run(["/usr/bin/python3", "-c", WRITE, str(env.scratch / "work")], check=True)
        assert (env.scratch / "work").read_text() == "inside"  # the host sees the scratch directory
        root, scratch = env.root, env.scratch
    assert not (cache_dir / "planted").exists()
    assert not root.exists() and not scratch.exists()


def test_commands_enter_one_chroot_at_once(cache_dir):
    """A wheelhouse's sdist builds run their commands in one chroot at once: each enters with a
    /proc of its own (a shared directory for the outer /proc, removed and made again by the next
    command, unmounted it under another's feet: about 15 in 100 such commands failed)."""
    from concurrent.futures import ThreadPoolExecutor

    with for_build(Host().distribution, "test", cache_dir) as env:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda _: env.run(["/bin/sh", "-c", "test -r /proc/self/status"]), range(60)))
    failed = [r.stderr[-300:] for r in results if r.returncode != 0]
    assert not failed, f"{len(failed)} of 60 failed; the first: {failed[0]}"


def test_a_release_for_the_target_builds_and_smokes_in_its_chroots(make_root, tmp_path, cache_dir):
    root = make_root(TINY_UC, {"svc": ("charset-normalizer", "3.4.2")}, name="x1",
                     service_extra=SERVICE_EXTRA, scripts=("normalizer",))
    release = root / "releases" / "x1.toml"
    release.write_text(release.read_text().replace("bookworm", TARGET))
    service = root / "services" / "svc.toml"
    service.write_text(service.read_text().replace('["svc --version"]', '["normalizer --version"]'))
    repo = ["--repo-dir", str(tmp_path / "repo"), "--gnupghome", str(tmp_path / "gnupg")]
    dirs = ["--cache-dir", str(cache_dir), "--out-dir", str(tmp_path / "out"), "--state-dir", str(tmp_path / "state")]

    def venvdeb(*args):
        proc = subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(root), *args, "--json"],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-4000:]
        return json.loads(proc.stdout)

    try:
        venvdeb("repo", "init", "--make-key", *repo)
        result = venvdeb("pipeline", "x1", "--no-piuparts", *dirs, *repo)
    finally:
        stop_agent(tmp_path / "gnupg")
    assert result["passed"] and result["published"]
    out = tmp_path / "out" / "x1"
    manifest = json.loads(next(out.glob("test-wheelhouse-x1_*.manifest.json")).read_text())
    assert manifest["interpreter"] == "cp313" and manifest["python"].startswith("3.13.")
    wheels = {w["name"]: w["file"] for w in manifest["wheels"]}
    assert "-cp313-" in wheels["charset-normalizer"]
    deb = next(out.glob("venv-svc_*.deb"))
    control = DebFile(str(deb)).debcontrol()
    assert "python3 (>= 3.13), python3 (<< 3.14)" in control["Depends"]
    smoke = next(s for s in result["stages"] if s["stage"] == "smoke")
    assert smoke["passed"] and (cache_dir / "chroots" / f"{TARGET}.tar").is_file()  # in a chroot of the target
