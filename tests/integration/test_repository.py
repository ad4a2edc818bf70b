"""The signed repository for real: reprepro, gpg, apt in a clean chroot."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.conftest import write
from venvdeb.environment import images
from venvdeb.model import load_release
from venvdeb.repository import KEYRING, Repository
from venvdeb.repository import serving
from venvdeb.repository.gates import SERVICE as SERVICE_GATES
from venvdeb.repository.signing import make_throwaway, stop_agent
from venvdeb.files import sha256_file
from debian.debfile import DebFile
from venvdeb.gates.smoke import KEYRING_IN_CHROOT
from venvdeb.deb import sources_entry

pytestmark = [pytest.mark.integration]

STAGING = "bookworm-r1-staging"


def tiny_deb(where: Path, name: str, version: str = "1.0", payload: str = "hello") -> Path:
    tree = where / f"{name}-{version}-{payload}"
    write(tree / "DEBIAN" / "control", f"""
        Package: {name}
        Version: {version}
        Architecture: all
        Section: misc
        Priority: optional
        Maintainer: Test <test@example.org>
        Description: test package {name}
    """)
    write(tree / "usr" / "share" / name / "data.txt", payload + "\n")
    deb = where / f"{name}_{version}_{payload}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(deb)], check=True, capture_output=True)
    return deb


def passed_gates(repo: Repository, deb: Path, gates=("lint", "smoke")) -> Path:
    """The records the gates write for ``deb`` when it passes them: what publish requires. These
    tests are about the repository; the gates themselves run for real in test_lint_gate.py,
    test_pipeline.py and the smoke tests."""
    control = DebFile(str(deb)).debcontrol()
    for gate in gates:
        repo.record_gate(control["Package"], control["Version"], gate, {"passed": True}, sha256_file(deb))
    return deb


def stage(repo: Repository, deb: Path):
    """``deb`` into staging, its gates passed."""
    return repo.publish(STAGING, passed_gates(repo, deb), SERVICE_GATES)


@pytest.fixture
def repo(tmp_path, make_root):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")}, name="r1")
    key = make_throwaway(tmp_path / "gnupg")
    repository = Repository(tmp_path / "repo", key)
    repository.init([load_release(root, "r1")])
    yield repository
    stop_agent(key.gnupghome)


def publish_cli(repo: Repository, deb: Path) -> subprocess.Popen:
    passed_gates(repo, deb)
    return subprocess.Popen([sys.executable, "-m", "venvdeb", "--packaging", str(repo.base.parent / "packaging"),
                             "repo", "publish", STAGING, str(deb),
                             "--repo-dir", str(repo.base), "--gnupghome", str(repo.key.gnupghome)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def assert_consistent(repo: Repository) -> None:
    repo.reprepro("check")
    repo.reprepro("checkpool")


def apt_update_in_chroot(repo: Repository, cache_dir: Path, keyring: bytes | None = None,
                         suite: str = STAGING) -> subprocess.CompletedProcess:
    with serving(repo.base) as url, images.smoke("bookworm", cache_dir).fresh() as ch:
        ch.write(KEYRING_IN_CHROOT, keyring or (repo.base / KEYRING).read_bytes())
        # Only our suite: what apt says is about it alone.
        ch.write("/etc/apt/sources.list", "")
        ch.write("/etc/apt/sources.list.d/debian.sources", "")
        ch.write("/etc/apt/sources.list.d/venvdeb.sources", sources_entry(url, suite, KEYRING_IN_CHROOT))
        return ch.run(["apt-get", "update", "-o", "APT::Update::Error-Mode=any"])


def test_a_run_killed_before_its_snapshot_is_completed_by_the_next(repo, tmp_path):
    """publish and promote are includedeb (copyfilter), then gensnapshot: killed between the two,
    the package is in the suite without the snapshot a rollback to it needs; the retry makes it."""
    deb = passed_gates(repo, tiny_deb(tmp_path, "pkg-s"), ("lint", "smoke", "rebuild"))
    repo.reprepro("includedeb", STAGING, str(deb))  # what the killed publish did
    assert repo.snapshots(STAGING) == []
    again = stage(repo, deb)
    assert again.published is False and repo.snapshots(STAGING) == ["pkg-s_1.0"]
    repo.reprepro("copyfilter", "bookworm-r1", STAGING, "Package (== pkg-s)")  # the killed promote
    promoted = repo.promote(STAGING, "bookworm-r1", "pkg-s", "1.0", ("lint", "smoke", "rebuild"))
    assert promoted.promoted is False and repo.snapshots("bookworm-r1") == ["pkg-s_1.0"]
    assert_consistent(repo)


def test_what_each_suite_holds_is_recorded_on_every_change_for_readers_that_run_no_tool(repo, tmp_path):
    """The release page reads Repository.suites: written by init, publish, promote and rollback."""
    # init publishes the repository's keyring package in every suite, and nothing else.
    assert {suite: set(packages) for suite, packages in repo.suites().items()} == {
        STAGING: {"venvdeb-archive-keyring"}, "bookworm-r1": {"venvdeb-archive-keyring"}}
    gates = ("lint", "smoke", "rebuild")
    first = passed_gates(repo, tiny_deb(tmp_path, "pkg-l", "1.0"), gates)
    repo.publish(STAGING, first, gates)
    assert repo.suites()[STAGING]["pkg-l"][0] == "1.0" and repo.suites()[STAGING]["pkg-l"][1].is_file()
    repo.promote(STAGING, "bookworm-r1", "pkg-l", "1.0", gates)
    repo.publish(STAGING, passed_gates(repo, tiny_deb(tmp_path, "pkg-l", "2.0"), gates), gates)
    assert {s: p["pkg-l"][0] for s, p in repo.suites().items()} == {STAGING: "2.0", "bookworm-r1": "1.0"}
    repo.restore(STAGING, "pkg-l", "1.0")
    assert repo.suites()[STAGING]["pkg-l"][0] == "1.0"


def test_refresh_signs_the_rollback_snapshots_again(repo, tmp_path, cache_dir):
    """A rollback's sources entry names a snapshot: a week after it was made apt would refuse it
    as expired, unless `repo refresh` signs it again with a new Valid-Until, as it does the suites."""
    import datetime

    stage(repo, tiny_deb(tmp_path, "pkg-r"))
    snapshot = f"{STAGING}/snapshots/pkg-r_1.0"
    # As if it had been signed last eight days ago.
    repo.resign_snapshots(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=8))
    expired = apt_update_in_chroot(repo, cache_dir, suite=snapshot)
    assert expired.returncode != 0 and "InRelease is expired" in expired.stderr
    refreshed = repo.refresh()
    assert refreshed.valid_until[STAGING]
    update = apt_update_in_chroot(repo, cache_dir, suite=snapshot)
    assert update.returncode == 0, update.stdout + update.stderr


def test_publish_is_idempotent_and_a_changed_version_is_refused(repo, tmp_path):
    deb = tiny_deb(tmp_path, "pkg-a")
    assert stage(repo, deb).published is True
    again = stage(repo, deb)
    assert again.published is False and "same bytes" in again.reason
    other = passed_gates(repo, tiny_deb(tmp_path, "pkg-a", payload="different"))
    proc = subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(tmp_path / "packaging"), "repo",
                           "publish", STAGING, str(other),
                           "--repo-dir", str(repo.base), "--gnupghome", str(repo.key.gnupghome)],
                          capture_output=True, text=True)
    assert proc.returncode == 2  # a published version is immutable: the input must change
    assert f"{STAGING} already has pkg-a 1.0 with different bytes" in proc.stderr
    assert [vars(p) for p in repo.list(STAGING)] == [{"package": "pkg-a", "version": "1.0", "architecture": "all"}]
    # Two builds ran at once and the later version landed first: the suite keeps it, and says so.
    older = stage(repo, tiny_deb(tmp_path, "pkg-a", "0.9"))
    assert older.published is False and older.reason == f"{STAGING} has the newer 1.0"
    assert [vars(p) for p in repo.list(STAGING)] == [{"package": "pkg-a", "version": "1.0", "architecture": "all"}]
    assert_consistent(repo)


def test_eight_concurrent_publishes_all_land(repo, tmp_path, cache_dir):
    debs = [tiny_deb(tmp_path, f"pkg-{i}") for i in range(8)]
    procs = [publish_cli(repo, deb) for deb in debs]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    assert sorted(p.package for p in repo.list(STAGING)) == [f"pkg-{i}" for i in range(8)]
    assert_consistent(repo)
    update = apt_update_in_chroot(repo, cache_dir)
    assert update.returncode == 0, update.stdout + update.stderr


def test_twenty_killed_publishes_and_promotions_leave_a_consistent_usable_repository(repo, tmp_path, cache_dir):
    """SIGKILL at seeded random points of publish (10) and of promote (10), venvdeb and the
    reprepro it runs: each time reprepro's own checks pass and the next publish lands; at the end
    apt takes the suite."""
    from venvdeb.files import sha256_file

    rng = random.Random(1234)
    published = []
    for i in range(20):
        deb = tiny_deb(tmp_path, f"kill-{i}")
        if i % 2:  # promote: staged, gates recorded, then the promotion is killed
            stage(repo, deb)
            for gate in ("lint", "smoke", "rebuild"):
                repo.record_gate(f"kill-{i}", "1.0", gate, {"passed": True}, sha256_file(deb))
            proc = subprocess.Popen([sys.executable, "-m", "venvdeb", "--packaging", str(tmp_path / "packaging"),
                                     "repo", "promote", "r1", f"kill-{i}", "1.0", "--dist", "bookworm",
                                     "--repo-dir", str(repo.base), "--gnupghome", str(repo.key.gnupghome)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        else:
            proc = publish_cli(repo, deb)
        time.sleep(rng.uniform(0.05, 0.6))
        # The whole process group: venvdeb and the reprepro (and gpg) it runs.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        survivor = tiny_deb(tmp_path, f"after-{i}")
        assert stage(repo, survivor).published is True
        published.append(f"after-{i}")
        assert_consistent(repo)
    names = {p.package for p in repo.list(STAGING)}
    assert set(published) <= names
    update = apt_update_in_chroot(repo, cache_dir)
    assert update.returncode == 0, update.stdout + update.stderr


def test_stale_lock_is_cleared_only_when_no_reprepro_holds_it(repo, tmp_path):
    lock = repo.base / "db" / "lockfile"
    lock.write_text("")
    # A process that looks like a reprepro working on this repository.
    holder = subprocess.Popen(["reprepro", "-c", "import time; time.sleep(60)", "--basedir", str(repo.base)],
                              executable=sys.executable)
    try:
        time.sleep(0.2)
        assert repo.reprepro_running()
        assert repo.clear_stale_lock() is False and lock.exists()
    finally:
        holder.kill()
        holder.wait()
    assert repo.clear_stale_lock() is True and not lock.exists()
    assert stage(repo, tiny_deb(tmp_path, "pkg-z")).published
    assert_consistent(repo)


def test_apt_refuses_a_tampered_packages_file(repo, tmp_path, cache_dir):
    stage(repo, tiny_deb(tmp_path, "pkg-t"))
    assert apt_update_in_chroot(repo, cache_dir).returncode == 0
    packages = repo.base / "dists" / STAGING / "main" / "binary-amd64" / "Packages"
    packages.write_text(packages.read_text().replace("Description: test package pkg-t", "Description: evil"))
    for compressed in packages.parent.glob("Packages.*"):
        compressed.unlink()
    update = apt_update_in_chroot(repo, cache_dir)
    assert update.returncode != 0
    assert "Hash Sum mismatch" in update.stdout + update.stderr or "File has unexpected size" in update.stdout + update.stderr


def test_apt_refuses_a_suite_signed_with_another_key(repo, tmp_path, cache_dir):
    stage(repo, tiny_deb(tmp_path, "pkg-k"))
    stranger = make_throwaway(tmp_path / "stranger")
    from venvdeb.repository.signing import gpg

    keyring = gpg(stranger.gnupghome, "--export", stranger.fingerprint)
    stop_agent(stranger.gnupghome)
    update = apt_update_in_chroot(repo, cache_dir, keyring=keyring)
    assert update.returncode != 0
    assert "NO_PUBKEY" in update.stdout + update.stderr or "not signed" in update.stdout + update.stderr


# -- venvdeb wheelhouse fetch: what a Buildbot worker takes from the staging suite ---------------

def test_fetch_takes_the_wheelhouse_from_the_signed_suite(repo, tmp_path, make_root):
    from venvdeb.repository.fetch import fetch

    release = load_release(tmp_path / "packaging", "r1").at("bookworm")
    stage(repo, tiny_deb(tmp_path, release.wheelhouse_package, "3"))
    with serving(repo.base) as url:
        got = fetch(release, url, repo.base / KEYRING, tmp_path / "fetched")
    assert (got.package, got.version) == (release.wheelhouse_package, "3")
    assert Path(got.deb).read_bytes() == (tmp_path / f"{release.wheelhouse_package}_3_hello.deb").read_bytes()


def test_fetch_refuses_a_tampered_index_and_a_foreign_key(repo, tmp_path):
    from venvdeb.errors import VenvdebError
    from venvdeb.repository.signing import gpg
    from venvdeb.repository.fetch import fetch

    release = load_release(tmp_path / "packaging", "r1").at("bookworm")
    stage(repo, tiny_deb(tmp_path, release.wheelhouse_package, "3"))
    stranger = make_throwaway(tmp_path / "stranger")
    foreign = tmp_path / "foreign.gpg"
    foreign.write_bytes(gpg(stranger.gnupghome, "--export", stranger.fingerprint))
    stop_agent(stranger.gnupghome)
    with serving(repo.base) as url:
        with pytest.raises(VenvdebError) as exc:
            fetch(release, url, foreign, tmp_path / "a")
        assert "bad or unknown signature" in str(exc.value)
        for index in (repo.base / "dists" / STAGING / "main" / "binary-amd64").glob("Packages*"):
            index.write_bytes(index.read_bytes().replace(b"Version: 3", b"Version: 4") if index.suffix == ""
                              else index.read_bytes()[:-8] + b"tampered")
        with pytest.raises(VenvdebError) as exc:
            fetch(release, url, repo.base / KEYRING, tmp_path / "b")
        assert "does not match the signed InRelease" in str(exc.value)
    assert not list((tmp_path / "a").glob("*.deb")) + list((tmp_path / "b").glob("*.deb"))


# -- replays: a signed InRelease stays signed, so it must also be fresh and the suite's own ------

def resigned(repo: Repository, suite: str, **fields: str) -> bytes:
    """``suite``'s Release with ``fields`` changed, signed by the repository's key: an InRelease
    the repository could have served at another time."""
    from debian.deb822 import Release

    from venvdeb.repository.signing import gpg

    release = Release((repo.base / "dists" / suite / "Release").read_bytes())
    for name, value in fields.items():
        release[name.replace("_", "-")] = value
    return gpg(repo.key.gnupghome, "--local-user", repo.key.fingerprint, "--clearsign",
               input=release.dump().encode())


def apt_updates(repo: Repository, cache_dir: Path,
                inreleases: list[bytes]) -> list[tuple[subprocess.CompletedProcess, bytes]]:
    """apt-get update in one clean chroot, once with each InRelease served in turn; each result
    with the InRelease apt holds afterwards (what it took, or kept)."""
    where = repo.base / "dists" / STAGING / "InRelease"
    kept, results = where.read_bytes(), []
    try:
        with serving(repo.base) as url, images.smoke("bookworm", cache_dir).fresh() as ch:
            ch.write(KEYRING_IN_CHROOT, (repo.base / KEYRING).read_bytes())
            ch.write("/etc/apt/sources.list", "")
            ch.write("/etc/apt/sources.list.d/debian.sources", "")
            ch.write("/etc/apt/sources.list.d/venvdeb.sources", sources_entry(url, STAGING, KEYRING_IN_CHROOT))
            for n, inrelease in enumerate(inreleases, 1):
                where.write_bytes(inrelease)
                later = time.time() + 10 * n  # a newer Last-Modified: no 304 to apt's If-Modified-Since
                os.utime(where, (later, later))
                result = ch.run(["apt-get", "update", "-o", "APT::Update::Error-Mode=any"])
                held = list(ch.path("/var/lib/apt/lists").glob(f"*_dists_{STAGING}_InRelease"))
                results.append((result, held[0].read_bytes() if held else b""))
    finally:
        where.write_bytes(kept)
    return results


def test_suites_are_valid_for_a_week_and_refresh_signs_them_again(repo, tmp_path):
    from email.utils import parsedate_to_datetime as date

    from debian.deb822 import Release

    first = Release((repo.base / "dists" / STAGING / "Release").read_bytes())
    assert (date(first["Valid-Until"]) - date(first["Date"])).days == 7
    time.sleep(1.1)
    proc = subprocess.run([sys.executable, "-m", "venvdeb", "repo", "refresh", "--json", "--repo-dir", str(repo.base),
                           "--gnupghome", str(repo.key.gnupghome)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    again = Release((repo.base / "dists" / STAGING / "Release").read_bytes())
    assert date(again["Date"]) > date(first["Date"]) and date(again["Valid-Until"]) > date(first["Valid-Until"])
    assert again["Valid-Until"] in proc.stdout


def test_fetch_and_apt_refuse_a_replayed_an_expired_and_another_suites_inrelease(repo, tmp_path, cache_dir):
    from venvdeb.errors import VenvdebError
    from venvdeb.repository.fetch import fetch

    release = load_release(tmp_path / "packaging", "r1").at("bookworm")
    stage(repo, tiny_deb(tmp_path, release.wheelhouse_package, "3"))
    inrelease = repo.base / "dists" / STAGING / "InRelease"
    old = inrelease.read_bytes()
    production = (repo.base / "dists" / "bookworm-r1" / "InRelease").read_bytes()
    expired = resigned(repo, STAGING, Date="Mon, 02 Nov 2026 10:00:00 UTC", Valid_Until="Mon, 09 Nov 2026 10:00:00 UTC")
    seen = tmp_path / "seen"
    with serving(repo.base) as url:
        assert fetch(release, url, repo.base / KEYRING, tmp_path / "a", seen_dir=seen).version == "3"
        time.sleep(1.1)
        repo.refresh()
        fetch(release, url, repo.base / KEYRING, tmp_path / "b", seen_dir=seen)
        current = inrelease.read_bytes()
        refused = {}
        for name, served in (("older", old), ("expired", expired), ("other suite", production)):
            inrelease.write_bytes(served)
            with pytest.raises(VenvdebError) as exc:
                fetch(release, url, repo.base / KEYRING, tmp_path / name, seen_dir=seen)
            refused[name] = str(exc.value)
            assert not (tmp_path / name).exists() or not list((tmp_path / name).iterdir())
        inrelease.write_bytes(current)
    assert "is older than one already seen" in refused["older"]
    assert f"{STAGING}: InRelease expired at Mon, 09 Nov 2026 10:00:00 UTC" in refused["expired"]
    assert f"InRelease for {STAGING} is signed for bookworm-r1" in refused["other suite"]

    # apt (2.6), once it has seen the suite: the older InRelease it ignores, keeping the newer
    # one it has (no error: it treats it as unchanged); the expired one and the other suite's
    # (signed later, so not merely older) it refuses with an error.
    time.sleep(2.5)
    signed_later = format_datetime(datetime.now(timezone.utc) - timedelta(seconds=1), usegmt=True)
    until = format_datetime(datetime.now(timezone.utc) + timedelta(days=7), usegmt=True)
    other_suite = resigned(repo, "bookworm-r1", Date=signed_later, Valid_Until=until)
    (ok, took), (older, kept), (stale, _), (other, still) = apt_updates(repo, cache_dir,
                                                                         [current, old, expired, other_suite])
    assert ok.returncode == 0 and took == current, ok.stdout + ok.stderr
    assert older.returncode == 0 and kept == current != old, older.stdout + older.stderr
    assert stale.returncode != 0 and "is expired" in stale.stdout + stale.stderr
    assert other.returncode != 0
    assert "changed its 'Codename' value from 'bookworm-r1-staging' to 'bookworm-r1'" in other.stderr
    assert still == current


def test_publish_refuses_what_was_not_asked_for_and_publishes_nothing(repo, tmp_path):
    """Issue 25: what a builder hands over is the package, version and architecture asked for, whole,
    and no larger than allowed; else it is refused, naming what differs, and nothing changes."""
    asked = ["--package", "venv-svc", "--version", "1.0-deb12u1", "--architecture", "all", "--max-size", "100000"]

    def publish(deb: Path, *expect: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(tmp_path / "packaging"),
                               "repo", "publish", STAGING, str(deb), *expect,
                               "--repo-dir", str(repo.base), "--gnupghome", str(repo.key.gnupghome)],
                              capture_output=True, text=True)

    def state() -> dict[str, bytes]:
        return {str(p.relative_to(repo.base)): p.read_bytes() for p in sorted(repo.base.rglob("*"))
                if p.is_file() and "db" not in p.relative_to(repo.base).parts[:1]}

    good = passed_gates(repo, tiny_deb(tmp_path, "venv-svc", "1.0-deb12u1"))
    before = state()
    truncated = tmp_path / "truncated.deb"
    truncated.write_bytes(good.read_bytes()[:-200])
    # Well-formed, and of the name and version asked for, but with 150 kB that do not compress.
    big = tmp_path / "big"
    tiny_deb(big, "venv-svc", "1.0-deb12u1", payload="big")
    (big / "venv-svc-1.0-deb12u1-big" / "usr" / "share" / "venv-svc" / "noise").write_bytes(os.urandom(150000))
    oversized = tmp_path / "oversized.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(big / "venv-svc-1.0-deb12u1-big"), str(oversized)],
                   check=True, capture_output=True)
    refused = {
        "another package": (tiny_deb(tmp_path, "libc6", "1.0-deb12u1"), "Package is 'libc6', not 'venv-svc'"),
        "another version": (tiny_deb(tmp_path, "venv-svc", "9.9-deb12u1"), "Version is '9.9-deb12u1', not '1.0-deb12u1'"),
        "truncated": (truncated, "not a whole Debian package"),
    }
    for what, (deb, said) in refused.items():
        proc = publish(deb, *asked)
        assert proc.returncode == 1 and said in proc.stderr, (what, proc.stderr)
    # An oversized one is refused for its size before it is read (it is well-formed otherwise).
    proc = publish(oversized, *asked)
    assert proc.returncode == 1 and f"{oversized.stat().st_size} bytes, more than the 100000" in proc.stderr
    assert repo.list(STAGING) == [] and state() == before  # nothing published, nothing of the repository changed

    proc = publish(good, *asked)
    assert proc.returncode == 0, proc.stderr
    assert [vars(p) for p in repo.list(STAGING)] == [{"package": "venv-svc", "version": "1.0-deb12u1",
                                                      "architecture": "all"}]


def test_publish_requires_each_gate_passed_for_exactly_its_bytes(repo, tmp_path):
    """Issue 25: `repo publish` refuses a .deb without passed lint and smoke records for its sha256
    (a wheelhouse: lint and verify), naming each gate missing and the command that runs it, and
    publishes nothing."""
    release = load_release(tmp_path / "packaging", "r1").at("bookworm")

    def publish(deb: Path, *more: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(tmp_path / "packaging"),
                               "repo", "publish", STAGING, str(deb), *more,
                               "--repo-dir", str(repo.base), "--gnupghome", str(repo.key.gnupghome)],
                              capture_output=True, text=True)

    deb = tiny_deb(tmp_path, "venv-svc", "1.0-deb12u1")
    proc = publish(deb)
    assert proc.returncode == 1
    assert "venv-svc 1.0-deb12u1 cannot be published to bookworm-r1-staging: lint: not run; smoke: not run" in proc.stderr
    assert f"venvdeb lint {deb} --record" in proc.stderr
    passed_gates(repo, deb, ("lint",))
    repo.record_gate("venv-svc", "1.0-deb12u1", "smoke", {"passed": False}, sha256_file(deb))
    proc = publish(deb)
    assert proc.returncode == 1 and "cannot be published to bookworm-r1-staging: smoke: failed" in proc.stderr
    # Another build of the same version, gated: the records are its, not this file's.
    passed_gates(repo, tiny_deb(tmp_path, "venv-svc", "1.0-deb12u1", payload="rebuilt"))
    proc = publish(deb)
    assert proc.returncode == 1 and "lint: recorded for another file" in proc.stderr
    assert repo.list(STAGING) == []
    # The wheelhouse's own gates: lint and verify (smoke means nothing for it).
    wheelhouse = passed_gates(repo, tiny_deb(tmp_path, release.wheelhouse_package, "3"), ("lint", "smoke"))
    proc = publish(wheelhouse)
    assert proc.returncode == 1 and "verify: not run" in proc.stderr
    assert f"venvdeb wheelhouse verify <release> {wheelhouse} --record" in proc.stderr
    passed_gates(repo, wheelhouse, ("verify",))
    assert publish(wheelhouse).returncode == 0
    # A farm that runs no smoke names the gates it requires: lint alone.
    passed_gates(repo, deb, ("lint",))
    assert publish(deb, "--gates", "lint").returncode == 0
    assert sorted(p.package for p in repo.list(STAGING)) == [release.wheelhouse_package, "venv-svc"]

    def promote(package: str, version: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(tmp_path / "packaging"), "repo",
                               "promote", "r1", package, version, "--dist", "bookworm", "--repo-dir", str(repo.base),
                               "--gnupghome", str(repo.key.gnupghome)], capture_output=True, text=True)

    # Promotion wants the package's own gates whatever staging took: smoke for the service...
    refused = promote("venv-svc", "1.0-deb12u1")
    assert refused.returncode == 1 and "gate(s) not passed: smoke" in refused.stderr
    # ... lint, verify and its rebuild for the wheelhouse, which has no smoke.
    refused = promote(release.wheelhouse_package, "3")
    assert refused.returncode == 1 and "gate(s) not passed: rebuild: not run" in refused.stderr
    assert f"venvdeb wheelhouse rebuild <release> <{release.wheelhouse_package}_3.deb> --record" in refused.stderr
    passed_gates(repo, wheelhouse, ("rebuild",))
    promoted = promote(release.wheelhouse_package, "3")
    assert promoted.returncode == 0, promoted.stderr
    assert [p.package for p in repo.list("bookworm-r1")] == [release.wheelhouse_package]
